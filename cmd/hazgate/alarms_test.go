package main

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/record"
	"github.com/hazgate/hazgate/sim"
)

// runScenario plays a scenario file on the simulator with its uplink on
// broker, and returns the engine (closed when the test ends) and its report.
func runScenario(t *testing.T, file, broker, gate string) (*sim.Engine, *sim.Report) {
	t.Helper()
	sc, err := sim.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	e, err := sim.New(ctx, sc, sim.Options{DB: t.TempDir() + "/gate.db", Park: "p1", Gate: gate, Broker: broker, ClientID: "hazgate-" + gate})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	rep, err := e.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return e, rep
}

// A simulated reader unplugged and plugged back gives, on a real Mosquitto,
// a device_fault alarm raised and then cleared with the same alarm id, each
// with its reason code and zh/en text; the retained status lists the alarm
// while it is on (here: not any more).
func TestDeviceAlarmRaisedAndClearedOnTheBroker(t *testing.T) {
	broker := startBroker(t)
	const root = "hazgate/p1/g-unplug"
	feed := watch(t, broker.url(), "unplug", root+"/events/alarm", root+"/status")
	runScenario(t, "../../sim/testdata/72-reader-back-in-time.yaml", broker.url(), "g-unplug")

	alarm := func(m message) record.AlarmEvent {
		var ev record.AlarmEvent
		if err := json.Unmarshal([]byte(m.payload), &ev); err != nil {
			t.Fatalf("alarm %s: %v", m.payload, err)
		}
		return ev
	}
	isDevice := func(state string) func(message) bool {
		return func(m message) bool {
			if m.topic != root+"/events/alarm" {
				return false
			}
			ev := alarm(m)
			return ev.Kind == record.AlarmDeviceFault && ev.State == state
		}
	}
	raised := alarm(feed.await(t, "a device_fault raised", isDevice(record.StateRaised)))
	cleared := alarm(feed.await(t, "the device_fault cleared", isDevice(record.StateCleared)))
	if raised.AlarmID == "" || cleared.AlarmID != raised.AlarmID || cleared.ID == raised.ID {
		t.Fatalf("raised %s (alarm %s), cleared %s (alarm %s): want the same alarm id on two events", raised.ID, raised.AlarmID, cleared.ID, cleared.AlarmID)
	}
	if raised.Lane != "in-1" || raised.Code != "device_unplugged" || raised.Text == nil || raised.Text.ZH == "" || raised.Detail != raised.Text.EN {
		t.Fatalf("raised %+v text %+v", raised, raised.Text)
	}
	if cleared.Code != raised.Code || cleared.Text == nil || cleared.Text.EN == "" {
		t.Fatalf("cleared %+v text %+v", cleared, cleared.Text)
	}
}

// The demo played with both cores busy raises no device_fault: a reader
// that misses a poll under load is not in fault (the fault window).
func TestLoadedDemoRaisesNoDeviceFault(t *testing.T) {
	broker := startBroker(t)
	const root = "hazgate/p1/g-loaded"
	feed := watch(t, broker.url(), "loaded", root+"/events/#")

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Go(func() {
			n := 0
			for {
				select {
				case <-stop:
					return
				default:
					for i := range 100000 {
						n += i
					}
				}
			}
		})
	}
	e, rep := runScenario(t, "../../sim/demo.yaml", broker.url(), "g-loaded")
	close(stop)
	wg.Wait()

	entries := 0
	for _, ins := range rep.Inspections {
		if slices.Contains(ins.Alarms, record.AlarmDeviceFault) {
			t.Fatalf("the loaded demo raised a device_fault at %s %s; alarms %v", ins.Lane, ins.Plate, ins.Alarms)
		}
		if l := e.Gate().Lane(ins.Lane); l != nil && l.Config.Direction == lane.DirectionIn {
			entries++
		}
	}
	if entries == 0 {
		t.Fatal("the demo made no inspections")
	}
	// Every inspection reaches the broker, in the order of the events:
	// the alarms raised before the last of them are on the broker by then.
	for i := range entries {
		feed.await(t, fmt.Sprintf("inspection %d of %d", i+1, entries), func(m message) bool { return m.topic == root+"/events/inspection" })
	}
	active, err := e.Store().ActiveAlarms(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range active {
		if a.Kind == record.AlarmDeviceFault {
			t.Fatalf("device_fault still on after the loaded demo: %+v", a)
		}
	}
	feed.mu.Lock()
	msgs := slices.Clone(feed.msgs)
	feed.mu.Unlock()
	for _, m := range msgs {
		if m.topic == root+"/events/alarm" {
			var ev record.AlarmEvent
			json.Unmarshal([]byte(m.payload), &ev)
			if ev.Kind == record.AlarmDeviceFault {
				t.Fatalf("a device_fault on the broker: %s", m.payload)
			}
		}
	}
}

// A reader that misses polls for a second (testdata/missed-polls.yaml: the
// simulated reader silent, its real driver reporting the fault and the
// recovery) is not in fault: the gate's fault window outlasts it, so the
// broker sees the vehicle's inspection and no device_fault, and the report
// no alarm at all.
func TestMissedPollsAreNoFault(t *testing.T) {
	broker := startBroker(t)
	const root = "hazgate/p1/g-missed"
	feed := watch(t, broker.url(), "missed", root+"/events/#")
	e, rep := runScenario(t, "testdata/missed-polls.yaml", broker.url(), "g-missed")
	if rep.Failed != 0 || len(rep.Inspections) != 1 {
		t.Fatalf("report: %d failed, inspections %+v", rep.Failed, rep.Inspections)
	}
	if a := rep.Inspections[0].Alarms; len(a) != 0 {
		t.Fatalf("alarms %v, want none", a)
	}
	feed.await(t, "the inspection", func(m message) bool { return m.topic == root+"/events/inspection" })
	feed.mu.Lock()
	msgs := slices.Clone(feed.msgs)
	feed.mu.Unlock()
	for _, m := range msgs {
		if m.topic == root+"/events/alarm" {
			t.Fatalf("an alarm on the broker: %s", m.payload)
		}
	}
	if active, _ := e.Store().ActiveAlarms(context.Background()); len(active) != 0 {
		t.Fatalf("alarms on: %+v", active)
	}
}
