package uplink

import (
	"testing"
)

// A broker cluster may deliver a replaced connection's last will after the
// new connection's "online" (docs/uplink.md, "Availability"): the gate reads
// its own availability and says "online" again. Its own clean stop still
// leaves "offline".
func TestStaleWillIsAnswered(t *testing.T) {
	m := startMosquitto(t)
	cfg := testConfig(m.url())
	s := subscribe(t, m.url(), "platform", nil, "hazgate/ningbo-chem/east-1/availability")
	r := newRig(t, "", cfg)
	last := func(ms []msg) string {
		a := on(ms, "/availability")
		if len(a) == 0 {
			return ""
		}
		return string(a[len(a)-1].payload)
	}
	s.waitFor(t, "online", func(ms []msg) bool { return last(ms) == "online" })
	waitConn(t, r.u, "subscribed", func(c ConnState) bool { return c.Subscribed })

	// The stale will, as a cluster node delivers it: retained offline.
	stale := subscribe(t, m.url(), "stale-will", nil, "nothing/here")
	if tok := stale.cli.Publish("hazgate/ningbo-chem/east-1/availability", 1, true, "offline"); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("publish the stale will: %v", tok.Error())
	}
	s.waitFor(t, "online said again after the stale offline", func(ms []msg) bool {
		a := on(ms, "/availability")
		for i, x := range a {
			if string(x.payload) == "offline" {
				for _, y := range a[i+1:] {
					if string(y.payload) == "online" {
						return true
					}
				}
			}
		}
		return false
	})
	// What a platform that connects now reads: online.
	late := subscribe(t, m.url(), "platform-late", nil, "hazgate/ningbo-chem/east-1/availability")
	late.waitFor(t, "retained online", func(ms []msg) bool { return last(ms) == "online" && ms[len(ms)-1].retained })

	// The gate's own stop is not answered: offline stays.
	r.stop()
	s.waitFor(t, "offline at the stop", func(ms []msg) bool { return last(ms) == "offline" })
	after := subscribe(t, m.url(), "platform-after", nil, "hazgate/ningbo-chem/east-1/availability")
	after.waitFor(t, "retained offline after the stop", func(ms []msg) bool { return last(ms) == "offline" && ms[len(ms)-1].retained })
}
