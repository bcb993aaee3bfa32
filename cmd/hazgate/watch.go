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
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/hazgate/hazgate/uplink"
	feedwatch "github.com/hazgate/hazgate/watch" // run_test.go has a watch
)

// cmdWatch is `hazgate watch`: the safety office's view of the feed, each
// gate live, with the gaps and duplicates in its events (watch package;
// docs/uplink.md "Watching the feed").
func cmdWatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const use = "usage: hazgate watch -broker URL [-root hazgate/<park> | hazgate] [-json] [-ca FILE] [-cert FILE -key FILE] [-replay-key FILE]"
	fs := flag.NewFlagSet("watch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	broker := fs.String("broker", "", "the broker `URL`: tcp://host:1883, ssl://host:8883")
	root := fs.String("root", "hazgate", "the topic `ROOT` to watch: hazgate/<park> for a park, hazgate for a city")
	asJSON := fs.Bool("json", false, "print each event as it comes, one JSON object a line, with gap and duplicate lines")
	ca := fs.String("ca", "", "the CA `FILE` that verifies the broker (TLS)")
	cert := fs.String("cert", "", "the client certificate `FILE` (TLS)")
	key := fs.String("key", "", "the client certificate's key `FILE` (TLS)")
	replayKey := fs.String("replay-key", "", "a private key `FILE` (hazgate keygen): ask a gate to replay each gap once, by a signed cmd/replay")
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
	opts.SetOnConnectHandler(func(c mqtt.Client) {
		// A clean session: subscribe again on every connection.
		t := c.Subscribe(topic, 1, deliver)
		if t.WaitTimeout(10*time.Second) && t.Error() != nil {
			fmt.Fprintf(stderr, "watch: could not subscribe to %s: %v\n", topic, t.Error())
		}
	})
	opts.SetConnectionLostHandler(func(_ mqtt.Client, err error) {
		fmt.Fprintf(stderr, "watch: lost the broker (%v); connecting again\n", err)
	})
	client := mqtt.NewClient(opts)

	var replay feedwatch.ReplayFunc
	if priv != nil {
		replay = func(gate string, from, to int64) error {
			t, err := askReplay(client, priv, gate, from, to)
			if err != nil {
				return err
			}
			// Not waited for here: this goroutine reads the messages, and
			// paho may need it to before it can take the PUBACK.
			go func() {
				if !t.WaitTimeout(10 * time.Second) {
					fmt.Fprintf(stderr, "watch: the broker did not take the replay request for %s events %d to %d within 10 s\n", gate, from, to)
				} else if t.Error() != nil {
					fmt.Fprintf(stderr, "watch: could not ask %s to replay events %d to %d: %v\n", gate, from, to, t.Error())
				}
			}()
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
	if !*asJSON {
		fmt.Fprintf(stdout, "watching %s on %s\n", topic, *broker)
	}
	out := watchPrinter{w: w, out: stdout, json: *asJSON}
	for {
		select {
		case <-ctx.Done():
			if !*asJSON {
				for _, g := range w.Gates() {
					fmt.Fprintln(stdout, g.Summary())
				}
			}
			return nil
		case m := <-msgs:
			notes, err := w.Handle(m.Topic(), m.Payload())
			if err != nil {
				fmt.Fprintf(stderr, "watch: passed over a message: %v\n", err)
				continue
			}
			for _, e := range w.ReplayErrors {
				fmt.Fprintf(stderr, "watch: %s\n", e)
			}
			w.ReplayErrors = nil
			out.print(notes, m.Payload())
		}
	}
}

// watchPrinter writes the notes: a line of plain words per change, or
// JSON lines with -json.
type watchPrinter struct {
	w    *feedwatch.Watcher
	out  io.Writer
	json bool
}

func (p watchPrinter) print(notes []feedwatch.Note, payload []byte) {
	for _, n := range notes {
		if p.json {
			p.printJSON(n, payload)
			continue
		}
		switch n.Kind {
		case feedwatch.KindEvent, feedwatch.KindStatus, feedwatch.KindOnline:
			line := n.Text()
			if g := p.w.Gate(n.Gate); g != nil {
				line = g.Summary()
			}
			fmt.Fprintln(p.out, line)
		default:
			fmt.Fprintln(p.out, n.Text())
		}
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
		line, _ = json.Marshal(map[string]any{"availability": map[string]string{"gate": n.Gate, "state": n.Online}})
	case feedwatch.KindGap:
		line, _ = json.Marshal(map[string]any{"gap": map[string]any{"gate": n.Gate, "from_seq": n.From, "to_seq": n.To, "text": n.Text()}})
	case feedwatch.KindFilled:
		line, _ = json.Marshal(map[string]any{"filled": map[string]any{"gate": n.Gate, "seq": n.Seq, "id": n.ID, "text": n.Text()}})
	case feedwatch.KindDuplicate:
		line, _ = json.Marshal(map[string]any{"duplicate": map[string]any{"gate": n.Gate, "seq": n.Seq, "id": n.ID, "conflict": false, "text": n.Text()}})
	case feedwatch.KindConflict:
		line, _ = json.Marshal(map[string]any{"duplicate": map[string]any{"gate": n.Gate, "seq": n.Seq, "id": n.ID, "other_id": n.Other, "conflict": true, "text": n.Text()}})
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
