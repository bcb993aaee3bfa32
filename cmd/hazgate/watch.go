package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/hazgate/hazgate/uplink"
	feedwatch "github.com/hazgate/hazgate/watch" // run_test.go has a watch
)

// cmdWatch is `hazgate watch`: the safety office's view of the feed, each
// gate live, with the gaps and duplicates in its events (watch package;
// docs/uplink.md "Watching the feed").
func cmdWatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const use = "usage: hazgate watch -broker URL [-root hazgate/<park> | hazgate] [-json] [-lang en|zh] [-ca FILE] [-cert FILE -key FILE] [-replay-key FILE [-replay-after D]] [-once-after D]"
	fs := flag.NewFlagSet("watch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	broker := fs.String("broker", "", "the broker `URL`: tcp://host:1883, ssl://host:8883")
	root := fs.String("root", "hazgate", "the topic `ROOT` to watch: hazgate/<park> for a park, hazgate for a city")
	asJSON := fs.Bool("json", false, "print each event as it comes, one JSON object a line, with gap, filled, duplicate and replay_asked lines")
	ca := fs.String("ca", "", "the CA `FILE` that verifies the broker (TLS)")
	cert := fs.String("cert", "", "the client certificate `FILE` (TLS)")
	key := fs.String("key", "", "the client certificate's key `FILE` (TLS)")
	replayKey := fs.String("replay-key", "", "a private key `FILE` (hazgate keygen): ask a gate to replay each gap once, by a signed cmd/replay")
	langFlag := fs.String("lang", "en", "the `LANGUAGE` of the lines a person reads: en or zh")
	replayAfter := fs.Duration("replay-after", 5*time.Second, "with -replay-key: how long a gap stands before the gate is asked to replay what is still missing of it")
	onceAfter := fs.Duration("once-after", 0, "stop after this long and print every gate (for tests and scripts); 0: until interrupted")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *broker == "" || fs.NArg() > 0 {
		return usageError{use}
	}
	r := strings.TrimSuffix(*root, "/")
	if r == "" || strings.ContainsAny(r, "#+") {
		return usageError{fmt.Sprintf("-root %q: a topic root without wildcards, e.g. hazgate/ningbo-chem", *root)}
	}
	lang, err := feedwatch.ParseLang(*langFlag)
	if err != nil {
		return usageError{"-lang: " + err.Error()}
	}
	if *replayAfter < 0 {
		return usageError{"-replay-after: a duration of 0 or more, e.g. 5s"}
	}
	if (*cert == "") != (*key == "") {
		return usageError{"-cert and -key go together"}
	}
	tlsConf, err := watchTLS(*broker, *ca, *cert, *key)
	if err != nil {
		return err
	}
	var priv ed25519.PrivateKey
	if *replayKey != "" {
		if priv, err = loadPrivateKey(*replayKey); err != nil {
			return fmt.Errorf("-replay-key: %w", err)
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if *onceAfter > 0 {
		ctx, cancel = context.WithTimeout(ctx, *onceAfter)
		defer cancel()
	}
	msgs := make(chan mqtt.Message, 4096)
	deliver := func(_ mqtt.Client, m mqtt.Message) {
		select { // only queues; blocks paho while the queue is full, never past the end
		case msgs <- m:
		case <-ctx.Done():
		}
	}
	opts := mqtt.NewClientOptions().
		AddBroker(*broker).
		SetClientID("hazgate-watch-" + uplink.NewNonce()[:12]).
		SetCleanSession(true).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(5 * time.Second).
		SetKeepAlive(30 * time.Second).
		SetWriteTimeout(10 * time.Second).
		SetOrderMatters(true). // one gate's events in the order they came
		SetDefaultPublishHandler(deliver)
	if tlsConf != nil {
		opts.SetTLSConfig(tlsConf)
	}
	topic := r + "/#"
	subscribed := make(chan struct{})
	var subscribedOnce sync.Once
	opts.SetOnConnectHandler(func(c mqtt.Client) {
		// A clean session: subscribe again on every connection.
		t := c.Subscribe(topic, 1, deliver)
		switch {
		case !t.WaitTimeout(10 * time.Second):
			fmt.Fprintf(stderr, "watch: the broker did not confirm the subscription to %s within 10 s: events may be missed until it does\n", topic)
		case t.Error() != nil:
			fmt.Fprintf(stderr, "watch: could not subscribe to %s: %v\n", topic, t.Error())
		default:
			subscribedOnce.Do(func() { close(subscribed) })
		}
	})
	opts.SetConnectionLostHandler(func(_ mqtt.Client, err error) {
		fmt.Fprintf(stderr, "watch: lost the broker (%v); connecting again\n", err)
	})
	client := mqtt.NewClient(opts)

	// A gap is asked for once, -replay-after after it was found, and
	// only for what is still missing then: an event late on the way
	// needs no replay, and a gate marks an event sent a moment after
	// its PUBACK (it replays only what it has marked).
	var replay feedwatch.ReplayFunc
	due := make(chan replayAsked)
	if priv != nil {
		replay = func(gate string, from, to int64) error {
			a := replayAsked{gate, from, to}
			time.AfterFunc(*replayAfter, func() {
				select {
				case due <- a:
				case <-ctx.Done():
				}
			})
			return nil
		}
	}
	w := feedwatch.New(replay)

	t := client.Connect()
	select {
	case <-t.Done():
		if t.Error() != nil {
			return fmt.Errorf("watch: cannot reach the broker %s: %v", *broker, t.Error())
		}
	case <-ctx.Done():
		client.Disconnect(0)
		return nil
	}
	defer client.Disconnect(250)
	// Said once the broker confirmed the subscription: from then on
	// nothing published under the root is missed. With -json, stdout
	// holds only JSON lines, so it goes to stderr.
	select {
	case <-subscribed:
	case <-ctx.Done():
		return nil
	}
	started := fmt.Sprintf("watching %s on %s", topic, *broker)
	if lang == feedwatch.ZH {
		started = fmt.Sprintf("正在监看 %s（%s）", topic, *broker)
	}
	if *asJSON {
		fmt.Fprintf(stderr, "watch: %s\n", started)
	} else {
		fmt.Fprintln(stdout, started)
	}
	out := watchPrinter{w: w, out: stdout, json: *asJSON, lang: lang}
	for {
		select {
		case <-ctx.Done():
			if !*asJSON {
				for _, g := range w.Gates() {
					fmt.Fprintln(stdout, g.SummaryIn(lang))
				}
			}
			return nil
		case m := <-msgs:
			notes, err := w.HandleMessage(m.Topic(), m.Payload(), m.Retained())
			if err != nil {
				fmt.Fprintf(stderr, "watch: passed over a message: %v\n", err)
				continue
			}
			for _, e := range w.ReplayErrors {
				fmt.Fprintf(stderr, "watch: %s\n", e)
			}
			w.ReplayErrors = nil
			out.print(notes, m.Payload())
		case a := <-due:
			g := w.Gate(a.gate)
			for _, r := range g.Missing() {
				from, to := max(r.From, a.from), min(r.To, a.to)
				if from > to {
					continue
				}
				t, err := askReplay(client, priv, a.gate, from, to)
				if err != nil {
					fmt.Fprintf(stderr, "watch: could not ask %s to replay events %d to %d: %v\n", a.gate, from, to, err)
					continue
				}
				out.printAsked(replayAsked{a.gate, from, to})
				// Not waited for here: this goroutine reads the messages,
				// and paho may need it to before it can take the PUBACK.
				go func() {
					if !t.WaitTimeout(10 * time.Second) {
						fmt.Fprintf(stderr, "watch: the broker did not take the replay request for %s events %d to %d within 10 s\n", a.gate, from, to)
					} else if t.Error() != nil {
						fmt.Fprintf(stderr, "watch: could not ask %s to replay events %d to %d: %v\n", a.gate, from, to, t.Error())
					}
				}()
			}
		}
	}
}

// watchPrinter writes the notes: a line of plain words per change, or
// JSON lines with -json.
type watchPrinter struct {
	w    *feedwatch.Watcher
	out  io.Writer
	json bool
	lang feedwatch.Lang
}

func (p watchPrinter) print(notes []feedwatch.Note, payload []byte) {
	for _, n := range notes {
		if p.json {
			p.printJSON(n, payload)
			continue
		}
		switch n.Kind {
		case feedwatch.KindEvent, feedwatch.KindStatus, feedwatch.KindOnline:
			line := n.TextIn(p.lang)
			if g := p.w.Gate(n.Gate); g != nil {
				line = g.SummaryIn(p.lang)
			}
			fmt.Fprintln(p.out, line)
		default:
			fmt.Fprintln(p.out, n.TextIn(p.lang))
		}
	}
}

// replayAsked is a replay the watch asked a gate for.
type replayAsked struct {
	gate     string
	from, to int64
}

func (p watchPrinter) printAsked(a replayAsked) {
	en := fmt.Sprintf("asked %s to replay events %d to %d (a signed replay command)", a.gate, a.from, a.to)
	zh := fmt.Sprintf("已请求 %s 重放第 %d 至 %d 条事件（签名的 replay 指令）", a.gate, a.from, a.to)
	switch {
	case p.json:
		line, _ := json.Marshal(map[string]any{"replay_asked": map[string]any{"gate": a.gate, "from_seq": a.from, "to_seq": a.to, "text": en, "text_zh": zh}})
		fmt.Fprintf(p.out, "%s\n", line)
	case p.lang == feedwatch.ZH:
		fmt.Fprintln(p.out, zh)
	default:
		fmt.Fprintln(p.out, en)
	}
}

func (p watchPrinter) printJSON(n feedwatch.Note, payload []byte) {
	var line []byte
	switch n.Kind {
	case feedwatch.KindEvent:
		var b bytes.Buffer
		if json.Compact(&b, payload) != nil {
			return
		}
		line = b.Bytes()
	case feedwatch.KindStatus:
		return // retained state, not an event
	case feedwatch.KindOnline:
		a := map[string]any{"gate": n.Gate, "state": n.Online}
		if n.Sending { // taken as online: it publishes, though its availability says offline
			a["sending"], a["text"], a["text_zh"] = true, n.Text(), n.TextIn(feedwatch.ZH)
		}
		line, _ = json.Marshal(map[string]any{"availability": a})
	case feedwatch.KindGap:
		line, _ = json.Marshal(map[string]any{"gap": map[string]any{"gate": n.Gate, "from_seq": n.From, "to_seq": n.To, "text": n.Text(), "text_zh": n.TextIn(feedwatch.ZH)}})
	case feedwatch.KindFilled:
		line, _ = json.Marshal(map[string]any{"filled": map[string]any{"gate": n.Gate, "seq": n.Seq, "id": n.ID, "text": n.Text(), "text_zh": n.TextIn(feedwatch.ZH)}})
	case feedwatch.KindDuplicate:
		line, _ = json.Marshal(map[string]any{"duplicate": map[string]any{"gate": n.Gate, "seq": n.Seq, "id": n.ID, "conflict": false, "text": n.Text(), "text_zh": n.TextIn(feedwatch.ZH)}})
	case feedwatch.KindConflict:
		line, _ = json.Marshal(map[string]any{"duplicate": map[string]any{"gate": n.Gate, "seq": n.Seq, "id": n.ID, "other_id": n.Other, "conflict": true, "text": n.Text(), "text_zh": n.TextIn(feedwatch.ZH)}})
	}
	fmt.Fprintf(p.out, "%s\n", line)
}

// askReplay publishes a signed cmd/replay for events from..to to the gate.
func askReplay(c mqtt.Client, priv ed25519.PrivateKey, gate string, from, to int64) (mqtt.Token, error) {
	args, _ := json.Marshal(uplink.ReplayArgs{FromSeq: from, ToSeq: to})
	by := os.Getenv("USER")
	if by == "" {
		by = "hazgate-watch"
	}
	now := time.Now()
	env, err := uplink.Sign(priv, uplink.Command{
		V: 1, Name: uplink.CmdReplay, Target: gate, Args: args, Nonce: uplink.NewNonce(),
		IssuedAt: now.UTC().Truncate(time.Second), ExpiresAt: now.Add(5 * time.Minute).UTC().Truncate(time.Second), By: by,
	})
	if err != nil {
		return nil, err
	}
	return c.Publish(gate+"/cmd/"+uplink.CmdReplay, 1, false, env), nil
}

// watchTLS is the TLS configuration for a TLS broker URL, nil for a plain one.
func watchTLS(broker, ca, cert, key string) (*tls.Config, error) {
	u, err := url.Parse(broker)
	if err != nil || u.Host == "" {
		return nil, usageError{fmt.Sprintf("-broker %q: not a URL like tcp://host:1883 or ssl://host:8883", broker)}
	}
	switch u.Scheme {
	case "ssl", "tls", "mqtts", "mqtt+ssl", "tcps", "wss":
	case "tcp", "mqtt", "ws":
		if ca != "" || cert != "" {
			return nil, usageError{"-ca, -cert and -key need a TLS broker URL (ssl://host:8883)"}
		}
		return nil, nil
	default:
		return nil, usageError{fmt.Sprintf("-broker %q: the scheme is not tcp or ssl", broker)}
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: u.Hostname()}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("-ca %s: no PEM certificate in it", ca)
		}
		conf.RootCAs = pool
	}
	if cert != "" {
		c, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("-cert %s / -key %s: %v", cert, key, err)
		}
		conf.Certificates = []tls.Certificate{c}
	}
	return conf, nil
}
