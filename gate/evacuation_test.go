package gate

import (
	"context"
	"testing"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/store"
)

// An evacuation outlives a restart: a gate evacuated at the kiosk, stopped,
// its store closed and opened again, starts again evacuating, its exit lane
// held open even under a lock-down, its entry lane closed, and still only
// the kiosk may end it.
func TestAssembleRestoresAnEvacuation(t *testing.T) {
	cfg := testConfig(t)
	clk := clock.NewFake(t0)
	ctx := context.Background()
	st, err := store.Open(ctx, cfg.Database, store.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	g, err := Assemble(ctx, cfg, st, &testHardware{}, Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- g.Run(runCtx) }()
	if err := g.Lanes.Lockdown(ctx, true, "operator:sup"); err != nil {
		t.Fatal(err)
	}
	if err := g.Lanes.EvacuateAtKiosk(ctx, true, "operator:sup"); err != nil {
		t.Fatal(err)
	}
	for _, l := range g.AllLanes() {
		sync1(t, l)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	st.Close()

	st2 := openStore(t, cfg, clk) // the restart
	g2, err := Assemble(ctx, cfg, st2, &testHardware{}, Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if !g2.Evacuation.On || g2.Evacuation.Authority != store.EvacuationByKiosk || g2.EvacuationErr != nil {
		t.Fatalf("restored %+v, %v", g2.Evacuation, g2.EvacuationErr)
	}
	run(t, g2)
	for _, l := range g2.AllLanes() {
		s := sync1(t, l)
		switch {
		case !s.Evacuation || !s.Lockdown:
			t.Fatalf("lane %s: evacuation %t, lock-down %t", s.Lane, s.Evacuation, s.Lockdown)
		case s.Exit && (s.Phase != lane.PhaseEvacuating || s.BarrierCommanded != lane.CommandUp):
			t.Fatalf("exit lane %s %s barrier %s: want held open", s.Lane, s.Phase, s.BarrierCommanded)
		case !s.Exit && s.BarrierCommanded == lane.CommandUp:
			t.Fatalf("entry lane %s is open", s.Lane)
		}
	}
	if err := g2.Lanes.Evacuate(ctx, false, "alice"); err == nil {
		t.Fatal("the office ended the kiosk's evacuation after a restart")
	}
}
