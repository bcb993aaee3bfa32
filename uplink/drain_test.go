package uplink

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/health"
	"github.com/hazgate/hazgate/store"
)

func TestStamp(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		seq      int64
		queued   time.Duration
		want     string
	}{
		{"event, fresh", `{"schema":"s","id":"A"}`, 7, time.Second, `{"schema":"s","id":"A","seq":7}`},
		{"event, waited", `{"id":"A"}`, 7, 3500 * time.Millisecond, `{"id":"A","seq":7,"queued_s":3.500}`},
		{"telemetry, fresh", `{"id":"A"}`, 0, 0, `{"id":"A"}`},
		{"telemetry, waited", `{"id":"A"}`, 0, time.Minute, `{"id":"A","queued_s":60.000}`},
		{"empty object", `{ }`, 1, 0, `{"seq":1}`},
		{"spaces around", " {\"id\":\"A\"}\n", 2, 0, `{"id":"A","seq":2}`},
		{"not an object", `[1,2]`, 3, time.Hour, `[1,2]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := string(stamp([]byte(tc.in), tc.seq, tc.queued, 2*time.Second))
			if got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
			if !json.Valid([]byte(got)) {
				t.Fatalf("%s is not JSON", got)
			}
		})
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, filepath.Join(dir, "gate.db"))
	defer st.Close()
	deps := Deps{Alarms: nopAlarms{}}
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no broker", Config{Park: "p", Gate: "g"}, "no broker URL"},
		{"plain text with TLS files", Config{Broker: "tcp://h:1883", Park: "p", Gate: "g", CAFile: "/x"}, "refusing to send in clear"},
		{"missing CA", Config{Broker: "ssl://h:8883", Park: "p", Gate: "g", CAFile: filepath.Join(dir, "none.pem")}, "mqtt.ca_file"},
		{"missing client key", Config{Broker: "ssl://h:8883", Park: "p", Gate: "g", CertFile: filepath.Join(dir, "c.pem"), KeyFile: filepath.Join(dir, "k.pem")}, "mqtt.cert_file"},
		{"bad trusted key", Config{Broker: "tcp://h:1883", Park: "p", Gate: "g", TrustedKeys: []string{"ed25519:xyz"}, NonceFile: filepath.Join(dir, "n")}, "trusted_keys[0]"},
		{"keys without nonce file", Config{Broker: "tcp://h:1883", Park: "p", Gate: "g", TrustedKeys: []string{PublicKeyString(make([]byte, 32))}}, "nonce file"},
		{"wildcard root", Config{Broker: "tcp://h:1883", Park: "p", Gate: "g", Root: "a/+/b"}, "no wildcards"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg, st, deps)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "uplink: ") {
				t.Fatalf("got %v, want an uplink: error with %q", err, tc.want)
			}
		})
	}
}

type nopAlarms struct{}

func (nopAlarms) RaiseAlarm(context.Context, string, string, string, time.Time) error { return nil }

// The broker is down when the gate starts: events pile up in the outbox,
// and drain, in order, as soon as the broker is there.
func TestBrokerDownAtStartup(t *testing.T) {
	m := newMosquitto(t, "allow_anonymous true")
	clk := clock.NewFake(time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC))
	r := newRig(t, "", testConfig(m.url()), func(d *Deps) { d.Clock = clk })
	const n = 50
	for i := range n {
		r.alarm(t, i)
	}
	if c := r.u.Connection(); c.Connected {
		t.Fatalf("connected to a broker that is not running: %+v", c)
	}
	clk.Advance(10 * time.Second) // the events wait 10 s for the broker
	m.start()
	s := subscribe(t, m.url(), "platform", nil, "hazgate/#")
	got := s.waitFor(t, "all events", haveAll(n))
	checkEvents(t, got, n)
	for _, e := range on(got, "/events/alarm") {
		if !strings.Contains(string(e.payload), `"queued_s":10.000`) {
			t.Fatalf("event that waited 10 s for the broker: %s", e.payload)
		}
	}
	// A fresh event does not say it waited.
	r.alarm(t, n)
	got = s.waitFor(t, "the fresh event", haveAll(n+1))
	for _, e := range on(got, "/events/alarm") {
		if e.seq == n+1 && e.queued {
			t.Fatalf("fresh event with queued_s: %s", e.payload)
		}
	}
	s.waitFor(t, "availability online", func(ms []msg) bool {
		a := on(ms, "/availability")
		return len(a) > 0 && string(a[len(a)-1].payload) == "online"
	})
	// Retained: a subscriber that comes later is told at once.
	s2 := subscribe(t, m.url(), "platform-2", nil, "hazgate/+/+/availability")
	s2.waitFor(t, "retained online", func(ms []msg) bool {
		return len(ms) > 0 && ms[0].retained && string(ms[0].payload) == "online"
	})
	r.waitDrained(t)
}

// The broker restarts while events keep coming: nothing is lost, the order
// holds, and duplicates carry the same id. Availability goes offline (the
// will is not involved: the broker itself went away) and online again.
func TestBrokerRestartMidStream(t *testing.T) {
	m := startMosquitto(t)
	s := subscribe(t, m.url(), "platform", nil, "hazgate/#")
	r := newRig(t, "", testConfig(m.url()))
	n := 600
	if testing.Short() {
		n = 200
	}
	for i := range n {
		r.alarm(t, i)
		switch i {
		case n / 3:
			m.stop()
		case n / 2:
			m.start()
		}
	}
	got := s.waitFor(t, "all events", haveAll(int64(n)))
	dups := checkEvents(t, got, int64(n))
	t.Logf("%d events, %d duplicates, %d reconnects", n, dups, r.u.Stats().Reconnects)
	if r.u.Stats().Reconnects < 1 {
		t.Fatal("the uplink never noticed the broker went away")
	}
	r.waitDrained(t)
}

// The retained status carries the lanes, the outbox and the registry;
// telemetry arrives at QoS 0 through the outbox; a stopping gate leaves a
// retained offline.
func TestStatusWillTelemetry(t *testing.T) {
	m := startMosquitto(t)
	cfg := testConfig(m.url())
	cfg.TelemetryInterval = time.Hour // the first comes at start, not after an interval
	cfg.Keepalive = time.Second
	// Subscribed before the gate starts: its first telemetry goes out at
	// start, at QoS 0 and not retained, and would be missed by a
	// subscriber that comes after it.
	s := subscribe(t, m.url(), "platform", nil, "hazgate/#")
	r := newRig(t, "", cfg)
	r.stat.set(StatusReport{Lanes: []LaneStatus{{Lane: "in-1", Direction: "in", Phase: "idle", Barrier: "close"}},
		Devices: []health.Device{{Name: "idcard-in-1", Kind: "idcard", Lane: "in-1", OK: true, State: "ok"}}})
	r.u.StatusChanged()
	got := s.waitFor(t, "status with the lane and telemetry", func(ms []msg) bool {
		st := on(ms, "/status")
		return len(st) > 0 && strings.Contains(string(st[len(st)-1].payload), `"in-1"`) && len(on(ms, "/telemetry")) > 0
	})
	st := on(got, "/status")
	var rep StatusReport
	if err := json.Unmarshal(st[len(st)-1].payload, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Schema != SchemaStatus || rep.Gate != "east-1" || !rep.Uplink.Connected || rep.Software.Version == "" || len(rep.Devices) != 1 {
		t.Fatalf("status: %s", st[len(st)-1].payload)
	}
	var tm Telemetry
	if err := json.Unmarshal(on(got, "/telemetry")[0].payload, &tm); err != nil || tm.Schema != SchemaTelemetry || tm.ID == "" {
		t.Fatalf("telemetry: %v %s", err, on(got, "/telemetry")[0].payload)
	}

	// A new subscriber gets the retained status at once.
	s2 := subscribe(t, m.url(), "platform-2", nil, "hazgate/+/+/status")
	s2.waitFor(t, "retained status", func(ms []msg) bool { return len(ms) > 0 && ms[0].retained })

	// A clean stop says offline itself (a clean disconnect does not fire
	// the will; TestCrashNothingLost sees the will fire).
	r.stop()
	s.waitFor(t, "availability offline", func(ms []msg) bool {
		a := on(ms, "/availability")
		return len(a) > 0 && string(a[len(a)-1].payload) == "offline"
	})
}

// When the outbox reaches its bound, telemetry is dropped, events are kept,
// and an outbox_full alarm says so.
func TestOutboxFullAlarm(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(fmt.Sprintf("tcp://127.0.0.1:%d", freePort(t))) // nothing listens
	cfg.OutboxMax = 1000
	st := openStore(t, filepath.Join(dir, "gate.db"), store.WithOutboxLimit(cfg.OutboxMax))
	defer st.Close()
	ctx := context.Background()
	var msgs []store.OutboxMessage
	for i := range 1000 {
		msgs = append(msgs, store.OutboxMessage{Kind: store.KindTelemetry, Topic: "telemetry", Payload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))})
	}
	if err := st.Enqueue(ctx, time.Now(), msgs...); err != nil {
		t.Fatal(err)
	}
	rec := &recordingAlarms{st: st, raised: make(chan string, 8)}
	u, err := New(cfg, st, Deps{Alarms: rec, Log: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- u.Run(runCtx) }()
	defer func() { cancel(); <-done }()
	select {
	case d := <-rec.raised:
		if !strings.Contains(d, "outbox full") || !strings.Contains(d, "kept") {
			t.Fatalf("alarm detail %q", d)
		}
	case <-time.After(wait):
		t.Fatal("no outbox_full alarm")
	}
	// The alarm is an event: it displaced a telemetry message, and the
	// depth stayed at the bound.
	depth, _, err := st.OutboxStats(ctx)
	if err != nil || depth != 1000 {
		t.Fatalf("depth %d, %v", depth, err)
	}
	rows, err := st.PendingOutbox(ctx, 0, 2000)
	if err != nil {
		t.Fatal(err)
	}
	if last := rows[len(rows)-1]; last.Kind != store.KindAlarm || !strings.Contains(string(last.Payload), AlarmOutboxFull) {
		t.Fatalf("last outbox row %+v", last)
	}
}

// recordingAlarms writes alarms to the store as the gate does (kind and
// detail in an alarm event) and reports each detail.
type recordingAlarms struct {
	st     *store.Store
	raised chan string
}

func (a *recordingAlarms) RaiseAlarm(ctx context.Context, lane, kind, detail string, at time.Time) error {
	b, _ := json.Marshal(map[string]string{"schema": "hazgate.alarm/1", "kind": kind, "detail": detail, "lane": lane})
	err := a.st.RecordAlarm(ctx, store.Alarm{Kind: kind, Detail: detail, Lane: lane, At: at},
		store.OutboxMessage{Kind: store.KindAlarm, Topic: "events/alarm", Lane: lane, Payload: b})
	select {
	case a.raised <- detail:
	default:
	}
	return err
}

// A clean stop waits (a bounded while) for the PUBACKs of what is in
// flight and marks them, so that a restart does not send them again.
func TestCleanStopSettlesInFlight(t *testing.T) {
	const n = 10
	m := startMosquitto(t)
	s := subscribe(t, m.url(), "platform", nil, "hazgate/#")
	// The uplink says when a stop starts waiting for what is in flight.
	settling := &logWatch{msg: msgSettling, got: make(chan slog.Record, 1)}
	dir := t.TempDir()
	r := newRig(t, dir, testConfig(m.url()), func(d *Deps) { d.Log = slog.New(settling) })
	// Subscribed: "online" was acknowledged and the drain runs.
	waitConn(t, r.u, "subscribed", func(c ConnState) bool { return c.Subscribed })
	m.mu.Lock()
	broker := m.cmd.Process
	m.mu.Unlock()
	// The broker stops answering: every event stays in flight.
	if err := broker.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		r.alarm(t, i)
	}
	deadline := time.Now().Add(wait)
	for r.u.Stats().Published < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d published", r.u.Stats().Published, n)
		}
		<-time.After(10 * time.Millisecond) // the counter has no event to wait on
	}
	stopped := make(chan struct{})
	go func() { r.stop(); close(stopped) }()
	// The uplink is stopping, waiting for its messages in flight; only
	// now does the broker answer.
	select {
	case rec := <-settling.got:
		if in := attr(rec, "in_flight"); in.Int64() != n {
			t.Fatalf("the stop waits for %v messages in flight, want %d", in, n)
		}
	case <-time.After(wait):
		t.Fatal("the stop never waited for the messages in flight")
	}
	if err := broker.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	<-stopped
	checkEvents(t, s.waitFor(t, "the events in flight at the stop", haveAll(n)), n)

	r = newRig(t, dir, testConfig(m.url()))
	r.alarm(t, n) // one more: it arrives after anything sent again
	ms := s.waitFor(t, "the event after the restart", haveAll(n+1))
	if dups := checkEvents(t, ms, n+1); dups != 0 {
		t.Fatalf("%d events sent again after a clean stop with their PUBACKs in", dups)
	}
	r.waitDrained(t)
}

// logWatch is a log handler that hands over the first record with message
// msg (and drops every other).
type logWatch struct {
	msg string
	got chan slog.Record
}

func (w *logWatch) Enabled(context.Context, slog.Level) bool { return true }

func (w *logWatch) Handle(_ context.Context, r slog.Record) error {
	if r.Message == w.msg {
		select {
		case w.got <- r.Clone():
		default:
		}
	}
	return nil
}

func (w *logWatch) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *logWatch) WithGroup(string) slog.Handler      { return w }

// attr returns the value of the attribute key of r (the zero Value when
// r has none).
func attr(r slog.Record, key string) slog.Value {
	var v slog.Value
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v = a.Value
			return false
		}
		return true
	})
	return v
}

// A message's sent_at is written when its PUBACK is marked, from the
// store's clock: once the outbox is delivered, no row is without it.
func TestDeliveredMessagesHaveSentAt(t *testing.T) {
	m := startMosquitto(t)
	at := time.Date(2026, 3, 15, 1, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "gate.db")
	st := openStore(t, path, store.WithClock(clock.NewFake(at)))
	defer st.Close()
	const n = 40
	if err := st.Enqueue(context.Background(), at.Add(-time.Minute), benchEvents(n, 0)...); err != nil {
		t.Fatal(err)
	}
	u, stop := startUplink(t, st, testConfig(m.url()))
	waitAcked(t, u, n)
	stop()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT seq, sent_at FROM outbox ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := 0
	for rows.Next() {
		var seq int64
		var sent sql.NullString
		if err := rows.Scan(&seq, &sent); err != nil {
			t.Fatal(err)
		}
		if ts, err := time.Parse(time.RFC3339Nano, sent.String); err != nil || !ts.Equal(at) {
			t.Fatalf("seq %d: sent_at %v, want %v", seq, sent, at)
		}
		got++
	}
	if err := rows.Err(); err != nil || got != n {
		t.Fatalf("%d rows (%v), want %d", got, err, n)
	}
}
