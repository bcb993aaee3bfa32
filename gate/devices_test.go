package gate

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/device/idcard"
	"github.com/hazgate/hazgate/record"
	"github.com/hazgate/hazgate/store"
)

// alarmEvents are the alarm events in the store's outbox, oldest first.
func alarmEvents(t *testing.T, st *store.Store) []record.AlarmEvent {
	t.Helper()
	msgs, err := st.PendingOutbox(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []record.AlarmEvent
	for _, m := range msgs {
		if m.Kind != store.KindAlarm {
			continue
		}
		var ev record.AlarmEvent
		if err := json.Unmarshal(m.Payload, &ev); err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

func describeAlarms(evs []record.AlarmEvent) string {
	s := ""
	for _, e := range evs {
		s += fmt.Sprintf("[%s %s %s %s] ", e.Kind, e.State, e.Code, e.AlarmID)
	}
	return s
}

// A reader that misses polls and answers again within the fault window is
// not in fault: no alarm, nothing on the lane. One that stays silent for
// the window is: one device_fault alarm raised, with a reason code and
// zh/en text, and one cleared with the same id when it comes back.
func TestDeviceFaultWindow(t *testing.T) {
	g, l := vehicleAtIn1(t)
	clk := g.clk.(*clock.Fake)
	silent := fmt.Errorf("%w: timeout", idcard.ErrNotResponding)
	for range 5 { // flapping under load, each time back within the window
		l.Card(DeviceIDCard, "", idcard.Event{Kind: idcard.EventFault, Err: silent})
		clk.Advance(DefaultFaultWindow - time.Millisecond)
		l.Card(DeviceIDCard, "", idcard.Event{Kind: idcard.EventRecovered})
		clk.Advance(time.Second)
	}
	if s := sync1(t, l); len(s.Faults) != 0 {
		t.Fatalf("a device that came back within the window is in fault: %v", s.Faults)
	}
	if evs := alarmEvents(t, g.Store); len(evs) != 0 {
		t.Fatalf("alarms for a device that came back within the window: %s", describeAlarms(evs))
	}

	l.Card(DeviceIDCard, "", idcard.Event{Kind: idcard.EventFault, Err: silent})
	clk.Advance(DefaultFaultWindow)
	if s := sync1(t, l); len(s.Faults) != 1 {
		t.Fatalf("faults %v after the window, want in-1/idcard", s.Faults)
	}
	l.Card(DeviceIDCard, "", idcard.Event{Kind: idcard.EventFault, Err: silent}) // still silent: nothing new
	l.Card(DeviceIDCard, "", idcard.Event{Kind: idcard.EventRecovered})
	if s := sync1(t, l); len(s.Faults) != 0 {
		t.Fatalf("faults %v after recovery", s.Faults)
	}
	evs := alarmEvents(t, g.Store)
	if len(evs) != 2 || evs[0].State != record.StateRaised || evs[1].State != record.StateCleared ||
		evs[0].AlarmID == "" || evs[0].AlarmID != evs[0].ID || evs[1].AlarmID != evs[0].AlarmID {
		t.Fatalf("alarms %s, want device_fault raised then cleared with the same id", describeAlarms(evs))
	}
	raised := evs[0]
	if raised.Kind != record.AlarmDeviceFault || raised.Code != FaultNotResponding || raised.Text == nil ||
		raised.Text.ZH == "" || raised.Detail != raised.Text.EN || raised.Detail != "ID-card reader in-1/idcard does not answer" {
		t.Fatalf("raised alarm %+v %+v", raised, raised.Text)
	}
}

// An alarm outlives a restart: a device still in fault after it is not
// raised again, and one found working after it is cleared with the id it
// was raised with.
func TestDeviceFaultAcrossARestart(t *testing.T) {
	cfg := testConfig(t)
	clk := clock.NewFake(t0)
	st := openStore(t, cfg, clk)
	start := func() *Lane {
		g, err := Assemble(context.Background(), cfg, st, &testHardware{}, Options{Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- g.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		return g.Lane("in-1")
	}
	unplugged := fmt.Errorf("%w: open: no such file", idcard.ErrUnplugged)
	l := start()
	l.Card(DeviceIDCard, "", idcard.Event{Kind: idcard.EventFault, Err: unplugged})
	clk.Advance(DefaultFaultWindow)
	sync1(t, l)

	l = start() // the restart: the reader is still unplugged
	l.Card(DeviceIDCard, "", idcard.Event{Kind: idcard.EventFault, Err: unplugged})
	clk.Advance(DefaultFaultWindow)
	if s := sync1(t, l); len(s.Faults) != 1 {
		t.Fatalf("faults after the restart %v", s.Faults)
	}
	if evs := alarmEvents(t, st); len(evs) != 1 || evs[0].Code != FaultUnplugged {
		t.Fatalf("alarms %s, want one device_unplugged raised", describeAlarms(evs))
	}

	l = start() // another: the reader is back
	l.Card(DeviceIDCard, "", idcard.Event{Kind: idcard.EventRecovered})
	evs := alarmEvents(t, st)
	if len(evs) != 2 || evs[1].State != record.StateCleared || evs[1].AlarmID != evs[0].AlarmID {
		t.Fatalf("alarms %s, want the first cleared", describeAlarms(evs))
	}
	if active, _ := st.ActiveAlarms(context.Background()); len(active) != 0 {
		t.Fatalf("active alarms %+v", active)
	}
}
