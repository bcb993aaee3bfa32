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
	handleRaw(t, w, root+"/status", []byte(`{"schema":"hazgate.status/1","alarms":[{"id":"AL1","kind":"device_fault","code":"device_unplugged","lane":"in-1","raised_at":"x"}],"presence":{"inside":2,"vehicles":[]}}`))
	g := w.Gate(root)
	if g.Inside != 2 || len(g.Alarms) != 1 {
		t.Fatalf("gate = %+v", g)
	}
	handle(t, w, ev("inspection", 1, "D1", `,"plate":"浙B11111","verdict":"pass"`))
	handle(t, w, ev("inspection", 2, "D2", `,"plate":"浙B22222","verdict":"reject"`))
	handle(t, w, ev("alarm", 3, "D3", `,"kind":"lockdown","code":"lockdown","state":"raised","alarm_id":"D3"`))
	handle(t, w, ev("inspection", 4, "D4", `,"plate":"浙B33333","verdict":"pass"`))
	handle(t, w, ev("alarm", 5, "D5", `,"kind":"device_fault","code":"device_unplugged","state":"cleared","alarm_id":"AL1"`))
	if g.Verdicts["pass"] != 2 || g.Verdicts["reject"] != 1 {
		t.Errorf("verdicts = %v", g.Verdicts)
	}
	if g.Last == nil || g.Last.Plate != "浙B33333" || g.Last.Verdict != "pass" {
		t.Errorf("last = %+v", g.Last)
	}
	if al := g.ActiveAlarms(); len(al) != 1 || al[0].Kind != "lockdown" {
		t.Errorf("alarms = %+v, want lockdown only", al)
	}
	s := g.Summary()
	for _, want := range []string{"online", "浙B33333 pass", "pass 2, reject 1", "2 inside", "alarms on: lockdown/lockdown"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary %q lacks %q", s, want)
		}
	}
	if n := handleRaw(t, w, root+"/availability", []byte("offline")); kinds(n) != "online" || n[0].Text() != root+" is offline" {
		t.Fatalf("notes = %+v", n)
	}
	if n := handleRaw(t, w, root+"/availability", []byte("offline")); len(n) != 0 {
		t.Fatalf("no change reported: %+v", n)
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
	if !strings.Contains(g.Summary(), "1999999996 events missing (first 3)") {
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
