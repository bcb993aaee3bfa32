package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/record"
	"github.com/hazgate/hazgate/store"
	"github.com/hazgate/hazgate/uplink"
)

// lossyBroker stands between gates and a real broker, passing MQTT
// packets both ways, except one event it takes and acknowledges (PUBACK)
// without passing it on, the first time it comes: a broker that lost an event after acknowledging
// it. The gate marks the event sent, as it must, and keeps it for a
// replay; a subscriber sees a gap.
type lossyBroker struct {
	t        *testing.T
	upstream string // host:port of the real broker
	ln       net.Listener
	drop     func(topic string, seq int64) bool

	mu      sync.Mutex
	dropped []string          // topic and seq of what it dropped
	passed  map[string][]int  // event seqs passed on, by gate root, in order, once each
	resent  map[string]int    // seqs passed on again (a gate's resend), by gate root
	last    map[string]string // the id of the last event passed on, by gate root
}

func startLossyBroker(t *testing.T, upstream string, drop func(topic string, seq int64) bool) *lossyBroker {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &lossyBroker{t: t, upstream: strings.TrimPrefix(upstream, "tcp://"), ln: ln, drop: drop,
		passed: map[string][]int{}, resent: map[string]int{}, last: map[string]string{}}
	var wg sync.WaitGroup
	var conns []net.Conn
	var connsMu sync.Mutex
	t.Cleanup(func() {
		ln.Close()
		connsMu.Lock()
		for _, c := range conns {
			c.Close()
		}
		connsMu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", p.upstream)
			if err != nil {
				c.Close()
				continue
			}
			connsMu.Lock()
			conns = append(conns, c, u)
			connsMu.Unlock()
			var toClient sync.Mutex // the two directions both write to the client
			wg.Go(func() {
				defer c.Close()
				defer u.Close()
				p.pump(c, u, c, &toClient)
			})
			wg.Go(func() {
				defer c.Close()
				defer u.Close()
				for {
					pkt, err := readPacket(u)
					if err != nil {
						return
					}
					toClient.Lock()
					_, err = c.Write(pkt)
					toClient.Unlock()
					if err != nil {
						return
					}
				}
			})
		}
	})
	return p
}

func (p *lossyBroker) url() string { return "tcp://" + p.ln.Addr().String() }

// pump passes the client's packets on, but for the one to drop.
func (p *lossyBroker) pump(from io.Reader, to io.Writer, client io.Writer, toClient *sync.Mutex) {
	for {
		pkt, err := readPacket(from)
		if err != nil {
			return
		}
		if topic, id, payload, ok := publishOf(pkt); ok && strings.Contains(topic, "/events/") {
			var e struct {
				Seq int64  `json:"seq"`
				ID  string `json:"id"`
			}
			json.Unmarshal(payload, &e)
			root := topic[:strings.Index(topic, "/events/")]
			p.mu.Lock()
			drop := len(p.dropped) == 0 && p.drop(topic, e.Seq) // once: a replay passes

			if drop {
				p.dropped = append(p.dropped, fmt.Sprintf("%s %d", topic, e.Seq))
			} else if slices.Contains(p.passed[root], int(e.Seq)) {
				p.resent[root]++
			} else {
				p.passed[root] = append(p.passed[root], int(e.Seq))
				p.last[root] = e.ID
			}
			p.mu.Unlock()
			if drop {
				toClient.Lock()
				_, err := client.Write([]byte{0x40, 2, byte(id >> 8), byte(id)}) // PUBACK
				toClient.Unlock()
				if err != nil {
					return
				}
				continue
			}
		}
		if _, err := to.Write(pkt); err != nil {
			return
		}
	}
}

// readPacket reads one MQTT 3.1.1 control packet, whole.
func readPacket(r io.Reader) ([]byte, error) {
	hdr := make([]byte, 1, 5)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, err
	}
	n, mult := 0, 1
	for i := 0; ; i++ {
		var b [1]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, err
		}
		hdr = append(hdr, b[0])
		n += int(b[0]&0x7f) * mult
		mult *= 128
		if b[0]&0x80 == 0 {
			break
		}
		if i == 3 {
			return nil, fmt.Errorf("a remaining length of more than 4 bytes")
		}
	}
	pkt := make([]byte, len(hdr)+n)
	copy(pkt, hdr)
	_, err := io.ReadFull(r, pkt[len(hdr):])
	return pkt, err
}

// publishOf reads a QoS 1 PUBLISH: its topic, packet id and payload.
func publishOf(pkt []byte) (topic string, id uint16, payload []byte, ok bool) {
	if pkt[0]>>4 != 3 || (pkt[0]>>1)&3 != 1 {
		return "", 0, nil, false
	}
	i := 1
	for pkt[i]&0x80 != 0 {
		i++
	}
	body := pkt[i+1:]
	if len(body) < 2 {
		return "", 0, nil, false
	}
	tl := int(body[0])<<8 | int(body[1])
	if len(body) < 2+tl+2 {
		return "", 0, nil, false
	}
	topic = string(body[2 : 2+tl])
	id = uint16(body[2+tl])<<8 | uint16(body[3+tl])
	return topic, id, body[4+tl:], true
}

// report says what the lossy broker passed on of a gate's events (each
// seq once, and how many it passed on again) and what it dropped.
func (p *lossyBroker) report(root string) (passed []int, resent int, lastID string, dropped []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int(nil), p.passed[root]...), p.resent[root], p.last[root], append([]string(nil), p.dropped...)
}

// runningWatch is `hazgate watch` running in the test, its output kept.
type runningWatch struct {
	out, errs *lines
	stop      func() // ends it (its final summaries are then in out)
}

// startWatchCmd runs the real command, Main with "watch", until stop or
// the test's end, and waits until it has subscribed.
func startWatchCmd(t *testing.T, args ...string) *runningWatch {
	t.Helper()
	w := &runningWatch{out: newLines(), errs: newLines()}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- Main(ctx, append([]string{"watch"}, args...), w.out, w.errs) }()
	var once sync.Once
	w.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case code := <-done:
				if code != 0 {
					t.Errorf("watch %v: exit %d; stderr:\n%s", args, code, w.errs.String())
				}
				// Every message of a real gate is read.
				if e := w.errs.String(); strings.Contains(e, "passed over") || strings.Contains(e, "could not") {
					t.Errorf("watch %v said on stderr:\n%s", args, e)
				}
			case <-time.After(bound):
				t.Errorf("watch %v did not stop within %v", args, bound)
			}
		})
	}
	t.Cleanup(w.stop)
	// Said once the broker confirmed the subscription: on stdout, or with
	// -json on stderr.
	started := w.out
	for _, a := range args {
		if a == "-json" {
			started = w.errs
		}
	}
	started.await(t, args[1], 1)
	return w
}

// summaryOf is the last summary line of the gate in out.
func summaryOf(out, root, colon string) string {
	var last string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, root+colon) {
			last = l
		}
	}
	return last
}

// jsonEvents reads -json output: the events by their gate's name, and the
// other lines by their one key.
func jsonEvents(t *testing.T, out string) (events map[string][]map[string]any, other map[string][]map[string]any) {
	t.Helper()
	events, other = map[string][]map[string]any{}, map[string][]map[string]any{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("-json wrote a line that is not a JSON object: %q", l)
		}
		if _, ok := v["schema"]; ok {
			gate, _ := v["gate"].(string)
			events[gate] = append(events[gate], v)
			continue
		}
		if len(v) != 1 {
			t.Fatalf("-json line with other than one key: %q", l)
		}
		for k, x := range v {
			other[k] = append(other[k], x.(map[string]any))
		}
	}
	return events, other
}

// The demo (`hazgate sim`, unchanged) publishes its gate's feed through a
// broker that loses event 5 after acknowledging it, and the park demo
// (`hazgate sim -park`) its two gates' straight to the Mosquitto behind
// it. `hazgate watch` on that Mosquitto shows each gate and names the gap,
// in plain words (English and Chinese) and with -json.
func TestWatchDemoShowsEachGateAndTheGap(t *testing.T) {
	b := startBroker(t)
	const root, lost = "hazgate/demo/sim", 5
	lossy := startLossyBroker(t, b.url(), func(topic string, seq int64) bool {
		return strings.HasPrefix(topic, root+"/") && seq == lost
	})
	en := startWatchCmd(t, "-broker", b.url(), "-root", "hazgate/demo")
	zh := startWatchCmd(t, "-broker", b.url(), "-root", "hazgate/demo", "-lang", "zh")
	js := startWatchCmd(t, "-broker", b.url(), "-root", "hazgate/demo", "-json")

	// -once returns when the outbox has drained: every event acknowledged.
	if code, out, errs := run(t, "sim", "-once", "-speed", "0", "-broker", lossy.url()); code != 0 {
		t.Fatalf("sim: %d\n%s%s", code, out, errs)
	}
	passed, resent, lastID, dropped := lossy.report(root)
	if len(dropped) != 1 || len(passed) < lost+3 {
		t.Fatalf("the lossy broker dropped %v and passed on %v; want event %d dropped among the demo's", dropped, passed, lost)
	}
	// The park demo's two gates, east and west, straight to Mosquitto. The
	// demo's gate is of the same park: its retained view of who is inside
	// (the demo's tankers, the park demo's among them) is cleared first,
	// so that the park demo starts with an empty park, as it does on a
	// broker of its own.
	newGatePublisher(t, b.url(), root).pub("presence", true, "")
	if code, out, errs := run(t, "sim", "-park", "-broker", b.url()); code != 0 {
		t.Fatalf("sim -park: %d\n%s%s", code, out, errs)
	}
	// The watches have heard the demo's last event, and each gate go
	// offline as it stopped (after all it had sent).
	js.out.await(t, lastID, 1)
	for _, g := range []string{"sim", "east", "west"} {
		js.out.await(t, `{"availability":{"gate":"hazgate/demo/`+g+`","state":"offline"}}`, 1)
		en.out.await(t, "hazgate/demo/"+g+": OFFLINE", 1)
		zh.out.await(t, "hazgate/demo/"+g+"：离线", 1)
	}
	for _, w := range []*runningWatch{en, zh, js} {
		w.stop()
	}

	events, other := jsonEvents(t, js.out.String())
	if len(events) != 3 || len(events["sim"]) != len(passed) {
		t.Fatalf("-json printed %d events of the demo's gate (it sent %d: %v), and %d gates in all, want 3", len(events["sim"]), len(passed), passed, len(events))
	}
	// The park demo's gates: each heard, every event from 1 on, no gap.
	for _, g := range []string{"east", "west"} {
		if len(events[g]) == 0 {
			t.Fatalf("-json: no event of the park demo's %s gate", g)
		}
		for i, e := range events[g] {
			if e["seq"] != float64(i+1) {
				t.Fatalf("-json: the %s gate's event %d has seq %v", g, i+1, e["seq"])
			}
		}
	}
	verdicts := map[string]int{}
	var lastPlate string
	for i, e := range events["sim"] {
		if int(e["seq"].(float64)) != passed[i] {
			t.Fatalf("-json event %d has seq %v, the gate sent %d", i, e["seq"], passed[i])
		}
		if e["schema"] == "hazgate.inspection/1" {
			verdicts[e["verdict"].(string)]++
			lastPlate = e["plate"].(string)
		}
	}
	if g := other["gap"]; len(g) != 1 || g[0]["gate"] != root || g[0]["from_seq"] != float64(lost) || g[0]["to_seq"] != float64(lost) ||
		g[0]["text"] != fmt.Sprintf("GAP at %s: event %d is missing", root, lost) || g[0]["text_zh"] != fmt.Sprintf("%s 缺失事件：第 %d 条未到", root, lost) {
		t.Errorf("-json gap lines: %v, want one of event %d at %s", g, lost, root)
	}
	// A duplicate only where the gate sent an event again (a resend after
	// a reconnect, with the same id); nothing filled.
	if len(other["duplicate"]) != resent || len(other["filled"]) != 0 {
		t.Errorf("-json: %d duplicates (the gate sent %d again), %d filled: %v", len(other["duplicate"]), resent, len(other["filled"]), other)
	}

	// In plain words: the gap, and the gate's summary at the end.
	enOut := en.out.String()
	if n := strings.Count(enOut, "GAP"); n != 1 || !strings.Contains(enOut, fmt.Sprintf("GAP at %s: event %d is missing\n", root, lost)) {
		t.Errorf("en: the gap said %d times, want once as event %d:\n%s", n, lost, enOut)
	}
	sum := summaryOf(enOut, root, ": ")
	want := []string{
		"last inspection: " + lastPlate + " ",
		fmt.Sprintf("inspections: %d passed, %d refused, %d held for review", verdicts["pass"], verdicts["reject"], verdicts["review"]),
		" inside; ",
		fmt.Sprintf("1 event missing: %d", lost),
	}
	if verdicts["pass"] == 0 || verdicts["reject"] == 0 || verdicts["review"] == 0 {
		t.Fatalf("the demo's inspections by verdict: %v, want each verdict", verdicts)
	}
	for _, w := range want {
		if !strings.Contains(sum, w) {
			t.Errorf("en: the gate's summary lacks %q:\n%s", w, sum)
		}
	}
	for _, g := range []string{"east", "west"} {
		sum := summaryOf(enOut, "hazgate/demo/"+g, ": ")
		if !strings.HasPrefix(sum, "hazgate/demo/"+g+": OFFLINE; ") || !strings.Contains(sum, "; 0 vehicles inside; ") || strings.Contains(sum, "missing") {
			t.Errorf("en: the park demo's %s gate at the end: %q; want it offline, 0 vehicles inside (the tanker left), nothing missing", g, sum)
		}
	}
	// The tanker was inspected at the east gate only; it left by the west.
	if sum := summaryOf(enOut, "hazgate/demo/east", ": "); !strings.Contains(sum, "; last inspection: ") || !strings.Contains(sum, "; inspections: 1 passed; ") {
		t.Errorf("en: the east gate: %q, want its one inspection, passed", sum)
	}
	zhOut := zh.out.String()
	if !strings.Contains(zhOut, fmt.Sprintf("%s 缺失事件：第 %d 条未到\n", root, lost)) {
		t.Errorf("zh: the gap not said:\n%s", zhOut)
	}
	t.Logf("the gate at the end:\n%s\n%s", summaryOf(enOut, root, ": "), summaryOf(zhOut, root, "："))
	sum = summaryOf(zhOut, root, "：")
	for _, w := range []string{
		"最近检查：" + lastPlate + " ",
		fmt.Sprintf("检查：放行 %d，拒绝 %d，待人工复核 %d", verdicts["pass"], verdicts["reject"], verdicts["review"]),
		"场内车辆",
		fmt.Sprintf("缺失事件 1 条：%d", lost),
	} {
		if !strings.Contains(sum, w) {
			t.Errorf("zh: the gate's summary lacks %q:\n%s", w, sum)
		}
	}
}

// A real gate (its store, its record keeper, its uplink, trusting the
// office's key) sends through a broker that loses one of its events after
// acknowledging it. `hazgate watch -replay-key` names the gap, asks the
// gate once, by a signed replay command, and the gate's replay closes it.
func TestWatchAsksARealGateToReplayTheGap(t *testing.T) {
	b := startBroker(t)
	const root, lost, n = "hazgate/ningbo-chem/east-1", 3, 6
	lossy := startLossyBroker(t, b.url(), func(topic string, seq int64) bool {
		return topic == root+"/events/alarm" && seq == lost
	})
	dir := t.TempDir()
	if code, _, errs := run(t, "keygen", "-out", filepath.Join(dir, "office")); code != 0 {
		t.Fatalf("keygen: %s", errs)
	}
	pubFile, err := os.ReadFile(filepath.Join(dir, "office.pub"))
	if err != nil {
		t.Fatal(err)
	}
	pub := strings.TrimSpace(string(pubFile))
	cmds := watch(t, b.url(), "cmds", root+"/cmd/replay")
	js := startWatchCmd(t, "-broker", b.url(), "-root", "hazgate/ningbo-chem", "-json", "-replay-key", filepath.Join(dir, "office.key"))
	en := startWatchCmd(t, "-broker", b.url(), "-root", "hazgate/ningbo-chem")

	// The gate.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := store.Open(ctx, filepath.Join(dir, "gate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	keeper := record.New("east-1", st, checks.Params{}, nil)
	u, err := uplink.New(uplink.Config{
		Broker: lossy.url(), Park: "ningbo-chem", Gate: "east-1", ClientID: "hazgate-east-1",
		TrustedKeys: []string{pub}, NonceFile: filepath.Join(dir, "nonces.json"),
		ConnectRetry: 100 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		ConnectTimeout: 5 * time.Second, Keepalive: 5 * time.Second,
		Poll: 20 * time.Millisecond, StatusPoll: 50 * time.Millisecond, TelemetryInterval: -1,
	}, st, uplink.Deps{Alarms: keeper, Clock: clock.Real{}})
	if err != nil {
		t.Fatal(err)
	}
	ran := make(chan error, 1)
	go func() { ran <- u.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case <-ran:
		case <-time.After(bound):
			t.Errorf("the uplink did not stop within %v", bound)
		}
	}()
	for i := range n {
		if err := keeper.RaiseAlarm(ctx, "in-1", record.AlarmBarrierForced, fmt.Sprintf("test %d", i), time.Now()); err != nil {
			t.Fatal(err)
		}
		u.Kick()
	}

	gap := fmt.Sprintf("GAP at %s: event %d is missing", root, lost)
	en.out.await(t, gap, 1)
	js.out.await(t, `"filled"`, 1)
	en.out.await(t, fmt.Sprintf("gap filled at %s: event %d arrived late", root, lost), 1)

	// The one replay command: signed by the office's key, for the gap.
	m := cmds.await(t, "cmd/replay", func(message) bool { return true })
	var env uplink.Envelope
	if err := json.Unmarshal([]byte(m.payload), &env); err != nil {
		t.Fatalf("cmd/replay: %v: %s", err, m.payload)
	}
	if env.Key != pub {
		t.Errorf("cmd/replay signed by %s, want the office's key %s", env.Key, pub)
	}
	_, _, _, dropped := lossy.report(root)
	if len(dropped) != 1 {
		t.Fatalf("dropped %v, want one event", dropped)
	}

	// Every event has now been heard once or replayed; the summaries
	// show nothing missing.
	js.out.await(t, fmt.Sprintf(`"seq":%d`, n), 1)
	js.stop()
	en.stop()
	cmds.mu.Lock()
	asked := len(cmds.msgs)
	cmds.mu.Unlock()
	if asked != 1 {
		t.Errorf("%d replay commands, want one for the one gap", asked)
	}
	events, other := jsonEvents(t, js.out.String())
	// Each event once: the lost one replayed, after the next.
	var fresh, replayed []string
	for _, e := range events["east-1"] {
		s := fmt.Sprint(e["seq"])
		if e["replay"] == true {
			replayed = append(replayed, s)
		} else {
			fresh = append(fresh, s)
		}
	}
	if got, want := strings.Join(fresh, " "), "1 2 4 5 6"; got != want || fmt.Sprint(replayed) != fmt.Sprint([]string{fmt.Sprint(lost)}) {
		t.Errorf("-json events: %s and replayed %v; want %s and %d replayed", got, replayed, want, lost)
	}
	if a := other["replay_asked"]; len(a) != 1 || a[0]["gate"] != root || a[0]["from_seq"] != float64(lost) || a[0]["to_seq"] != float64(lost) {
		t.Errorf("-json replay_asked lines: %v", a)
	}
	if g, f := other["gap"], other["filled"]; len(g) != 1 || len(f) != 1 || f[0]["seq"] != float64(lost) {
		t.Errorf("-json gap %v, filled %v", g, f)
	}
	enOut := en.out.String()
	if !strings.Contains(enOut, gap) || strings.Count(enOut, "GAP") != 1 {
		t.Errorf("en: the gap said other than once:\n%s", enOut)
	}
	if sum := summaryOf(enOut, root, ": "); sum == "" || strings.Contains(sum, "missing") || !strings.Contains(sum, "last alarm: ") {
		t.Errorf("en: the gate's last summary %q: want it shown, with its last alarm, and nothing missing", sum)
	}
}
