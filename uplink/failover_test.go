package uplink

import (
	"encoding/json"
	"testing"
)

// With two brokers, the uplink is on the first; when that one dies
// (SIGKILL) it goes on to the second with the events not yet acknowledged:
// the platform, subscribed at both, gets every event in seq order with no
// gap, a duplicate only with the same id; the status says which broker the
// gate is on.
func TestBrokerFailover(t *testing.T) {
	m1, m2 := startMosquitto(t), startMosquitto(t)
	s1 := subscribe(t, m1.url(), "platform-1", nil, "hazgate/#")
	s2 := subscribe(t, m2.url(), "platform-2", nil, "hazgate/#")
	cfg := testConfig("")
	cfg.Brokers = []string{m1.url(), m2.url()}
	r := newRig(t, "", cfg)
	waitConn(t, r.u, "on the first broker", func(c ConnState) bool { return c.Connected && c.URL == m1.url() })
	for i := range 50 {
		r.alarm(t, i)
	}
	s1.waitFor(t, "the first 50 events at the first broker", haveAll(50))
	m1.kill()
	for i := range 50 {
		r.alarm(t, 50+i)
	}
	waitConn(t, r.u, "on the second broker", func(c ConnState) bool { return c.Connected && c.URL == m2.url() })
	s2.waitFor(t, "the rest at the second broker", func(ms []msg) bool { return haveAll(100)(append(s1.all(), ms...)) })
	dups := checkEvents(t, append(s1.all(), s2.all()...), 100)
	s2.waitFor(t, "the status naming the second broker", func(ms []msg) bool {
		st := on(ms, "/status")
		if len(st) == 0 {
			return false
		}
		var rep StatusReport
		json.Unmarshal(st[len(st)-1].payload, &rep)
		return rep.Uplink.URL == m2.url() && rep.Uplink.Connected
	})
	t.Logf("100 events over two brokers, %d duplicates", dups)
}
