package main

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/hazgate/hazgate/uplink/broker"
)

// TestSimPublishesEveryEvent runs the demo against a broker the test
// watches: every inspection, passage and alarm arrives, with the design's
// fields and a gapless seq, before hazgate sim -once exits.
func TestSimPublishesEveryEvent(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b, err := broker.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	var mu sync.Mutex
	got := map[string][]map[string]any{}
	seqs := map[float64]bool{}
	all := make(chan struct{})
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(b.URL()).SetClientID("watcher"))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer c.Disconnect(100)
	tok := c.Subscribe("hazgate/demo/sim/#", 1, func(_ mqtt.Client, m mqtt.Message) {
		var v map[string]any
		if json.Unmarshal(m.Payload(), &v) != nil {
			v = map[string]any{"raw": string(m.Payload())}
		}
		mu.Lock()
		defer mu.Unlock()
		got[m.Topic()] = append(got[m.Topic()], v)
		if m.Topic() == "hazgate/demo/sim/events/inspection" && len(got[m.Topic()]) == 10 {
			close(all)
		}
		if s, ok := v["seq"].(float64); ok {
			seqs[s] = true
		}
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}

	code, out, errs := run(t, "sim", "-once", "-speed", "0", "-broker", b.URL())
	if code != 0 {
		t.Fatalf("sim: %d\n%s%s", code, out, errs)
	}
	// -once returns once the outbox has drained (every PUBACK is in); the
	// broker's delivery to this subscription may trail it a little.
	select {
	case <-all:
	case <-time.After(10 * time.Second):
	}
	mu.Lock()
	defer mu.Unlock()
	ins := got["hazgate/demo/sim/events/inspection"]
	if len(ins) != 10 {
		t.Fatalf("%d inspections on MQTT, want 10; topics: %v", len(ins), keys(got))
	}
	for _, k := range []string{"schema", "id", "seq", "gate", "lane", "ts", "plate", "people", "waybill", "goods", "checks", "verdict", "decided_by", "timings"} {
		if _, ok := ins[0][k]; !ok {
			t.Errorf("inspection payload lacks %q", k)
		}
	}
	if len(got["hazgate/demo/sim/events/passage"]) == 0 || len(got["hazgate/demo/sim/events/alarm"]) == 0 {
		t.Fatalf("no passages or alarms: %v", keys(got))
	}
	for i := 1; i <= len(seqs); i++ {
		if !seqs[float64(i)] {
			t.Fatalf("seq %d missing among %d events", i, len(seqs))
		}
	}
}

func keys(m map[string][]map[string]any) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		out[k] = len(v)
	}
	return out
}

// hazgate sim -park runs two gates of one park on the embedded broker: the
// count of vehicles inside goes up at both with the entry at east and down
// at both with the exit at west.
func TestSimPark(t *testing.T) {
	code, out, errs := run(t, "sim", "-park")
	if code != 0 {
		t.Fatalf("sim -park: %d\n%s%s", code, out, errs)
	}
	for _, want := range []string{"at east: 1, at west: 1", "at east: 0, at west: 0", "names the east gate's entry inspection 01"} {
		if !strings.Contains(out, want) {
			t.Fatalf("no %q in:\n%s", want, out)
		}
	}
	if code, _, _ := run(t, "sim", "-park", "-scenario", "x.yaml"); code != 2 {
		t.Fatalf("-park with -scenario: exit %d, want 2", code)
	}
}
