package kiosk

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/hazgate/hazgate/uplink"
)

// The safety office sees which reviewed vehicles got in: a release, here
// the safety office's own (uplink "release" -> lanes.Set.Release -> the
// lane), goes out on a real Mosquitto as events/decision, with its seq in
// order after the inspection's and the override alarm's; the inspection
// event goes out once.
func TestDecisionEventOnMosquitto(t *testing.T) {
	url := startMosquitto(t)
	h := newHarness(t, Config{}, "in-1")
	ctx, cancel := context.WithCancel(context.Background())
	u, err := uplink.New(uplink.Config{Broker: url, Park: "test-park", Gate: "test-gate", TelemetryInterval: -1}, h.st,
		uplink.Deps{Clock: h.gateClk, Alarms: h.gate.Keeper})
	if err != nil {
		t.Fatal(err)
	}
	h.gate.Keeper.OnRecord = u.Kick
	done := make(chan struct{})
	go func() { defer close(done); u.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	type event struct {
		topic string
		body  map[string]any
	}
	events := make(chan event, 100)
	c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("safety-office").SetAutoReconnect(false))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("safety office client: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	sub := c.Subscribe("hazgate/test-park/test-gate/events/#", 1, func(_ paho.Client, m paho.Message) {
		var b map[string]any
		if json.Unmarshal(m.Payload(), &b) == nil {
			events <- event{m.Topic(), b}
		}
	})
	if !sub.WaitTimeout(10*time.Second) || sub.Error() != nil {
		t.Fatalf("subscribe: %v", sub.Error())
	}

	h.arrive("in-1", reviewVehicle)
	id := h.runner("in-1").Snapshot().InspectionID
	if id == "" {
		t.Fatal("no inspection held on in-1")
	}
	if err := h.gate.Lanes.Release(ctx, "in-1", id, "remote:safety-office", "押运员身份已电话核实"); err != nil {
		t.Fatal(err)
	}
	h.send("in-1")
	u.Kick()

	var got []event
	timeout := time.After(20 * time.Second)
	for decision := false; !decision; {
		select {
		case e := <-events:
			got = append(got, e)
			decision = e.topic == "hazgate/test-park/test-gate/events/decision"
		case <-timeout:
			t.Fatalf("no events/decision within 20 s; got %v", got)
		}
	}
	var topics []string
	prev := 0.0
	for _, e := range got {
		topics = append(topics, e.topic)
		seq, _ := e.body["seq"].(float64)
		if seq != prev+1 {
			t.Fatalf("seq %v after %v on %s: want the next one (events %v)", seq, prev, e.topic, got)
		}
		prev = seq
	}
	want := []string{"hazgate/test-park/test-gate/events/inspection", "hazgate/test-park/test-gate/events/alarm", "hazgate/test-park/test-gate/events/decision"}
	if len(topics) != len(want) || topics[0] != want[0] || topics[1] != want[1] || topics[2] != want[2] {
		t.Fatalf("topics %v, want %v", topics, want)
	}
	d := got[2].body
	for k, v := range map[string]any{"schema": "hazgate.decision/1", "inspection_id": id, "action": "release", "operator": "remote:safety-office",
		"reason": "押运员身份已电话核实", "outcome": "released", "plate": reviewVehicle.plate, "verdict": "review", "lane": "in-1", "gate": "test-gate"} {
		if d[k] != v {
			t.Errorf("decision event %s = %v, want %v", k, d[k], v)
		}
	}
	if ts, _ := d["ts"].(string); ts == "" {
		t.Error("decision event has no ts")
	}
}
