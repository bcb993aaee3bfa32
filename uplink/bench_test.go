package uplink

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/record"
	"github.com/hazgate/hazgate/store"
)

// The uplink benchmarks run against a local Mosquitto started by the
// benchmark, and report their figures as metrics (docs/benchmarks.md, "MQTT
// uplink"). Run them with -benchtime Nx: N is the number of events.

// benchPayload is an inspection event of realistic size (about 1.3 kB).
func benchPayload(i int) json.RawMessage {
	b, _ := json.Marshal(map[string]any{
		"schema": "hazgate.inspection/1", "id": fmt.Sprintf("01J%023d", i), "gate": "east-1", "lane": "in-1",
		"ts": "2026-03-15T09:00:21.5+08:00", "direction": "in", "plate": "浙B12345", "trailer": "浙B6789挂",
		"people": []map[string]any{{"role": "driver", "id_number": "11010519491231002X", "name": "张三", "face": 0.93},
			{"role": "escort", "id_number": "110105194912310037", "name": "李四", "face": 0.91}},
		"waybill": "YD3302002603150001", "goods": []map[string]any{{"un": "UN1077", "name": "丙烯", "class": "2.1", "quantity_kg": 24000}},
		"checks": map[string]any{
			"vehicle_documents":       map[string]any{"result": "pass", "reasons": []string{}, "messages": []string{}},
			"personnel_qualification": map[string]any{"result": "pass", "reasons": []string{}, "messages": []string{}},
			"inspection_validity":     map[string]any{"result": "pass", "reasons": []string{}, "messages": []string{}},
			"waybill_consistency":     map[string]any{"result": "pass", "reasons": []string{}, "messages": []string{}},
			"tank_media":              map[string]any{"result": "pass", "reasons": []string{}, "messages": []string{}},
			"identity":                map[string]any{"result": "pass", "reasons": []string{}, "messages": []string{}},
			"park_rules":              map[string]any{"result": "pass", "reasons": []string{}, "messages": []string{}},
		},
		"verdict": "pass", "verdict_reasons": []string{}, "decided_by": "system",
		"arrived_at": "2026-03-15T09:00:00+08:00", "decided_at": "2026-03-15T09:00:21.5+08:00",
		"timings":  map[string]float64{"plate_s": 1, "driver_card_s": 8, "driver_face_s": 9, "escort_card_s": 14, "escort_face_s": 15, "waybill_s": 20, "decided_s": 21.5},
		"registry": map[string]any{"version": 42, "synced_at": "2026-03-15T08:00:00+08:00"},
	})
	return b
}

// benchEvents returns n inspection events (made before any timing starts:
// the producer's JSON encoding is not what is measured).
func benchEvents(n, from int) []store.OutboxMessage {
	out := make([]store.OutboxMessage, n)
	for i := range out {
		out[i] = store.OutboxMessage{Kind: store.KindInspection, Topic: "events/inspection", Lane: "in-1", Payload: benchPayload(from + i)}
	}
	return out
}

// rawPaho publishes the payloads at QoS 1 with paho directly, at most
// window awaiting their PUBACK, and returns events/s and the CPU time this
// process spent per event. Like with like: the client has the uplink's own
// paho options (options()), publishes the bytes the uplink would send
// (payloads stamped with their seq) to the topic the uplink sends them to,
// and takes the PUBACKs in order from the one goroutine that publishes, as
// the uplink does. It opens its connection as paho does, unless buffered:
// then as the uplink does (dial, reading through a buffer).
func rawPaho(b *testing.B, url string, payloads [][]byte, window int, buffered bool) (rate, cpu float64) {
	// An uplink that never runs: for its options and topic only.
	st := openStore(b, filepath.Join(b.TempDir(), "raw.db"))
	defer st.Close()
	u, err := New(testConfig(url), st, Deps{Alarms: nopAlarms{}})
	if err != nil {
		b.Fatal(err)
	}
	o := (&session{u: u, lost: make(chan struct{})}).options().
		SetClientID(fmt.Sprintf("raw-%d", window)).UnsetWill().
		SetConnectionLostHandler(func(mqtt.Client, error) {})
	if !buffered {
		o.CustomOpenConnectionFn = nil // paho's own
	}
	c := mqtt.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		b.Fatal(tok.Error())
	}
	defer c.Disconnect(0)
	topic := u.topic("events/inspection")
	n := len(payloads)
	toks := make([]mqtt.Token, n)
	waitFor := func(t mqtt.Token) {
		<-t.Done()
		if err := t.Error(); err != nil {
			b.Fatalf("raw publish: %v", err)
		}
	}
	cpu0 := processCPU()
	start := time.Now()
	// As the uplink's drain: one goroutine publishes in order and, when
	// the window is full, waits for the oldest PUBACK.
	oldest := 0
	for i := range n {
		for ; i-oldest >= window; oldest++ {
			waitFor(toks[oldest])
		}
		toks[i] = c.Publish(topic, 1, false, payloads[i])
	}
	for ; oldest < n; oldest++ {
		waitFor(toks[oldest])
	}
	return float64(n) / time.Since(start).Seconds(), perEvent(processCPU()-cpu0, n)
}

// processCPU is the CPU time (user and system) this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// perEvent is d per event, in µs.
func perEvent(d time.Duration, n int) float64 { return float64(d.Microseconds()) / float64(n) }

// startUplink runs an uplink with cfg on an open store, with a gate as its
// alarm sink, until the returned stop is called.
func startUplink(b testing.TB, st *store.Store, cfg Config) (*Uplink, func()) {
	cfg.NonceFile = filepath.Join(b.TempDir(), "nonces.json")
	u, err := New(cfg, st, Deps{Log: testLog(b), Alarms: record.New(cfg.Gate, st, checks.Params{}, nil), Clock: clock.Real{}})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- u.Run(ctx) }()
	return u, func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}
}

// waitAcked waits until the uplink has marked n messages sent.
func waitAcked(b testing.TB, u *Uplink, n int64) {
	deadline := time.NewTimer(10 * time.Minute)
	defer deadline.Stop()
	for u.Stats().Acked < n {
		select {
		case <-u.marked:
		case <-time.After(100 * time.Millisecond):
		case <-deadline.C:
			b.Fatalf("only %d of %d acknowledged", u.Stats().Acked, n)
		}
	}
}

// sustainedBatch is how many events the sustained producer writes per
// durable commit, and the benchmarks fill the outbox with: many events to
// an fsync, and short enough a batch that checking each event's id against
// the batch's own (trigger outbox_id_unique) stays cheap.
const sustainedBatch = 64

// fill writes events to the outbox, sustainedBatch to a durable commit.
func fill(b testing.TB, st *store.Store, events []store.OutboxMessage) {
	for i := 0; i < len(events); i += sustainedBatch {
		if err := st.Enqueue(context.Background(), time.Now(), events[i:min(i+sustainedBatch, len(events))]...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUplinkThroughput: QoS 1 events/s through the outbox, to the
// same Mosquitto, in the same run, as ratios to what bounds them:
//
//   - drain: the outbox holds the events (written, the store closed and
//     opened again, as after a restart), the uplink sends them: its own
//     cost, from Run to the last PUBACK marked (read, stamp, publish,
//     PUBACK, mark), as a ratio to raw paho QoS 1 publishing (rawPaho: the
//     same paho options, window, payload bytes and topic). Raw paho is
//     measured just before and just after the drain, and the ratios are
//     to the mean of the two, so that a change in the machine's load
//     during the run weighs on both sides alike;
//   - sustained: a producer writes the events (sustainedBatch per durable
//     commit) while the uplink sends them, as a ratio to the producer
//     alone, writing the same events to a store with no uplink: the
//     durable producer's ceiling, which no uplink can pass (each event is
//     committed before it can be sent); and as a ratio to raw paho;
//   - commit_each: every event its own durable commit, as the gate writes
//     them (bound by the disk's fsync).
//
// Also reported: raw paho with no window at all; raw paho reading its
// connection through the uplink's buffer (dial), which shows the uplink's
// own cost apart from what its connection saves; and the CPU time of this
// process per event (µs) for raw paho and for the drain.
func BenchmarkUplinkThroughput(b *testing.B) {
	m := startMosquitto(b)
	n := b.N
	cfg := testConfig(m.url())
	cfg.Poll = 5 * time.Millisecond
	window := 32
	cfg.InFlight = window
	events := benchEvents(n, 0)
	payloads := make([][]byte, n)
	for i, e := range events {
		payloads[i] = stamp(append([]byte(nil), e.Payload...), int64(i+1), 0, cfg.QueuedAfter)
	}
	ctx := context.Background()

	rawAll, _ := rawPaho(b, m.url(), payloads, 65000, false)
	raw1, rawCPU1 := rawPaho(b, m.url(), payloads, window, false)

	drain := func() (rate, cpu float64) {
		dir := b.TempDir()
		st := openStore(b, filepath.Join(dir, "gate.db"))
		fill(b, st, events)
		st.Close()
		st = openStore(b, filepath.Join(dir, "gate.db"))
		defer st.Close()
		cpu0 := processCPU()
		start := time.Now()
		u, stop := startUplink(b, st, cfg)
		defer stop()
		waitAcked(b, u, int64(n))
		return float64(n) / time.Since(start).Seconds(), perEvent(processCPU()-cpu0, n)
	}
	produce := func(st *store.Store, count, batch int, kick func()) {
		for i := 0; i < count; i += batch {
			if err := st.Enqueue(ctx, time.Now(), events[i:min(i+batch, count)]...); err != nil {
				b.Error(err)
				return
			}
			kick()
		}
	}
	producerAlone := func(count, batch int) float64 {
		st := openStore(b, filepath.Join(b.TempDir(), "gate.db"))
		defer st.Close()
		start := time.Now()
		produce(st, count, batch, func() {})
		return float64(count) / time.Since(start).Seconds()
	}
	sustained := func(count, batch int) float64 {
		r := newRig(b, "", cfg)
		defer r.stop()
		waitConn(b, r.u, "connected", func(c ConnState) bool { return c.Connected })
		start := time.Now()
		go produce(r.st, count, batch, r.u.Kick)
		waitAcked(b, r.u, int64(count))
		return float64(count) / time.Since(start).Seconds()
	}
	b.ResetTimer()
	dr, drCPU := drain()
	b.StopTimer()
	raw2, rawCPU2 := rawPaho(b, m.url(), payloads, window, false)
	raw, rawCPU := (raw1+raw2)/2, (rawCPU1+rawCPU2)/2
	rawBuf, rawBufCPU := rawPaho(b, m.url(), payloads, window, true)
	alone := producerAlone(n, sustainedBatch)
	su := sustained(n, sustainedBatch)
	each := sustained(max(n/10, 1), 1)
	b.ReportMetric(raw, "raw_paho_events/s")
	b.ReportMetric(rawAll, "raw_paho_unbounded_events/s")
	b.ReportMetric(rawCPU, "raw_paho_cpu_us/event")
	b.ReportMetric(dr, "outbox_drain_events/s")
	b.ReportMetric(drCPU, "outbox_drain_cpu_us/event")
	b.ReportMetric(dr/raw, "drain/raw")
	b.ReportMetric(rawBuf, "raw_paho_buffered_events/s")
	b.ReportMetric(rawBufCPU, "raw_paho_buffered_cpu_us/event")
	b.ReportMetric(dr/rawBuf, "drain/raw_buffered")
	// The ceiling of sustained: the events the store can take.
	b.ReportMetric(alone, "producer_alone_events/s")
	b.ReportMetric(alone/raw, "producer_alone/raw")
	b.ReportMetric(su, "outbox_sustained_events/s")
	b.ReportMetric(su/alone, "sustained/producer_alone")
	b.ReportMetric(su/raw, "sustained/raw")
	b.ReportMetric(each, "outbox_commit_each_events/s")
}

// BenchmarkBacklogDrain: 100 000 events wait in the outbox while the broker
// is down; it comes up; how fast they drain (from the broker running to the
// last PUBACK), how soon the first goes, and how long a fresh event written
// just after the drain started waits (strict FIFO: behind the backlog).
func BenchmarkBacklogDrain(b *testing.B) {
	const backlog = 100000
	for range b.N {
		m := newMosquitto(b, "allow_anonymous true")
		cfg := testConfig(m.url())
		cfg.ConnectRetry = 50 * time.Millisecond
		dir := b.TempDir()
		st := openStore(b, filepath.Join(dir, "gate.db"))
		ctx := context.Background()
		for i := 0; i < backlog; i += 100 * sustainedBatch {
			fill(b, st, benchEvents(min(100*sustainedBatch, backlog-i), i))
		}
		st.Close()
		r := newRig(b, dir, cfg)
		b.ResetTimer()
		m.start()
		up := time.Now()
		var firstAck atomic.Int64
		for r.u.Stats().Acked == 0 {
			<-r.u.marked
		}
		firstAck.Store(int64(time.Since(up)))
		freshAt := time.Now()
		if err := r.st.Enqueue(ctx, time.Now(), benchEvents(1, backlog)...); err != nil {
			b.Fatal(err)
		}
		r.u.Kick()
		waitAcked(b, r.u, backlog+1)
		total := time.Since(up)
		b.StopTimer()
		b.ReportMetric(float64(backlog)/total.Seconds(), "drain_events/s")
		b.ReportMetric(float64(firstAck.Load())/1e6, "first_ack_ms")
		b.ReportMetric(float64(time.Since(freshAt).Milliseconds()), "fresh_event_wait_ms")
		r.stop()
		m.kill()
	}
}

// BenchmarkBridgeLoss measures, for the same events, what a gate loses
// when it is killed mid-stream: (1) the peer design, the gate publishing
// to a local Mosquitto bridge with persistence (autosave every 60 s) that
// forwards to the park broker, the local broker killed with SIGKILL (a
// power cut) while the park link is down, then restarted; and (2) the
// outbox, the gate process killed the same way. Lost = acknowledged to the
// gate's publisher but never at the park broker.
func BenchmarkBridgeLoss(b *testing.B) {
	n := max(b.N, 100)
	park := newMosquitto(b, "allow_anonymous true")
	park.start()
	s := subscribe(b, park.url(), "platform", nil, "hazgate/#")
	park.stop() // the park link is down while the events are written

	local := newMosquitto(b, fmt.Sprintf(`allow_anonymous true
autosave_interval 60
connection park
address %s
topic hazgate/# out 1
cleansession false
bridge_protocol_version mqttv311
try_private false
notifications false
restart_timeout 1`, park.addr()))
	local.start()
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(local.url()).SetClientID("gate-app"))
	if tok := c.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		b.Fatal(tok.Error())
	}
	acked := 0
	for i := range n {
		p, _ := json.Marshal(map[string]any{"schema": "hazgate.alarm/1", "id": fmt.Sprintf("bridge-%d", i), "seq": i + 1})
		if tok := c.Publish("hazgate/ningbo-chem/bridge/events/alarm", 1, false, p); tok.WaitTimeout(wait) && tok.Error() == nil {
			acked++ // the app would now forget it: the broker has it
		}
	}
	c.Disconnect(0)
	local.kill()
	local.start()
	park.start()
	// Wait for the bridge to forward what it kept: a marker published
	// after the restart arrives after everything queued before it.
	c = mqtt.NewClient(mqtt.NewClientOptions().AddBroker(local.url()).SetClientID("gate-app-2"))
	if tok := c.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		b.Fatal(tok.Error())
	}
	c.Publish("hazgate/ningbo-chem/bridge/events/alarm", 1, false, `{"id":"marker"}`).WaitTimeout(wait)
	c.Disconnect(0)
	got := s.waitFor(b, "the bridge's marker", func(ms []msg) bool {
		for _, m := range ms {
			if m.id == "marker" {
				return true
			}
		}
		return false
	})
	bridgeGot := map[string]bool{}
	for _, m := range got {
		if strings.HasPrefix(m.id, "bridge-") {
			bridgeGot[m.id] = true
		}
	}

	// The outbox: the gate process records every event and is killed while
	// the park broker is down, then started again with the broker up.
	park.stop()
	dir := b.TempDir()
	child := startChild(b, dir, park.url(), n)
	child.killAfterProduced(b)
	park.start()
	startChild(b, dir, park.url(), n).wait(b)
	got = s.waitFor(b, "the outbox's events", haveAll(int64(n)))
	outboxGot := map[int64]bool{}
	for _, m := range got {
		if strings.Contains(m.topic, "/east-1/events/") {
			outboxGot[m.seq] = true
		}
	}
	b.ReportMetric(float64(n), "events")
	b.ReportMetric(float64(acked-len(bridgeGot)), "bridge_lost")
	b.ReportMetric(float64(n-len(outboxGot)), "outbox_lost")
}

// Tests of what the throughput work changed in the drain (kept with the
// benchmarks that drove it).

// A broker that stops answering (here: stopped with SIGSTOP) is dropped
// after the ack timeout, and what it did not acknowledge is sent again
// once it answers.
func TestAckTimeoutDropsConnection(t *testing.T) {
	m := startMosquitto(t)
	s := subscribe(t, m.url(), "platform", nil, "hazgate/#")
	cfg := testConfig(m.url())
	cfg.AckTimeout = 400 * time.Millisecond
	cfg.Keepalive = time.Minute // only the ack timeout may notice
	r := newRig(t, "", cfg)
	waitConn(t, r.u, "connected", func(c ConnState) bool { return c.Connected })
	r.alarm(t, 0)
	s.waitFor(t, "the first event", haveAll(1))
	m.mu.Lock()
	broker := m.cmd.Process
	m.mu.Unlock()
	if err := broker.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	r.alarm(t, 1)
	c := waitConn(t, r.u, "the connection dropped", func(c ConnState) bool { return !c.Connected })
	if took := time.Since(stopped); took < cfg.AckTimeout || took > cfg.AckTimeout+2*time.Second {
		t.Fatalf("dropped %v after the broker stopped answering, ack timeout %v", took, cfg.AckTimeout)
	}
	if !strings.Contains(c.LastError, "ack timeout") {
		t.Fatalf("last error %q", c.LastError)
	}
	if err := broker.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	checkEvents(t, s.waitFor(t, "the event sent again", haveAll(2)), 2)
	r.waitDrained(t)
}
