package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/hazgate/hazgate/uplink"
)

// lines is a writer a test can wait on for a line.
type lines struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	more chan struct{}
}

func newLines() *lines { return &lines{more: make(chan struct{}, 1)} }

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case l.more <- struct{}{}:
	default:
	}
	return l.buf.Write(p)
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// await waits until the output has n lines containing s.
func (l *lines) await(t *testing.T, s string, n int) {
	t.Helper()
	deadline := time.After(bound)
	for strings.Count(l.String(), s) < n {
		select {
		case <-l.more:
		case <-deadline:
			t.Fatalf("no %d lines with %q within %v; output:\n%s", n, s, bound, l.String())
		}
	}
}

// gatePublisher publishes a synthetic gate's feed as the uplink would.
type gatePublisher struct {
	t    *testing.T
	c    mqtt.Client
	root string
}

func newGatePublisher(t *testing.T, broker, root string) *gatePublisher {
	t.Helper()
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(broker).SetClientID("watchtest-gate").SetCleanSession(true))
	if tok := c.Connect(); !tok.WaitTimeout(bound) || tok.Error() != nil {
		t.Fatalf("gate publisher: connect: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return &gatePublisher{t: t, c: c, root: root}
}

func (g *gatePublisher) pub(topic string, retained bool, payload string) {
	g.t.Helper()
	tok := g.c.Publish(g.root+"/"+topic, 1, retained, payload)
	if !tok.WaitTimeout(bound) || tok.Error() != nil {
		g.t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

func (g *gatePublisher) passage(seq int, replay bool) {
	g.t.Helper()
	g.pub("events/passage", false, fmt.Sprintf(`{"schema":"hazgate.passage/1","id":"01HZWATCH%04d","seq":%d,"gate":"east-1","lane":"in-1","ts":"2026-03-01T08:00:00+08:00","direction":"in","plate":"浙B%05d","replay":%t}`, seq, seq, seq, replay))
}

// startWatch runs hazgate watch until the test ends.
func startWatch(t *testing.T, args ...string) *lines {
	t.Helper()
	out, errs := newLines(), newLines()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmdWatch(ctx, args, out, errs) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("watch: %v; stderr:\n%s", err, errs.String())
			}
		case <-time.After(bound):
			t.Errorf("watch did not stop within %v", bound)
		}
	})
	return out
}

// A gate's feed with a dropped event: watch reports the gap, asks the gate
// once for it by a signed cmd/replay, and reports it filled by the replay.
func TestWatchGapOnMosquitto(t *testing.T) {
	b := startBroker(t)
	const root = "hazgate/ningbo-chem/east-1"
	gate := newGatePublisher(t, b.url(), root)
	gate.pub("availability", true, "online")
	gate.pub("status", true, `{"schema":"hazgate.status/1","alarms":[],"presence":{"inside":3}}`)

	dir := t.TempDir()
	if code, _, errs := run(t, "keygen", "-out", filepath.Join(dir, "office")); code != 0 {
		t.Fatalf("keygen: %s", errs)
	}
	cmds := watch(t, b.url(), "cmds", root+"/cmd/#")
	out := startWatch(t, "-broker", b.url(), "-root", "hazgate/ningbo-chem", "-replay-key", filepath.Join(dir, "office.key"), "-replay-after", "0")
	out.await(t, root+": online", 1) // the retained availability: subscribed
	out.await(t, "3 vehicles inside", 1)

	gate.passage(1, false)
	gate.passage(2, false)
	gate.passage(4, false) // 3 dropped
	gate.passage(5, false)
	out.await(t, "GAP at "+root+": event 3 is missing", 1)

	m := cmds.await(t, "cmd/replay", func(m message) bool { return m.topic == root+"/cmd/replay" })
	var env uplink.Envelope
	if err := json.Unmarshal([]byte(m.payload), &env); err != nil {
		t.Fatalf("cmd/replay: %v: %s", err, m.payload)
	}
	payload, _ := base64.StdEncoding.DecodeString(env.Payload)
	sig, _ := base64.StdEncoding.DecodeString(env.Sig)
	pub, err := uplink.ParsePublicKey(env.Key)
	if err != nil || !ed25519.Verify(pub, append([]byte(uplink.SignDomain), payload...), sig) {
		t.Fatalf("cmd/replay is not signed by the key: %v %s", err, m.payload)
	}
	var c uplink.Command
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	if err := uplink.CheckCommand(&c, uplink.DefaultCommandMaxTTL); err != nil {
		t.Fatalf("the gate would refuse it: %v", err)
	}
	if c.Name != "replay" || c.Target != root || string(c.Args) != `{"from_seq":3,"to_seq":3}` {
		t.Fatalf("command = %+v args %s", c, c.Args)
	}

	// The gate replays 3, and a redelivery of 5 follows.
	gate.passage(3, true)
	gate.passage(5, false)
	out.await(t, "gap filled at "+root+": event 3 arrived late", 1)
	out.await(t, "duplicate at "+root+": event 5 arrived again", 1)
	gate.passage(6, false)
	gate.passage(8, false) // a second gap, asked for once too
	out.await(t, "GAP at "+root+": event 7 is missing", 1)
	cmds.await(t, "cmd/replay 7", func(m message) bool { return m.topic == root+"/cmd/replay" })
	gate.passage(9, false)
	gate.pub("availability", true, "offline")
	out.await(t, root+": OFFLINE", 1)
	cmds.mu.Lock()
	n := len(cmds.msgs)
	cmds.mu.Unlock()
	if n != 2 {
		t.Errorf("%d replay commands, want one per gap (2)", n)
	}
	if s := out.String(); strings.Count(s, "GAP") != 2 {
		t.Errorf("gaps reported other than twice:\n%s", s)
	}
}

// -json: each event a line as it came, and the gap as {"gap": ...}.
func TestWatchJSONOnMosquitto(t *testing.T) {
	b := startBroker(t)
	const root = "hazgate/ningbo-chem/west-2"
	gate := newGatePublisher(t, b.url(), root)
	gate.pub("availability", true, "online")
	out := startWatch(t, "-broker", b.url(), "-json")
	out.await(t, `{"availability":{"gate":"`+root+`","state":"online"}}`, 1)
	gate.passage(10, false)
	gate.passage(12, false)
	gate.passage(12, false)
	out.await(t, `"duplicate"`, 1)
	var kinds []string
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var v map[string]json.RawMessage
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("not a JSON line: %q", l)
		}
		switch {
		case v["schema"] != nil:
			var e struct{ Seq int }
			json.Unmarshal([]byte(l), &e)
			kinds = append(kinds, fmt.Sprintf("event %d", e.Seq))
		case v["gap"] != nil:
			var g struct{ From, To int }
			json.Unmarshal(v["gap"], &struct {
				From *int `json:"from_seq"`
				To   *int `json:"to_seq"`
			}{&g.From, &g.To})
			kinds = append(kinds, fmt.Sprintf("gap %d-%d", g.From, g.To))
		case v["duplicate"] != nil:
			kinds = append(kinds, "duplicate")
		case v["availability"] != nil:
			kinds = append(kinds, "availability")
		}
	}
	if got, want := strings.Join(kinds, ", "), "availability, event 10, event 12, gap 11-11, duplicate"; got != want {
		t.Fatalf("lines: %s, want %s\n%s", got, want, out.String())
	}
}

// Flags that cannot work are refused before any connection, in plain words.
func TestWatchFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{}, "usage: hazgate watch"},
		{[]string{"-broker", "tcp://127.0.0.1:1", "-root", "hazgate/+"}, "without wildcards"},
		{[]string{"-broker", "tcp://127.0.0.1:1", "-cert", "c.pem"}, "-cert and -key go together"},
		{[]string{"-broker", "tcp://127.0.0.1:1", "-ca", "ca.pem"}, "need a TLS broker URL"},
		{[]string{"-broker", "gopher://x:1"}, "the scheme is not tcp or ssl"},
		{[]string{"-broker", "ssl://127.0.0.1:1", "-ca", filepath.Join(t.TempDir(), "none.pem")}, "-ca:"},
		{[]string{"-broker", "tcp://127.0.0.1:1", "-replay-key", filepath.Join(t.TempDir(), "none.key")}, "-replay-key:"},
		{[]string{"-broker", "tcp://127.0.0.1:1", "-lang", "fr"}, "-lang: language \"fr\": give en or zh"},
		{[]string{"-broker", "tcp://127.0.0.1:1", "-replay-after", "-1s"}, "-replay-after: a duration of 0 or more"},
	} {
		code, _, errs := run(t, append([]string{"watch"}, c.args...)...)
		if code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("watch %v: exit %d, %q; want an error with %q", c.args, code, errs, c.want)
		}
	}
}

// -once-after ends the watch by itself, exit 0.
func TestWatchOnceAfterEnds(t *testing.T) {
	b := startBroker(t)
	done := make(chan int, 1)
	go func() {
		code, _, _ := run(t, "watch", "-broker", b.url(), "-once-after", "200ms")
		done <- code
	}()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
	case <-time.After(bound):
		t.Fatalf("watch -once-after 200ms still running after %v", bound)
	}
}
