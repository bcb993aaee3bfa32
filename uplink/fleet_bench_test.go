package uplink

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkFleet: N gates' uplinks (real stores and outboxes) against one
// Mosquitto and against the 3-node NATS cluster, measured side by side in
// one run: the aggregate events/s from the first commit to the last
// arrival at a subscriber on another node (the cluster's third), and the
// p50/p99 from an event's commit to its arrival. The nats-kill case kills
// the first node half-way and reports the recovery: over every gate (those
// that were on it go to the next node; the others wait while the cluster
// elects new stream leaders), the longest time from its last event that
// arrived before the kill to its first after (docs/benchmarks.md, "A city
// of gates").
// Run with -benchtime 1x.
func BenchmarkFleet(b *testing.B) {
	const per = 20 // events per gate
	for _, n := range []int{20, 50, 100} {
		b.Run(fmt.Sprintf("mosquitto/gates=%d", n), func(b *testing.B) {
			m := startMosquitto(b)
			fleet(b, []string{m.url()}, m.url(), n, per, nil)
		})
		b.Run(fmt.Sprintf("nats/gates=%d", n), func(b *testing.B) {
			nodes := startNATSCluster(b)
			fleet(b, natsURLs(nodes), nodes[2].url(), n, per, nil)
		})
	}
	b.Run("nats-kill/gates=20", func(b *testing.B) {
		nodes := startNATSCluster(b)
		fleet(b, natsURLs(nodes), nodes[2].url(), 20, 40, nodes[0])
	})
}

func natsURLs(nodes []*natsNode) []string {
	var out []string
	for _, n := range nodes {
		out = append(out, n.url())
	}
	return out
}

// fleet runs n gates of per events each over brokers (gate i starting at
// broker i mod len), watched at watchAt; kill, when given, is killed
// half-way.
func fleet(b *testing.B, brokers []string, watchAt string, n, per int, kill *natsNode) {
	b.Helper()
	// The checking subscriber is the safety office's watcher (package
	// watch): it times each event's first arrival, and says at the end
	// that every gate's feed came complete, in order, without a gap.
	fw := watchFeed(b, watchAt, "fleet-watch", "hazgate/fleet/+/events/#")
	rigs := make([]*rig, n)
	for i := range rigs {
		cfg := testConfig("")
		cfg.Park, cfg.Gate, cfg.ClientID = "fleet", fmt.Sprintf("g%03d", i), fmt.Sprintf("hazgate-fleet-g%03d", i)
		for k := range brokers {
			cfg.Brokers = append(cfg.Brokers, brokers[(i+k)%len(brokers)])
		}
		rigs[i] = newRig(b, "", cfg)
	}
	for _, r := range rigs {
		waitConn(b, r.u, "connected", func(c ConnState) bool { return c.Subscribed })
	}
	committed := make([][]time.Time, n) // by gate, by seq-1
	var killedAt time.Time
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	half := make(chan struct{})
	var halfOnce sync.Once
	for g, r := range rigs {
		wg.Go(func() {
			for i := range per {
				if i == per/2 {
					halfOnce.Do(func() { close(half) })
				}
				r.alarm(b, i)
				committed[g] = append(committed[g], time.Now())
			}
		})
	}
	if kill != nil {
		<-half
		killedAt = time.Now()
		kill.kill()
	}
	wg.Wait()
	fw.waitAll(b, rigs, per)
	end := time.Now()
	b.StopTimer()
	for _, r := range rigs { // the last marks may trail the arrivals
		r.waitDrained(b)
	}
	fw.check(b, rigs, per)
	fw.mu.Lock()
	defer fw.mu.Unlock()
	var lat []time.Duration
	for g, r := range rigs {
		for i, c := range committed[g] {
			if at, ok := fw.first[r.u.cfg.Root][int64(i+1)]; ok {
				lat = append(lat, at.Sub(c))
			}
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(n*per)/end.Sub(start).Seconds(), "events/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	if kill != nil {
		var worst time.Duration
		for g := range rigs {
			var before, after time.Time
			for _, at := range fw.first[rigs[g].u.cfg.Root] {
				if at.Before(killedAt) && at.After(before) {
					before = at
				}
				if at.After(killedAt) && (after.IsZero() || at.Before(after)) {
					after = at
				}
			}
			if !before.IsZero() && !after.IsZero() {
				worst = max(worst, after.Sub(before))
			}
		}
		b.ReportMetric(float64(worst.Milliseconds()), "recovery-ms")
	}
}
