package uplink

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
)

// Twenty gates' uplinks, real stores and outboxes, spread over a 3-node
// NATS cluster with JetStream and its MQTT listeners: each gate's brokers
// are the three nodes, starting at its own. Mid-stream the first node is
// killed (SIGKILL) and started again; a subscriber on the third node, with
// a persistent session, gets every event of every gate, in per-gate seq
// order with no gap (a duplicate only with the same id).
func TestNATSClusterFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a 3-node cluster and 20 gates")
	}
	nodes := startNATSCluster(t)
	const gates, each = 20, 30
	platform := subscribe(t, nodes[2].url(), "city-platform", nil, "hazgate/city/+/events/#")
	rigs := make([]*rig, gates)
	for i := range rigs {
		cfg := testConfig("")
		cfg.Park, cfg.Gate = "city", fmt.Sprintf("g%02d", i)
		cfg.ClientID = "hazgate-city-" + cfg.Gate
		for k := range nodes {
			cfg.Brokers = append(cfg.Brokers, nodes[(i+k)%len(nodes)].url())
		}
		rigs[i] = newRig(t, "", cfg)
	}
	for _, r := range rigs {
		waitConn(t, r.u, "connected", func(c ConnState) bool { return c.Connected })
	}
	record := func(from, to int) {
		var wg sync.WaitGroup
		for _, r := range rigs {
			wg.Go(func() {
				for i := from; i < to; i++ {
					r.alarm(t, i)
				}
			})
		}
		wg.Wait()
	}
	record(0, each/2)
	nodes[0].kill() // mid-stream: its gates go on to the next node
	record(each/2, each)
	nodes[0].start(natsBin(t))
	nodes[0].waitReady()
	for _, r := range rigs {
		r.waitDrained(t)
	}
	// The gates that were on the killed node went on to the next.
	moved := 0
	for i, r := range rigs {
		if i%len(nodes) == 0 {
			// It reconnected, to the next node (or, when the cluster
			// stalled under load, further round the list).
			if c := r.u.Connection(); c.Generation < 2 {
				t.Fatalf("gate %d after its node died: still on its first connection to %s", i, c.URL)
			}
			moved++
		}
	}
	got := platform.waitFor(t, "every event of every gate", func(ms []msg) bool {
		seen := map[string]map[int64]bool{}
		for _, m := range ms {
			g := gateOf(m.topic)
			if seen[g] == nil {
				seen[g] = map[int64]bool{}
			}
			seen[g][m.seq] = true
		}
		if len(seen) < gates {
			return false
		}
		for _, s := range seen {
			if len(s) < each {
				return false
			}
		}
		return true
	})
	byGate := map[string][]msg{}
	for _, m := range got {
		byGate[gateOf(m.topic)] = append(byGate[gateOf(m.topic)], m)
	}
	dups := 0
	names := make([]string, 0, len(byGate))
	for g := range byGate {
		names = append(names, g)
	}
	sort.Strings(names)
	for _, g := range names {
		dups += checkEvents(t, byGate[g], each)
	}
	t.Logf("%d gates x %d events through a node's SIGKILL (%d gates moved to the next node): all arrived in order, %d duplicates", gates, each, moved, dups)
}

// gateOf is the gate level of hazgate/<park>/<gate>/...
func gateOf(topic string) string {
	parts := strings.SplitN(topic, "/", 4)
	if len(parts) < 3 {
		return ""
	}
	return parts[2]
}
