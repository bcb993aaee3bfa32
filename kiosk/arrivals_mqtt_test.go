package kiosk

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/hazgate/hazgate/uplink"
)

// The carrier hears it before the trip: the gate's pre-clearances go out
// on a real Mosquitto as events/preclearance, each an event with its seq,
// the failing one with its reasons in zh and en.
func TestPreclearanceEventsOnMosquitto(t *testing.T) {
	url := startMosquitto(t)
	h := arrivalsHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	u, err := uplink.New(uplink.Config{Broker: url, Park: "test-park", Gate: "test-gate", TelemetryInterval: -1}, h.st,
		uplink.Deps{Clock: h.gateClk, Alarms: h.gate.Keeper})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); u.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	events := make(chan map[string]any, 100)
	c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("carrier-platform").SetAutoReconnect(false))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("platform client: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	sub := c.Subscribe("hazgate/test-park/test-gate/events/preclearance", 1, func(_ paho.Client, m paho.Message) {
		var b map[string]any
		if json.Unmarshal(m.Payload(), &b) == nil {
			events <- b
		}
	})
	if !sub.WaitTimeout(10*time.Second) || sub.Error() != nil {
		t.Fatalf("subscribe: %v", sub.Error())
	}
	u.Kick()

	// AP-01..04 today and AP-06 tomorrow; AP-05 is cancelled.
	got := map[string]map[string]any{}
	var seqs []float64
	timeout := time.After(20 * time.Second)
	for len(got) < 5 {
		select {
		case e := <-events:
			a := e["appointment"].(map[string]any)
			got[a["id"].(string)] = e
			seqs = append(seqs, e["seq"].(float64))
		case <-timeout:
			t.Fatalf("%d pre-clearance events within 20 s: %v", len(got), got)
		}
	}
	slices.Sort(seqs)
	for i, s := range seqs {
		if s != float64(i+1) {
			t.Fatalf("seqs %v: want 1..5", seqs)
		}
	}
	if _, ok := got["AP-05"]; ok {
		t.Fatal("a cancelled appointment was pre-cleared")
	}
	e := got["AP-03"]
	if e["schema"] != "hazgate.preclearance/1" || e["verdict"] != "reject" || e["plate"] != "浙B40003" || e["id"] == "" {
		t.Fatalf("AP-03: %v", e)
	}
	if f := e["failed"].([]any); len(f) != 1 || f[0] != "inspection_validity" {
		t.Fatalf("AP-03 failed %v", f)
	}
	iv := e["checks"].(map[string]any)["inspection_validity"].(map[string]any)
	m := iv["messages"].([]any)[0].(map[string]any)
	if m["code"] != "inspection_expired" || m["zh"] == "" || m["en"] == "" {
		t.Fatalf("AP-03 inspection_validity %v", iv)
	}
	if n := e["note"].(map[string]any); n["zh"] == "" || n["en"] == "" {
		t.Fatalf("note %v", n)
	}
	if got["AP-01"]["verdict"] != "pass" || got["AP-04"]["verdict"] != "review" {
		t.Fatalf("AP-01 %v, AP-04 %v", got["AP-01"]["verdict"], got["AP-04"]["verdict"])
	}
}
