package uplink

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/hazgate/hazgate/watch"
)

// Twenty gates' uplinks, real stores and outboxes, spread over a 3-node
// NATS cluster with JetStream and its MQTT listeners: each gate's brokers
// are the three nodes, starting at its own. Mid-stream the first node is
// killed (SIGKILL) and started again. The checking subscriber is the
// safety office's own watcher (package watch, as `hazgate watch` runs it)
// on the third node, with a persistent session: it must count every event
// of every gate, in per-gate seq order, and report no gap and no conflict
// (a duplicate only with the same id, a redelivery).
func TestNATSClusterFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a 3-node cluster and 20 gates")
	}
	nodes := startNATSCluster(t)
	const gates, each = 20, 30
	platform := watchFeed(t, nodes[2].url(), "city-platform", "hazgate/city/#")
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
	platform.waitAll(t, rigs, each)
	dups := platform.check(t, rigs, each)
	// The watcher also read every gate's availability and status (a
	// status it could not read fails check). A gate that reconnected
	// elsewhere during the stall may have had its old connection's will
	// ("offline") published after its new "online": the watcher takes it
	// as online by what it sends since. Each gate's status changes now
	// (as the status refresh would republish it in a few minutes), and
	// the watcher must then show every gate online.
	before := platform.statuses()
	for _, r := range rigs {
		r.stat.set(StatusReport{Lanes: []LaneStatus{{Lane: "in-1", Phase: "idle"}}})
		r.u.StatusChanged()
	}
	platform.waitStatuses(t, rigs, before)
	platform.mu.Lock()
	stale := 0
	for _, r := range rigs {
		g := platform.w.Gate(r.u.cfg.Root)
		if g != nil && g.Online != "online" {
			t.Errorf("the watcher shows %s", g.Summary())
		}
		if g != nil && g.Sending {
			stale++
		}
	}
	platform.mu.Unlock()
	t.Logf("%d gates x %d events through a node's SIGKILL (%d gates moved to the next node): the watcher counted all, in order, no gap, %d duplicates; %d gates online by what they sent, their availability a stale will", gates, each, moved, dups, stale)
}

// feedWatch is the fleet tests' checking subscriber: the safety office's
// watcher (package watch) fed every message of a persistent MQTT session
// (clean session off, QoS 1), one at a time in the order they came. The
// tests ask it, not their own bookkeeping, whether a gate's feed is
// complete, and check besides that what it counted is what the gates sent.
type feedWatch struct {
	mu     sync.Mutex
	w      *watch.Watcher
	notes  []watch.Note
	errs   []string
	fresh  map[string][]watch.Note        // the events counted, by gate root, in order
	status map[string]int                 // live statuses heard, by gate root
	first  map[string]map[int64]time.Time // when each was counted
	notify chan struct{}
}

func watchFeed(t testing.TB, url, clientID string, filters ...string) *feedWatch {
	t.Helper()
	f := &feedWatch{w: watch.New(nil), fresh: map[string][]watch.Note{}, status: map[string]int{}, first: map[string]map[int64]time.Time{}, notify: make(chan struct{}, 1)}
	fm := map[string]byte{}
	for _, s := range filters {
		fm[s] = 1
	}
	o := mqtt.NewClientOptions().AddBroker(url).SetClientID(clientID).SetCleanSession(false).
		// A new cluster makes its MQTT session streams at the first
		// connection: the first try may time out.
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(100 * time.Millisecond).
		SetMaxReconnectInterval(200 * time.Millisecond).SetOrderMatters(true).
		SetOnConnectHandler(func(c mqtt.Client) { c.SubscribeMultiple(fm, nil) }).
		SetDefaultPublishHandler(func(_ mqtt.Client, m mqtt.Message) { f.handle(m.Topic(), m.Payload(), m.Retained()) })
	cli := mqtt.NewClient(o)
	if tok := cli.Connect(); !tok.WaitTimeout(2*wait) || tok.Error() != nil {
		t.Fatalf("watcher: connect: %v", tok.Error())
	}
	// The subscription is made in OnConnect; wait for its SUBACK by a
	// second, synchronous one.
	if tok := cli.SubscribeMultiple(fm, nil); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("watcher: subscribe: %v", tok.Error())
	}
	t.Cleanup(func() { cli.Disconnect(0) })
	return f
}

func (f *feedWatch) handle(topic string, payload []byte, retained bool) {
	at := time.Now()
	f.mu.Lock()
	notes, err := f.w.HandleMessage(topic, payload, retained)
	if err != nil {
		f.errs = append(f.errs, err.Error())
	}
	for _, n := range notes {
		f.notes = append(f.notes, n)
		if n.Kind == watch.KindStatus && !retained {
			f.status[n.Gate]++
		}
		if n.Kind == watch.KindEvent {
			f.fresh[n.Gate] = append(f.fresh[n.Gate], n)
			if f.first[n.Gate] == nil {
				f.first[n.Gate] = map[int64]time.Time{}
			}
			f.first[n.Gate][n.Seq] = at
		}
	}
	f.mu.Unlock()
	select {
	case f.notify <- struct{}{}:
	default:
	}
}

// counted is how many events the watcher has counted, over all gates.
func (f *feedWatch) counted() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, ev := range f.fresh {
		n += len(ev)
	}
	return n
}

// statuses is how many live statuses the watcher has heard, by gate.
func (f *feedWatch) statuses() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.status)
}

// waitStatuses waits until the watcher has heard a live status of every
// gate since before, failing after wait.
func (f *feedWatch) waitStatuses(t testing.TB, rigs []*rig, before map[string]int) {
	t.Helper()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		now, short := f.statuses(), 0
		for _, r := range rigs {
			if now[r.u.cfg.Root] <= before[r.u.cfg.Root] {
				short++
			}
		}
		if short == 0 {
			return
		}
		select {
		case <-f.notify:
		case <-deadline.C:
			t.Fatalf("%d gates' new status not heard by the watcher in %v", short, wait)
		}
	}
}

// heardLast says whether the watcher has heard seq each, the last, of
// every gate. A gate's events come in order, so by then the watcher has
// counted the rest, or reported them missing.
func (f *feedWatch) heardLast(rigs []*rig, each int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range rigs {
		if g := f.w.Gate(r.u.cfg.Root); g == nil || g.MaxSeq < int64(each) {
			return false
		}
	}
	return true
}

// waitAll waits until the watcher has heard the last event of every gate,
// failing after 3*wait.
func (f *feedWatch) waitAll(t testing.TB, rigs []*rig, each int) {
	t.Helper()
	deadline := time.NewTimer(3 * wait)
	defer deadline.Stop()
	for !f.heardLast(rigs, each) {
		select {
		case <-f.notify:
		case <-deadline.C:
			f.mu.Lock()
			var short []string
			for _, r := range rigs {
				if n := len(f.fresh[r.u.cfg.Root]); n < each {
					short = append(short, fmt.Sprintf("%s %d", r.u.cfg.Root, n))
				}
			}
			f.mu.Unlock()
			t.Fatalf("the watcher counted %d of %d events in %v; gates short: %s", f.counted(), len(rigs)*each, 3*wait, strings.Join(short, ", "))
		}
	}
}

// check holds the watcher's account to the contract, gate by gate: no
// message it could not read, no gap ever reported, no conflict, nothing
// missing; the events counted are seqs 1 to each in order, with the ids
// the gate's own outbox gave them. It returns the duplicates (the same
// id again) the watcher reported.
func (f *feedWatch) check(t testing.TB, rigs []*rig, each int) int {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.errs) > 0 {
		t.Fatalf("the watcher could not read %d messages, the first: %s", len(f.errs), f.errs[0])
	}
	dups := 0
	for _, n := range f.notes {
		switch n.Kind {
		case watch.KindGap, watch.KindFilled, watch.KindConflict:
			t.Errorf("the watcher reported: %s", n.Text())
		case watch.KindDuplicate:
			dups++
		}
	}
	if got := len(f.w.Gates()); got != len(rigs) {
		t.Errorf("the watcher heard %d gates, want %d", got, len(rigs))
	}
	for _, r := range rigs {
		root := r.u.cfg.Root
		g := f.w.Gate(root)
		if g == nil {
			t.Errorf("the watcher never heard %s", root)
			continue
		}
		if g.MissingCount() != 0 || g.FirstSeq() != 1 || g.MaxSeq != int64(each) {
			t.Errorf("%s: the watcher has seqs %d to %d, %d missing (%v); want 1 to %d, none missing", root, g.FirstSeq(), g.MaxSeq, g.MissingCount(), g.Missing(), each)
		}
		sent, err := r.st.SentEvents(context.Background(), 1, int64(each)+1, 2*each)
		if err != nil {
			t.Fatal(err)
		}
		ev := f.fresh[root]
		if len(ev) != each || len(sent) != each {
			t.Errorf("%s: the watcher counted %d events, the gate sent %d, want %d each", root, len(ev), len(sent), each)
			continue
		}
		for i, n := range ev {
			if n.Seq != int64(i+1) || n.ID != sent[i].ID || n.Event != sent[i].Kind {
				t.Errorf("%s: event %d counted as seq %d id %s (%s); the gate sent seq %d id %s (%s)", root, i+1, n.Seq, n.ID, n.Event, sent[i].EventSeq, sent[i].ID, sent[i].Kind)
				break
			}
		}
	}
	return dups
}
