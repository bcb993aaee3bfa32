package appliance

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/config"
	"github.com/hazgate/hazgate/record"
	"github.com/hazgate/hazgate/store"
)

// The gate-wide conditions raise their alarm once while they last and
// clear it, with the same alarm id, when they end: a registry never synced,
// a broker away for a minute, a lock-down switched on and lifted.
func TestConditionAlarms(t *testing.T) {
	dir := t.TempDir()
	yml := fmt.Sprintf(`park: p1
gate: g1
database: %s
lanes:
  - name: in-1
    direction: in
    idcard: {port: %s}
    scanner: {port: %s}
    arrival_loop: {pin: NO_SUCH_PIN_1}
    safety_loop: {pin: NO_SUCH_PIN_2}
    barrier: {open_pin: NO_SUCH_PIN_3, close_pin: NO_SUCH_PIN_4}
mqtt: {broker: "tcp://127.0.0.1:1"}
`, filepath.Join(dir, "gate.db"), filepath.Join(dir, "no-reader"), filepath.Join(dir, "no-scanner"))
	cfg, err := config.Parse([]byte(yml), "hazgate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC))
	a, err := New(ctx, cfg, Options{Clock: clk, GPIOInit: func() error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer a.st.Close()
	alarms := func() []record.AlarmEvent {
		rows, err := a.st.PendingOutbox(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var out []record.AlarmEvent
		for _, r := range rows {
			if r.Kind == store.KindAlarm {
				var ev record.AlarmEvent
				json.Unmarshal(r.Payload, &ev)
				out = append(out, ev)
			}
		}
		return out
	}

	a.checkConditions(ctx)
	a.checkConditions(ctx)
	got := alarms()
	if len(got) != 1 || got[0].Kind != record.AlarmRegistryStale || got[0].Code != "registry_empty" || got[0].State != record.StateRaised {
		t.Fatalf("alarms %+v, want registry_stale raised once", got)
	}
	// The broker (never reached: the uplink is not even running) is down
	// once it has been away for brokerDownAfter.
	clk.Advance(brokerDownAfter)
	a.checkConditions(ctx)
	got = alarms()
	if len(got) != 2 || got[1].Kind != record.AlarmBrokerDown || got[1].Code != "broker_unreachable" {
		t.Fatalf("alarms %+v, want broker_down raised", got)
	}

	if err := a.st.SetLockdown(ctx, true, "alice", clk.Now()); err != nil {
		t.Fatal(err)
	}
	a.checkConditions(ctx)
	if err := a.st.SetLockdown(ctx, false, "alice", clk.Now()); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	a.checkConditions(ctx)
	got = alarms()[1:]
	if len(got) != 3 || got[1].Kind != record.AlarmLockdown || got[1].State != record.StateRaised ||
		got[2].State != record.StateCleared || got[2].AlarmID != got[1].AlarmID || got[1].Text.ZH == "" {
		t.Fatalf("alarms %+v, want lockdown raised and cleared", got)
	}
	active, _ := a.st.ActiveAlarms(ctx)
	if len(active) != 2 || active[0].Kind != record.AlarmRegistryStale || active[1].Kind != record.AlarmBrokerDown {
		t.Fatalf("active %+v", active)
	}
}

// The evacuation raises its alarm while it lasts, saying who may end it,
// and clears it when it ends.
func TestEvacuationAlarm(t *testing.T) {
	dir := t.TempDir()
	yml := fmt.Sprintf(`park: p1
gate: g1
database: %s
lanes:
  - name: out-1
    direction: out
    arrival_loop: {pin: NO_SUCH_PIN_1}
    safety_loop: {pin: NO_SUCH_PIN_2}
    barrier: {open_pin: NO_SUCH_PIN_3, close_pin: NO_SUCH_PIN_4}
`, filepath.Join(dir, "gate.db"))
	cfg, err := config.Parse([]byte(yml), "hazgate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC))
	a, err := New(ctx, cfg, Options{Clock: clk, GPIOInit: func() error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer a.st.Close()
	evacuation := func() []record.AlarmEvent {
		rows, err := a.st.PendingOutbox(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var out []record.AlarmEvent
		for _, r := range rows {
			var ev record.AlarmEvent
			if r.Kind == store.KindAlarm && json.Unmarshal(r.Payload, &ev) == nil && ev.Kind == record.AlarmEvacuation {
				out = append(out, ev)
			}
		}
		return out
	}
	if err := a.gate.Lanes.EvacuateAtKiosk(ctx, true, "operator:chen"); err != nil {
		t.Fatal(err)
	}
	a.checkConditions(ctx)
	a.checkConditions(ctx)
	got := evacuation()
	if len(got) != 1 || got[0].State != record.StateRaised || !strings.Contains(got[0].Text.EN, "only a kiosk supervisor ends it") ||
		!strings.Contains(got[0].Text.ZH, "紧急疏散") {
		t.Fatalf("alarms %+v, want evacuation raised once", got)
	}
	if err := a.gate.Lanes.EvacuateAtKiosk(ctx, false, "operator:chen"); err != nil {
		t.Fatal(err)
	}
	a.checkConditions(ctx)
	got = evacuation()
	if len(got) != 2 || got[1].State != record.StateCleared || got[1].AlarmID != got[0].AlarmID {
		t.Fatalf("alarms %+v, want evacuation raised and cleared", got)
	}
}
