package uplink

import (
	"context"
	"testing"

	"github.com/hazgate/hazgate/uplink/broker"
)

// The simulator's embedded broker carries the uplink's feed like a real one.
func TestEmbeddedBroker(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b, err := broker.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	s := subscribe(t, b.URL(), "platform", nil, "hazgate/#")
	r := newRig(t, "", testConfig(b.URL()))
	for i := range 20 {
		r.alarm(t, i)
	}
	checkEvents(t, s.waitFor(t, "events through mochi", haveAll(20)), 20)
	r.waitDrained(t)
}
