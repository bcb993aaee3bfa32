package kiosk

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/hazgate/hazgate/uplink"
	"github.com/hazgate/hazgate/uplink/broker"
)

// alarmWatch is the park's platform in the browser test: an MQTT client on
// the gate's alarm topic, behind the real uplink and the embedded broker.
type alarmWatch struct {
	alarms chan map[string]any
}

// watchAlarms starts the embedded broker and the uplink over the harness's
// store, and subscribes to the gate's alarms.
func watchAlarms(t *testing.T, h *harness) *alarmWatch {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b, err := broker.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u, err := uplink.New(uplink.Config{Broker: b.URL(), Park: "test-park", Gate: "test-gate", TelemetryInterval: -1}, h.st,
		uplink.Deps{Clock: h.gateClk, Alarms: h.gate.Keeper})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); u.Run(ctx) }()

	w := &alarmWatch{alarms: make(chan map[string]any, 100)}
	opts := paho.NewClientOptions().AddBroker(b.URL()).SetClientID("kiosk-test-platform").SetAutoReconnect(false)
	c := paho.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("platform client: %v", tok.Error())
	}
	sub := c.Subscribe("hazgate/test-park/test-gate/events/alarm", 1, func(_ paho.Client, m paho.Message) {
		var a map[string]any
		if json.Unmarshal(m.Payload(), &a) == nil {
			select {
			case w.alarms <- a:
			default:
			}
		}
	})
	if !sub.WaitTimeout(10*time.Second) || sub.Error() != nil {
		t.Fatalf("subscribe: %v", sub.Error())
	}
	t.Cleanup(func() {
		c.Disconnect(100)
		cancel()
		<-done
		b.Close()
	})
	return w
}

// wait waits for the operator_override alarm about the inspection.
func (w *alarmWatch) wait(t *testing.T, inspectionID string) map[string]any {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case a := <-w.alarms:
			if a["kind"] == "operator_override" && a["inspection_id"] == inspectionID {
				t.Logf("alarm on MQTT: %v", a["detail"])
				return a
			}
		case <-timeout:
			t.Fatalf("no operator_override alarm for %s on MQTT within 20 s", inspectionID)
			return nil
		}
	}
}
