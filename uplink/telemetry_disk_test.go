package uplink

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/store"
)

// logLines is a slog handler that sends each message to a channel.
type logLines chan string

func (l logLines) Enabled(context.Context, slog.Level) bool { return true }
func (l logLines) Handle(_ context.Context, r slog.Record) error {
	select {
	case l <- r.Message:
	default:
	}
	return nil
}
func (l logLines) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l logLines) WithGroup(string) slog.Handler      { return l }

// While the database's disk is low no telemetry is queued; once it has
// room again the next interval's is.
func TestTelemetryPausedWhileDiskLow(t *testing.T) {
	cfg := testConfig(fmt.Sprintf("tcp://127.0.0.1:%d", freePort(t))) // nothing listens
	cfg.TelemetryInterval = time.Minute
	st := openStore(t, filepath.Join(t.TempDir(), "gate.db"))
	defer st.Close()
	st.SetDiskLow(true)
	clk := clock.NewFake(time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC))
	lines := make(logLines, 64)
	u, err := New(cfg, st, Deps{Alarms: &recordingAlarms{st: st, raised: make(chan string, 8)}, Log: slog.New(lines), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- u.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitLine := func(want string) {
		t.Helper()
		deadline := time.After(wait)
		for {
			select {
			case l := <-lines:
				if strings.Contains(l, want) {
					return
				}
			case <-deadline:
				t.Fatalf("no log line %q", want)
			}
		}
	}
	telemetry := func() int {
		rows, err := st.PendingOutbox(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range rows {
			if r.Kind == store.KindTelemetry {
				n++
			}
		}
		return n
	}
	waitLine("telemetry paused")
	if n := telemetry(); n != 0 {
		t.Fatalf("%d telemetry messages queued while the disk is low", n)
	}
	st.SetDiskLow(false)
	waitCond(t, "the telemetry loop waits for its interval", func() bool { return clk.Pending() > 0 })
	clk.Advance(cfg.TelemetryInterval)
	waitLine("telemetry resumed")
	waitCond(t, "telemetry once the disk had room", func() bool { return telemetry() == 1 })
}

// waitCond waits, with the generous bound, for cond to hold.
func waitCond(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", wait, what)
		}
		runtime.Gosched()
	}
}
