package watch

import (
	"fmt"
	"strings"
	"testing"
)

const root = "hazgate/ningbo-chem/east-1"

type msg struct {
	topic   string
	payload []byte
}

func ev(name string, seq int64, id string, extra string) msg {
	body := fmt.Sprintf(`{"schema":"hazgate.%s/1","id":%q,"seq":%d,"gate":"east-1","lane":"in-1","ts":"2026-03-01T08:00:%02d+08:00"%s}`, name, id, seq, seq%60, extra)
	return msg{root + "/events/" + name, []byte(body)}
}

func handle(t *testing.T, w *Watcher, m msg) []Note {
	t.Helper()
	return handleRaw(t, w, m.topic, m.payload)
}

func handleRaw(t *testing.T, w *Watcher, topic string, payload []byte) []Note {
	t.Helper()
	n, err := w.Handle(topic, payload)
	if err != nil {
		t.Fatalf("Handle(%s): %v", topic, err)
	}
	return n
}

func kinds(ns []Note) string {
	var s []string
	for _, n := range ns {
		s = append(s, string(n.Kind))
	}
	return strings.Join(s, ",")
}

func TestGapReportedThenFilledByReplay(t *testing.T) {
	var asked []string
	w := New(func(gate string, from, to int64) error {
		asked = append(asked, fmt.Sprintf("%s %d-%d", gate, from, to))
		return nil
	})
	handle(t, w, ev("passage", 10, "A10", ""))
	handle(t, w, ev("passage", 11, "A11", ""))
	n := handle(t, w, ev("passage", 14, "A14", ""))
	if kinds(n) != "event,gap" || n[1].From != 12 || n[1].To != 13 {
		t.Fatalf("notes = %+v, want an event then a gap 12-13", n)
	}
	if !strings.Contains(n[1].Text(), "events 12 to 13 are missing") {
		t.Errorf("gap text = %q", n[1].Text())
	}
	if len(asked) != 1 || asked[0] != root+" 12-13" {
		t.Fatalf("asked = %v, want one replay of 12-13", asked)
	}
	// The same gap is asked for once only, however often it is looked at.
	handle(t, w, ev("passage", 15, "A15", ""))
	if len(asked) != 1 {
		t.Fatalf("asked again: %v", asked)
	}
	n = handle(t, w, ev("passage", 12, "A12", `,"replay":true`))
	if kinds(n) != "event,filled" || n[1].Seq != 12 {
		t.Fatalf("notes = %+v, want the replayed event and filled 12", n)
	}
	if m := w.Gate(root).Missing(); len(m) != 1 || m[0] != (Range{13, 13}) {
		t.Fatalf("missing = %v, want 13", m)
	}
	// A replay of what was heard already is neither new nor a duplicate.
	if n = handle(t, w, ev("passage", 11, "A11", `,"replay":true`)); len(n) != 0 {
		t.Fatalf("a replay of a seq heard: %+v, want nothing", n)
	}
	// A late event that is not a replay fills its gap as well.
	n = handle(t, w, ev("passage", 13, "A13", ""))
	if kinds(n) != "event,filled" {
		t.Fatalf("notes = %+v", n)
	}
	if m := w.Gate(root).Missing(); len(m) != 0 {
		t.Fatalf("missing = %v, want none", m)
	}
}

func TestFirstSeqIsNoGap(t *testing.T) {
	w := New(nil)
	if n := handle(t, w, ev("passage", 500, "B500", "")); kinds(n) != "event" {
		t.Fatalf("the first event heard: %+v, want no gap before it", n)
	}
	if n := handle(t, w, ev("passage", 501, "B501", "")); kinds(n) != "event" {
		t.Fatalf("notes = %+v", n)
	}
	n := handle(t, w, ev("passage", 503, "B503", ""))
	if kinds(n) != "event,gap" || n[1].From != 502 || n[1].To != 502 || n[1].Text() != "GAP at "+root+": event 502 is missing" {
		t.Fatalf("notes = %+v, want a gap of one event, 502", n)
	}
}

func TestDuplicateAndConflict(t *testing.T) {
	w := New(nil)
	handle(t, w, ev("inspection", 3, "C3", `,"plate":"浙B12345","verdict":"pass"`))
	n := handle(t, w, ev("inspection", 3, "C3", `,"plate":"浙B12345","verdict":"pass"`))
	if kinds(n) != "duplicate" || !strings.Contains(n[0].Text(), "redelivery") {
		t.Fatalf("notes = %+v, want a duplicate", n)
	}
	if w.Gate(root).Verdicts["pass"] != 1 {
		t.Errorf("a duplicate counted twice: %v", w.Gate(root).Verdicts)
	}
	n = handle(t, w, ev("passage", 3, "OTHER", ""))
	if kinds(n) != "conflict" || n[0].Other != "C3" || n[0].ID != "OTHER" {
		t.Fatalf("notes = %+v, want a conflict naming both ids", n)
	}
	if txt := n[0].Text(); !strings.HasPrefix(txt, "CONFLICT") || !strings.Contains(txt, "two different events") {
		t.Errorf("conflict text = %q", txt)
	}
	// A replay with another id is still a conflict.
	if n = handle(t, w, ev("passage", 3, "THIRD", `,"replay":true`)); kinds(n) != "conflict" {
		t.Fatalf("notes = %+v, want a conflict", n)
	}
}

func TestCountsAlarmsPresenceOnline(t *testing.T) {
	w := New(nil)
	if n := handleRaw(t, w, root+"/availability", []byte("online")); kinds(n) != "online" {
		t.Fatalf("notes = %+v", n)
	}
	// Before any status: vehicles inside are not known, not 0.
	if s := w.Gate(root).Summary(); !strings.Contains(s, "vehicles inside: not known") {
		t.Errorf("summary before a status = %q", s)
	}
	// An alarm raised, heard with its text, then in the status.
	handle(t, w, ev("alarm", 1, "AL1", `,"kind":"device_fault","code":"device_unplugged","state":"raised","alarm_id":"AL1","text":{"zh":"设备已拔出","en":"A device was unplugged"}`))
	handleRaw(t, w, root+"/status", []byte(`{"schema":"hazgate.status/1","alarms":[{"id":"AL1","kind":"device_fault","code":"device_unplugged","lane":"in-1","raised_at":"x"},{"id":"AL0","kind":"disk_low","code":"disk_low","raised_at":"x"}],"presence":{"inside":2,"vehicles":[]},"lanes":[{"lane":"in-1","lockdown":true},{"lane":"out-1","lockdown":false}]}`))
	g := w.Gate(root)
	if g.Inside != 2 || !g.InsideKnown || len(g.Alarms) != 2 || fmt.Sprint(g.LockedDown) != "[in-1]" || g.Evacuating {
		t.Fatalf("gate = %+v", g)
	}
	handle(t, w, ev("inspection", 2, "D2", `,"plate":"浙B11111","verdict":"pass"`))
	handle(t, w, ev("inspection", 3, "D3", `,"plate":"浙B22222","verdict":"reject"`))
	handle(t, w, ev("alarm", 4, "D4", `,"kind":"rejection","code":"verdict_reject","text":{"zh":"车辆不予放行","en":"Vehicle refused"}`))
	handle(t, w, ev("inspection", 5, "D5", `,"plate":"浙B33333","verdict":"pass"`))
	handle(t, w, ev("inspection", 6, "D6", `,"plate":"浙B44444","verdict":"review"`))
	handle(t, w, ev("alarm", 7, "D7", `,"kind":"disk_low","code":"disk_low","state":"cleared","alarm_id":"AL0"`))
	if g.Verdicts["pass"] != 2 || g.Verdicts["reject"] != 1 || g.Verdicts["review"] != 1 {
		t.Errorf("verdicts = %v", g.Verdicts)
	}
	if g.Last == nil || g.Last.Plate != "浙B44444" || g.Last.Verdict != "review" {
		t.Errorf("last = %+v", g.Last)
	}
	if al := g.ActiveAlarms(); len(al) != 1 || al[0].Kind != "device_fault" || al[0].Text == nil {
		t.Errorf("alarms = %+v, want the device fault with its text", al)
	}
	// An alarm known from a status only, raised before the watch started:
	// in the words of its kind.
	handleRaw(t, w, "hazgate/ningbo-chem/west-2/status", []byte(`{"schema":"hazgate.status/1","alarms":[{"id":"X1","kind":"broker_down","code":"broker_unreachable","raised_at":"x"},{"id":"X2","kind":"new_kind","code":"new_code","lane":"out-1","raised_at":"x"}]}`))
	if s := w.Gate("hazgate/ningbo-chem/west-2").Summary(); !strings.Contains(s, "alarms on: The park's MQTT broker is unreachable (broker_unreachable), new_kind (new_code) (out-1)") {
		t.Errorf("summary = %q", s)
	}
	if s := w.Gate("hazgate/ningbo-chem/west-2").SummaryIn(ZH); !strings.Contains(s, "告警中：无法连接园区 MQTT 服务器（broker_unreachable）、new_kind (new_code)（out-1）") {
		t.Errorf("summary (zh) = %q", s)
	}
	want := root + ": online; LOCKED DOWN: in-1; last inspection: 浙B44444 held for review (lane in-1, 2026-03-01 08:00:06); " +
		"inspections: 2 passed, 1 refused, 1 held for review; 2 vehicles inside; alarms on: A device was unplugged (in-1); " +
		"last alarm: Vehicle refused (in-1), 2026-03-01 08:00:04"
	if s := g.Summary(); s != want {
		t.Errorf("summary\n%s\nwant\n%s", s, want)
	}
	wantZH := root + "：在线；封锁中：in-1；最近检查：浙B44444 待人工复核（in-1，2026-03-01 08:00:06）；" +
		"检查：放行 2，拒绝 1，待人工复核 1；场内车辆 2 辆；告警中：设备已拔出（in-1）；" +
		"最近告警：车辆不予放行（in-1），2026-03-01 08:00:04"
	if s := g.SummaryIn(ZH); s != wantZH {
		t.Errorf("summary (zh)\n%s\nwant\n%s", s, wantZH)
	}
	// An evacuation, one vehicle inside, the lock-down lifted.
	handleRaw(t, w, root+"/status", []byte(`{"schema":"hazgate.status/1","alarms":[],"presence":{"inside":1},"lanes":[{"lane":"in-1","lockdown":false}],"evacuation":{"on":true,"authority":"office","by":"x"}}`))
	s := g.Summary()
	for _, want := range []string{"EVACUATION: exit lanes held open", "1 vehicle inside", "no alarm on"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary %q lacks %q", s, want)
		}
	}
	if strings.Contains(s, "LOCKED") {
		t.Errorf("a lifted lock-down still shown: %q", s)
	}
	if n := handleRaw(t, w, root+"/availability", []byte("offline")); kinds(n) != "online" || n[0].Text() != root+" is offline" || n[0].TextIn(ZH) != root+" 离线" {
		t.Fatalf("notes = %+v", n)
	}
	if s := g.Summary(); !strings.HasPrefix(s, root+": OFFLINE;") {
		t.Errorf("summary = %q", s)
	}
	if n := handleRaw(t, w, root+"/availability", []byte("offline")); len(n) != 0 {
		t.Fatalf("no change reported: %+v", n)
	}
}

// Each note, in both languages, names the gate and says what happened.
func TestNoteWords(t *testing.T) {
	for _, c := range []struct {
		n      Note
		en, zh string
	}{
		{Note{Kind: KindGap, Gate: root, From: 3, To: 3}, "GAP at " + root + ": event 3 is missing", root + " 缺失事件：第 3 条未到"},
		{Note{Kind: KindGap, Gate: root, From: 3, To: 5}, "GAP at " + root + ": events 3 to 5 are missing", root + " 缺失事件：第 3 至 5 条未到"},
		{Note{Kind: KindFilled, Gate: root, Seq: 3, ID: "X"}, "gap filled at " + root + ": event 3 arrived late (id X)", root + " 缺失的第 3 条事件已补到（id X）"},
		{Note{Kind: KindDuplicate, Gate: root, Seq: 3, ID: "X"}, "duplicate at " + root + ": event 3 arrived again (same id X, a redelivery)", root + " 第 3 条事件再次到达（同一 id X，属重发）"},
		{Note{Kind: KindEvent, Gate: root, Seq: 4, Event: "passage", Replay: true}, root + ": passage event 4 (replayed)", root + "：通行事件 第 4 条（重放）"},
	} {
		if got := c.n.Text(); got != c.en {
			t.Errorf("en: %q, want %q", got, c.en)
		}
		if got := c.n.TextIn(ZH); got != c.zh {
			t.Errorf("zh: %q, want %q", got, c.zh)
		}
	}
	if _, err := ParseLang("fr"); err == nil || !strings.Contains(err.Error(), "give en or zh") {
		t.Errorf("ParseLang(fr) = %v", err)
	}
}

func TestBadInputNamesTopicAndChangesNothing(t *testing.T) {
	w := New(nil)
	for _, c := range []struct {
		topic, payload, want string
	}{
		{root + "/events/passage", `{"schema":"hazgate.passage/1","id":"X","seq":0}`, "no seq"},
		{root + "/events/passage", `{"schema":"hazgate.alarm/1","id":"X","seq":1}`, "expected hazgate.passage/1"},
		{root + "/events/passage", `not json`, "not JSON"},
		{root + "/status", `{"schema":"other"}`, "hazgate.status/1"},
		{root + "/availability", `maybe`, "neither online nor offline"},
	} {
		_, err := w.Handle(c.topic, []byte(c.payload))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.topic) {
			t.Errorf("%s %s: err = %v, want one naming the topic and %q", c.topic, c.payload, err, c.want)
		}
	}
	if len(w.Gates()) != 0 {
		t.Errorf("bad input made gates: %v", w.Gates())
	}
	// Topics not followed are passed over.
	for _, tp := range []string{root + "/telemetry", root + "/cmd/replay", root + "/presence", "hazgate/ningbo-chem/registry/snapshot"} {
		if n, err := w.Handle(tp, []byte("{}")); n != nil || err != nil {
			t.Errorf("%s: %v %v", tp, n, err)
		}
	}
}

func TestGatesKeptApart(t *testing.T) {
	w := New(nil)
	handleRaw(t, w, "hazgate/p/a/events/passage", []byte(`{"schema":"hazgate.passage/1","id":"1","seq":1}`))
	handleRaw(t, w, "hazgate/p/b/events/passage", []byte(`{"schema":"hazgate.passage/1","id":"2","seq":7}`))
	n := handleRaw(t, w, "hazgate/p/a/events/passage", []byte(`{"schema":"hazgate.passage/1","id":"3","seq":2}`))
	if kinds(n) != "event" {
		t.Fatalf("one gate's seq mixed with another's: %+v", n)
	}
	if gs := w.Gates(); len(gs) != 2 || gs[0].Root != "hazgate/p/a" || gs[1].Root != "hazgate/p/b" {
		t.Fatalf("gates = %v", gs)
	}
}

// A wild seq is one range, not a billion; filling splits it; the replay
// asked for is within the gate's bound.
func TestWildSeqIsOneRange(t *testing.T) {
	var asked []string
	w := New(func(gate string, from, to int64) error {
		asked = append(asked, fmt.Sprintf("%d-%d", from, to))
		return nil
	})
	handle(t, w, ev("passage", 1, "E1", ""))
	handle(t, w, ev("passage", 2_000_000_002, "E2", ""))
	g := w.Gate(root)
	if m := g.Missing(); len(m) != 1 || m[0] != (Range{2, 2_000_000_001}) || g.MissingCount() != 2_000_000_000 {
		t.Fatalf("missing = %v (%d)", m, g.MissingCount())
	}
	if len(asked) != 1 || asked[0] != "2-10001" {
		t.Fatalf("asked = %v, want the first %d", asked, ReplayMax)
	}
	for _, s := range []int64{5, 2, 2_000_000_001, 6} {
		if n := handle(t, w, ev("passage", s, fmt.Sprintf("F%d", s), `,"replay":true`)); kinds(n) != "event,filled" {
			t.Fatalf("seq %d: %+v", s, n)
		}
	}
	want := []Range{{3, 4}, {7, 2_000_000_000}}
	if m := g.Missing(); fmt.Sprint(m) != fmt.Sprint(want) {
		t.Fatalf("missing = %v, want %v", m, want)
	}
	if !strings.Contains(g.Summary(), "1999999996 events missing: 3-4, 7-2000000000") {
		t.Errorf("summary = %q", g.Summary())
	}
	if n := handle(t, w, ev("passage", 5, "F5", "")); kinds(n) != "duplicate" {
		t.Fatalf("notes = %+v", n)
	}
}

// What is remembered of a gate's seqs is bounded.
func TestSeenBounded(t *testing.T) {
	w := New(nil)
	for s := int64(1); s <= 3*seenWindow; s++ {
		handle(t, w, ev("passage", s, fmt.Sprint(s), ""))
	}
	if n := len(w.Gate(root).seen); n > seenWindow+seenWindow/4 {
		t.Fatalf("%d seqs remembered, want at most %d", n, seenWindow+seenWindow/4)
	}
	// The recent ones are still known.
	if n := handle(t, w, ev("passage", 3*seenWindow, fmt.Sprint(3*seenWindow), "")); kinds(n) != "duplicate" {
		t.Fatalf("notes = %+v", n)
	}
}

// A gate said offline that publishes live is online: its availability is
// a stale will. A retained message proves nothing.
func TestOnlineBySending(t *testing.T) {
	w := New(nil)
	handleRaw(t, w, root+"/availability", []byte("online"))
	if n := handleRaw(t, w, root+"/availability", []byte("offline")); kinds(n) != "online" || n[0].Online != "offline" {
		t.Fatalf("notes = %+v", n)
	}
	st := []byte(`{"schema":"hazgate.status/1","alarms":[]}`)
	if n, err := w.HandleMessage(root+"/status", st, true); err != nil || kinds(n) != "status" || w.Gate(root).Online != "offline" {
		t.Fatalf("a retained status: %+v %v, online %q; want it still offline", n, err, w.Gate(root).Online)
	}
	n := handle(t, w, ev("passage", 1, "P1", ""))
	if kinds(n) != "online,event" || !n[0].Sending || n[0].Online != "online" {
		t.Fatalf("notes = %+v, want online (sending) then the event", n)
	}
	if got, want := n[0].Text(), root+" is online: it is sending, though its availability says offline (the will of a connection it has since replaced)"; got != want {
		t.Errorf("text = %q, want %q", got, want)
	}
	g := w.Gate(root)
	if s := g.Summary(); !strings.HasPrefix(s, root+": online (sending; its availability says offline); ") {
		t.Errorf("summary = %q", s)
	}
	if s := g.SummaryIn(ZH); !strings.HasPrefix(s, root+"：在线（仍在发送；在线状态显示离线）；") {
		t.Errorf("summary (zh) = %q", s)
	}
	// Its availability says online again: no longer a special case.
	if n := handleRaw(t, w, root+"/availability", []byte("online")); kinds(n) != "online" || n[0].Sending {
		t.Fatalf("notes = %+v", n)
	}
	if s := g.Summary(); strings.Contains(s, "sending") {
		t.Errorf("summary = %q", s)
	}
	// Offline, then telemetry: online again by it.
	handleRaw(t, w, root+"/availability", []byte("offline"))
	if n := handleRaw(t, w, root+"/telemetry", []byte(`{"schema":"hazgate.telemetry/1"}`)); kinds(n) != "online" || !g.Sending {
		t.Fatalf("telemetry after offline: %+v", n)
	}
	// A command to the gate is not the gate's: it proves nothing.
	handleRaw(t, w, root+"/availability", []byte("offline"))
	if n := handleRaw(t, w, root+"/cmd/replay", []byte(`{}`)); len(n) != 0 || g.Online != "offline" {
		t.Fatalf("a command to the gate: %+v, online %q", n, g.Online)
	}
}
