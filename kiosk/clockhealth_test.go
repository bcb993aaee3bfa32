package kiosk

import (
	"sync/atomic"
	"testing"

	"github.com/hazgate/hazgate/clock"
)

// The health page shows the gate's clock, and /readyz is not ready while
// the clock is not trusted; a kiosk told nothing of the clock shows it as
// not reported and stays ready.
func TestClockHealth(t *testing.T) {
	var synced atomic.Bool
	h := newHarnessWith(t, Config{}, harnessOptions{deps: func(d *Deps) {
		d.ClockState = func() clock.State {
			if synced.Load() {
				return clock.State{Synced: true, Source: clock.SourceKernel, Checked: t0}
			}
			return clock.State{Source: clock.SourceKernel, Reason: clock.ReasonUnsynced, Checked: t0}
		}
	}}, "in-1")
	h.addOperator("op", RoleOperator, opPassword)
	op := h.client().mustLogin("op", opPassword)
	anon := h.client()
	section := func() map[string]any {
		t.Helper()
		return op.do("GET", "/api/v1/health", nil).json(t)["clock"].(map[string]any)
	}
	c := section()
	if c["status"] != statusFault || c["reported"] != true || c["synced"] != false || c["reason"] != clock.ReasonUnsynced || c["source"] != clock.SourceKernel || c["checked_at"] == nil {
		t.Fatalf("clock section %v", c)
	}
	a := anon.do("GET", "/readyz", nil)
	reasons, _ := a.json(t)["reasons"].([]any)
	if a.status != 503 || len(reasons) != 1 || reasons[0].(map[string]any)["code"] != "clock_unsynced" || reasons[0].(map[string]any)["zh"] == "" {
		t.Fatalf("/readyz = %d %s, want 503 clock_unsynced", a.status, a.body)
	}
	synced.Store(true)
	if c := section(); c["status"] != statusOK || c["synced"] != true {
		t.Fatalf("clock section %v after sync", c)
	}
	if a := anon.do("GET", "/readyz", nil); a.status != 200 {
		t.Fatalf("/readyz = %d %s after sync", a.status, a.body)
	}

	plain := newHarness(t, Config{}, "in-1")
	plain.addOperator("op", RoleOperator, opPassword)
	c = plain.client().mustLogin("op", opPassword).do("GET", "/api/v1/health", nil).json(t)["clock"].(map[string]any)
	if c["status"] != statusUnknown || c["reported"] != false {
		t.Fatalf("clock section without a monitor %v", c)
	}
}
