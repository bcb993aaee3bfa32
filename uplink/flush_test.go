package uplink

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hazgate/hazgate/record"
)

// logBook is a log handler that keeps every record and signals each.
type logBook struct {
	mu   sync.Mutex
	recs []slog.Record
	got  chan struct{}
}

func newLogBook() *logBook { return &logBook{got: make(chan struct{}, 1)} }

func (b *logBook) Enabled(context.Context, slog.Level) bool { return true }

func (b *logBook) Handle(_ context.Context, r slog.Record) error {
	b.mu.Lock()
	b.recs = append(b.recs, r.Clone())
	b.mu.Unlock()
	select {
	case b.got <- struct{}{}:
	default:
	}
	return nil
}

func (b *logBook) WithAttrs([]slog.Attr) slog.Handler { return b }
func (b *logBook) WithGroup(string) slog.Handler      { return b }

// find returns the first record with message msg.
func (b *logBook) find(msg string) (slog.Record, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, r := range b.recs {
		if r.Message == msg {
			return r, true
		}
	}
	return slog.Record{}, false
}

// A stopping uplink sends what the outbox holds before it says offline:
// events written and never kicked (the poll an hour away) all arrive, and
// the log says the outbox was flushed.
func TestStopFlushesTheOutbox(t *testing.T) {
	const n = 50 // more than the in-flight window
	m := startMosquitto(t)
	s := subscribe(t, m.url(), "platform", nil, "hazgate/#")
	book := newLogBook()
	cfg := testConfig(m.url())
	cfg.Poll = time.Hour
	cfg.InFlight = 8
	dir := t.TempDir()
	r := newRig(t, dir, cfg, func(d *Deps) { d.Log = slog.New(book) })
	// One event, kicked: once it is marked the drain waits for a kick.
	r.alarm(t, 0)
	r.waitDrained(t)
	for i := 1; i <= n; i++ {
		if err := r.g.RaiseAlarm(context.Background(), "in-1", record.AlarmTamper, "pending at the stop", r.clk.Now()); err != nil {
			t.Fatal(err)
		}
	}
	r.stop()
	rec, ok := book.find(msgFlushing)
	if !ok {
		t.Fatal("the stop did not say it flushes the outbox")
	}
	if p := attr(rec, "pending").Int64(); p != n {
		t.Fatalf("the flush started with %d pending, want %d", p, n)
	}
	if _, ok := book.find(msgFlushed); !ok {
		t.Fatalf("the stop did not say the outbox was flushed; log: %v", book.recs)
	}
	checkEvents(t, s.waitFor(t, "the events pending at the stop", haveAll(n+1)), n+1)
	st := openStore(t, filepath.Join(dir, "gate.db"))
	defer st.Close()
	if depth, _, err := st.OutboxStats(context.Background()); err != nil || depth != 0 {
		t.Fatalf("outbox after the flush: %d unsent (err %v), want 0", depth, err)
	}
}

// The flush is bounded: with a broker that does not answer, the stop
// ends after StopFlush (and the offline wait), not after the ack timeout,
// and says how many messages wait for the restart.
func TestStopFlushIsBounded(t *testing.T) {
	const n = 10
	m := startMosquitto(t)
	book := newLogBook()
	cfg := testConfig(m.url())
	cfg.Poll = time.Hour
	cfg.AckTimeout = time.Hour
	cfg.StopFlush = 300 * time.Millisecond
	r := newRig(t, "", cfg, func(d *Deps) { d.Log = slog.New(book) })
	r.alarm(t, 0)
	r.waitDrained(t)
	m.mu.Lock()
	broker := m.cmd.Process
	m.mu.Unlock()
	if err := broker.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer broker.Signal(syscall.SIGCONT)
	for range n {
		if err := r.g.RaiseAlarm(context.Background(), "in-1", record.AlarmTamper, "pending at the stop", r.clk.Now()); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	r.stop()
	// Generous against busy cores; without the bound it is an hour.
	if took := time.Since(start); took > cfg.StopFlush+offlineWait+10*time.Second {
		t.Fatalf("the stop took %v with StopFlush %v", took, cfg.StopFlush)
	}
	rec, ok := book.find(msgKept)
	if !ok {
		t.Fatal("the stop did not say what waits for the restart")
	}
	if u := attr(rec, "unsent").Int64(); u != n {
		t.Fatalf("%d unsent after the stop, want %d", u, n)
	}
}
