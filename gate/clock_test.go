package gate

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/record"
	"github.com/hazgate/hazgate/store"
)

// The assembled gate watches its clock: Run looks before the lanes run,
// the keeper judges with the state, the alarms go up and down, and a step
// back is an alarm.
func TestGateWatchesItsClock(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := testConfig(t)
	clk := clock.NewFake(t0)
	src := clock.NewFakeSource(clk)
	src.SetSynced(false)
	st := openStore(t, cfg, clk)
	g, err := Assemble(ctx, cfg, st, &testHardware{}, Options{Clock: clk, ClockSource: src})
	if err != nil {
		t.Fatal(err)
	}
	if g.ClockMonitor == nil || g.Keeper.ClockSynced == nil {
		t.Fatal("the gate does not watch its clock")
	}
	if g.Keeper.ClockSynced() {
		t.Fatal("the clock is trusted before it was looked at")
	}
	recorded := make(chan struct{}, 16)
	g.Keeper.OnRecord = func() { recorded <- struct{}{} }
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	select {
	case <-recorded:
	case <-time.After(10 * time.Second):
		t.Fatal("Run raised no clock_unsynced alarm")
	}
	active := func() []store.ActiveAlarm {
		a, err := st.ActiveAlarms(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	if a := active(); len(a) != 1 || a[0].Kind != record.AlarmClockUnsynced || a[0].Code != clock.ReasonUnsynced {
		t.Fatalf("active alarms %+v, want clock_unsynced", a)
	}
	// Run schedules the next look on the gate's clock, just after the
	// first look's alarm: synced by then.
	waitMonitorTimer(t, clk, t0.Add(cfg.Clock.CheckEvery.D()))
	src.SetSynced(true)
	clk.Advance(cfg.Clock.CheckEvery.D())
	<-recorded // the cleared event, committed inside Advance
	if a := active(); len(a) != 0 || !g.Keeper.ClockSynced() {
		t.Fatalf("active alarms %+v, synced %v after the sync", a, g.Keeper.ClockSynced())
	}
	// An hour back between two looks.
	src.Step(-time.Hour)
	clk.Advance(cfg.Clock.CheckEvery.D())
	<-recorded
	rows, err := st.PendingOutbox(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var alarms []string
	for _, r := range rows {
		if r.Kind == store.KindAlarm {
			alarms = append(alarms, r.Topic)
		}
	}
	if len(alarms) != 3 {
		t.Fatalf("%d alarm events, want raised, cleared, jumped", len(alarms))
	}
	if last := rows[len(rows)-1]; !strings.Contains(string(last.Payload), `"kind":"clock_jumped"`) {
		t.Fatalf("last event %s, want clock_jumped", last.Payload)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := clk.Pending(); n != 0 {
		t.Fatalf("%d timers left after Run returned", n)
	}
}

// Without a source nothing watches the clock: the keeper takes it as right.
func TestGateWithoutClockSource(t *testing.T) {
	cfg := testConfig(t)
	clk := clock.NewFake(t0)
	g, err := Assemble(context.Background(), cfg, openStore(t, cfg, clk), &testHardware{}, Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if g.ClockMonitor != nil || g.Keeper.ClockSynced != nil {
		t.Fatal("a clock monitor without a source")
	}
}

// waitMonitorTimer waits, with a generous bound, until a timer is pending
// at at on clk: the monitor's next look, set by Run's goroutine.
func waitMonitorTimer(t *testing.T, clk *clock.Fake, at time.Time) {
	t.Helper()
	bound := time.After(10 * time.Second)
	for {
		if next, ok := clk.Next(); ok && next.Equal(at) {
			return
		}
		select {
		case <-bound:
			t.Fatal("Run never scheduled the clock's next look")
		case <-time.After(time.Millisecond):
		}
	}
}
