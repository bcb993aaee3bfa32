package uplink

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/record"
	"github.com/hazgate/hazgate/store"
	"github.com/hazgate/hazgate/uplink/uplinktest"
)

// wait is the generous bound on anything a test waits for.
const wait = 60 * time.Second

// msg is a message a test subscriber received.
type msg struct {
	topic    string
	retained bool
	payload  []byte
	seq      int64
	id       string
	queued   bool
}

// sub is a test subscriber: the platform's view of the broker. Its session
// is persistent (clean session off, QoS 1), so that a broker restart loses
// nothing of what the broker acknowledged.
type sub struct {
	mu     sync.Mutex
	msgs   []msg
	notify chan struct{}
	cli    mqtt.Client
}

func subscribe(t testing.TB, url, clientID string, tc *tls.Config, filters ...string) *sub {
	t.Helper()
	s := &sub{notify: make(chan struct{}, 1)}
	fm := map[string]byte{}
	for _, f := range filters {
		fm[f] = 1
	}
	o := mqtt.NewClientOptions().AddBroker(url).SetClientID(clientID).SetCleanSession(false).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(100 * time.Millisecond).
		SetMaxReconnectInterval(200 * time.Millisecond).SetOrderMatters(true).
		SetOnConnectHandler(func(c mqtt.Client) { c.SubscribeMultiple(fm, nil) }).
		SetDefaultPublishHandler(func(_ mqtt.Client, m mqtt.Message) { s.add(m) })
	if tc != nil {
		o.SetTLSConfig(tc)
	}
	s.cli = mqtt.NewClient(o)
	tok := s.cli.Connect()
	if !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("subscriber connect: %v", tok.Error())
	}
	// The subscription is made in OnConnect; wait for its SUBACK by a
	// second, synchronous one.
	if st := s.cli.SubscribeMultiple(fm, nil); !st.WaitTimeout(wait) || st.Error() != nil {
		t.Fatalf("subscribe: %v", st.Error())
	}
	t.Cleanup(func() { s.cli.Disconnect(0) })
	return s
}

func (s *sub) add(m mqtt.Message) {
	r := msg{topic: m.Topic(), retained: m.Retained(), payload: append([]byte(nil), m.Payload()...)}
	var p struct {
		Seq    int64    `json:"seq"`
		ID     string   `json:"id"`
		Queued *float64 `json:"queued_s"`
	}
	if json.Unmarshal(r.payload, &p) == nil {
		r.seq, r.id, r.queued = p.Seq, p.ID, p.Queued != nil
	}
	s.mu.Lock()
	s.msgs = append(s.msgs, r)
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// all returns a copy of what arrived.
func (s *sub) all() []msg {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]msg(nil), s.msgs...)
}

// waitFor waits until cond holds on what arrived, failing after wait.
func (s *sub) waitFor(t testing.TB, what string, cond func([]msg) bool) []msg {
	t.Helper()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		if all := s.all(); cond(all) {
			return all
		}
		select {
		case <-s.notify:
		case <-deadline.C:
			t.Fatalf("waited %v for %s; got %d messages", wait, what, len(s.all()))
		}
	}
}

// on returns the messages on topics ending with suffix.
func on(ms []msg, suffix string) []msg {
	var out []msg
	for _, m := range ms {
		if strings.HasSuffix(m.topic, suffix) {
			out = append(out, m)
		}
	}
	return out
}

// eventSeqs reports the highest event seq seen and whether every seq from 1
// up to it arrived.
func haveAll(n int64) func([]msg) bool {
	return func(ms []msg) bool {
		seen := map[int64]bool{}
		for _, m := range ms {
			if strings.Contains(m.topic, "/events/") {
				seen[m.seq] = true
			}
		}
		for i := int64(1); i <= n; i++ {
			if !seen[i] {
				return false
			}
		}
		return true
	}
}

// checkEvents holds the event messages to the contract: seq 1..n all
// there, each seq first seen in order (no gap ever visible), and a seq seen
// twice only with the same id. It returns the number of duplicates.
func checkEvents(t testing.TB, ms []msg, n int64) int {
	t.Helper()
	ids := map[int64]string{}
	var last int64
	dups := 0
	for _, m := range ms {
		if !strings.Contains(m.topic, "/events/") {
			continue
		}
		if m.seq <= 0 || m.id == "" {
			t.Fatalf("event without seq or id on %s: %s", m.topic, m.payload)
		}
		if id, ok := ids[m.seq]; ok {
			if id != m.id {
				t.Fatalf("seq %d arrived with ids %s and %s", m.seq, id, m.id)
			}
			dups++
			continue
		}
		if m.seq != last+1 {
			t.Fatalf("seq %d first seen after %d: a gap or a reorder", m.seq, last)
		}
		ids[m.seq], last = m.id, m.seq
	}
	if last != n {
		t.Fatalf("events up to seq %d arrived, want %d", last, n)
	}
	return dups
}

// rig is a store, a gate over it (the alarm sink and the event producer)
// and an uplink, running.
type rig struct {
	st   *store.Store
	g    *record.Keeper
	u    *Uplink
	cmds *uplinktest.Commander
	stat *fakeStatus
	clk  clock.Clock
	stop func()
}

func testConfig(broker string) Config {
	return Config{
		Broker: broker, Park: "ningbo-chem", Gate: "east-1",
		ConnectRetry: 100 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		ConnectTimeout: 5 * time.Second, Keepalive: 5 * time.Second,
		Poll: 20 * time.Millisecond, StatusPoll: 50 * time.Millisecond,
		TelemetryInterval: -1,
	}
}

func openStore(t testing.TB, path string, opts ...store.Option) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func testLog(t testing.TB) *slog.Logger {
	if os.Getenv("UPLINK_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// newRig opens a store in dir (a new temp dir when ""), and starts an
// uplink with cfg. stop ends the uplink and closes the store.
func newRig(t testing.TB, dir string, cfg Config, opts ...func(*Deps)) *rig {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	st := openStore(t, filepath.Join(dir, "gate.db"))
	r := &rig{st: st, g: record.New(cfg.Gate, st, checks.Params{}, nil), cmds: &uplinktest.Commander{}, stat: &fakeStatus{}}
	if cfg.NonceFile == "" {
		cfg.NonceFile = filepath.Join(dir, "nonces.json")
	}
	deps := Deps{Log: testLog(t), Alarms: r.g, Commands: r.cmds, Status: r.stat, Clock: clock.Real{}}
	for _, o := range opts {
		o(&deps)
	}
	r.clk = deps.Clock
	u, err := New(cfg, st, deps)
	if err != nil {
		t.Fatal(err)
	}
	r.u = u
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- u.Run(ctx) }()
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(wait):
				t.Errorf("Run did not return in %v", wait)
			}
			st.Close()
		})
	}
	t.Cleanup(r.stop)
	return r
}

// alarm records one alarm event through the gate, as the gate records its
// own, and kicks the uplink.
func (r *rig) alarm(t testing.TB, i int) {
	t.Helper()
	if err := r.g.RaiseAlarm(context.Background(), "in-1", record.AlarmTamper, fmt.Sprintf("test event %d", i), r.clk.Now()); err != nil {
		t.Fatal(err)
	}
	r.u.Kick()
}

// waitDrained waits until the outbox is empty.
func (r *rig) waitDrained(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		depth, _, err := r.st.OutboxStats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if depth == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox still holds %d messages after %v", depth, wait)
		}
		select {
		case <-r.u.marked:
		case <-time.After(time.Second): // a mark may have landed before we looked
		}
	}
}

var (
	_ Commander = (*uplinktest.Commander)(nil)
	_ Evacuator = (*uplinktest.Commander)(nil)
)

// fakeStatus returns the report a test sets.
type fakeStatus struct {
	mu  sync.Mutex
	rep StatusReport
}

func (s *fakeStatus) set(r StatusReport) {
	s.mu.Lock()
	s.rep = r
	s.mu.Unlock()
}

func (s *fakeStatus) Status() StatusReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rep
}
