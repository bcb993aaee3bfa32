// Package watch follows a park's (or a city's) MQTT feed for the safety
// office, as `hazgate watch` shows it: each gate's availability, last
// inspection, verdict counts, active alarms and vehicles inside, and the
// completeness of its events: a gap in a gate's seq, a seq heard twice
// (the same id: a redelivery; another id: a conflict), and a gap filled
// later (docs/uplink.md "Watching the feed").
//
// It does no I/O: Handle is given each message and says what changed, so
// the command (cmd/hazgate/watch.go) or a test decides how to show it.
package watch

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Kind names what a Note reports.
type Kind string

// The kinds of Note.
const (
	KindEvent     Kind = "event"     // an event arrived (in seq order or a replay)
	KindStatus    Kind = "status"    // a gate's retained status changed
	KindOnline    Kind = "online"    // a gate's availability changed
	KindGap       Kind = "gap"       // seqs From..To of a gate are missing
	KindFilled    Kind = "filled"    // a missing seq arrived
	KindDuplicate Kind = "duplicate" // a seq heard again with the same id (a redelivery)
	KindConflict  Kind = "conflict"  // a seq heard again with another id: two events claim one seq
)

// Note is one change the feed brought.
type Note struct {
	Kind   Kind   `json:"kind"`
	Gate   string `json:"gate"` // the gate's topic root, hazgate/<park>/<gate>
	Seq    int64  `json:"seq,omitempty"`
	From   int64  `json:"from_seq,omitempty"` // KindGap
	To     int64  `json:"to_seq,omitempty"`   // KindGap
	ID     string `json:"id,omitempty"`
	Other  string `json:"other_id,omitempty"` // KindConflict: the id heard first for Seq
	Event  string `json:"event,omitempty"`    // KindEvent: inspection, passage, alarm, decision
	Replay bool   `json:"replay,omitempty"`
	Online string `json:"online,omitempty"` // KindOnline: online or offline
	// Sending is set on a KindOnline of a gate said offline that is
	// publishing (HandleMessage).
	Sending bool `json:"sending,omitempty"`
}

// Text says the note in plain words, one line, in English.
func (n Note) Text() string { return n.TextIn(EN) }

// TextIn says the note in plain words, one line, in lang.
func (n Note) TextIn(lang Lang) string {
	zh := lang == ZH
	switch n.Kind {
	case KindGap:
		switch {
		case zh && n.From == n.To:
			return fmt.Sprintf("%s 缺失事件：第 %d 条未到", n.Gate, n.From)
		case zh:
			return fmt.Sprintf("%s 缺失事件：第 %d 至 %d 条未到", n.Gate, n.From, n.To)
		case n.From == n.To:
			return fmt.Sprintf("GAP at %s: event %d is missing", n.Gate, n.From)
		}
		return fmt.Sprintf("GAP at %s: events %d to %d are missing", n.Gate, n.From, n.To)
	case KindFilled:
		if zh {
			return fmt.Sprintf("%s 缺失的第 %d 条事件已补到（id %s）", n.Gate, n.Seq, n.ID)
		}
		return fmt.Sprintf("gap filled at %s: event %d arrived late (id %s)", n.Gate, n.Seq, n.ID)
	case KindDuplicate:
		if zh {
			return fmt.Sprintf("%s 第 %d 条事件再次到达（同一 id %s，属重发）", n.Gate, n.Seq, n.ID)
		}
		return fmt.Sprintf("duplicate at %s: event %d arrived again (same id %s, a redelivery)", n.Gate, n.Seq, n.ID)
	case KindConflict:
		if zh {
			return fmt.Sprintf("%s 编号冲突：第 %d 条事件到达时 id 为 %s，但该编号已属于 %s：两条不同的事件使用同一编号", n.Gate, n.Seq, n.ID, n.Other)
		}
		return fmt.Sprintf("CONFLICT at %s: event %d arrived with id %s, but %s already had that number: two different events claim it", n.Gate, n.Seq, n.ID, n.Other)
	case KindOnline:
		switch {
		case n.Sending && zh:
			return fmt.Sprintf("%s 在线：仍在发送消息，尽管其在线状态显示离线（应为其已被取代的旧连接留下的遗嘱消息）", n.Gate)
		case n.Sending:
			return fmt.Sprintf("%s is online: it is sending, though its availability says offline (the will of a connection it has since replaced)", n.Gate)
		case zh:
			return fmt.Sprintf("%s %s", n.Gate, onlineWords(n.Online, zh))
		}
		return fmt.Sprintf("%s is %s", n.Gate, n.Online)
	case KindStatus:
		if zh {
			return fmt.Sprintf("%s 发来状态", n.Gate)
		}
		return fmt.Sprintf("%s sent its status", n.Gate)
	default:
		if zh {
			s := fmt.Sprintf("%s：%s事件 第 %d 条", n.Gate, eventWords(n.Event, zh), n.Seq)
			if n.Replay {
				s += "（重放）"
			}
			return s
		}
		s := fmt.Sprintf("%s: %s event %d", n.Gate, n.Event, n.Seq)
		if n.Replay {
			s += " (replayed)"
		}
		return s
	}
}

// Inspection is a gate's last inspection.
type Inspection struct {
	Plate   string `json:"plate"`
	Verdict string `json:"verdict"`
	Lane    string `json:"lane"`
	TS      string `json:"ts"`
	Seq     int64  `json:"seq"`
}

// Text is what an alarm means, in Chinese and English, as its event
// carries it.
type Text struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

// Alarm is an alarm: one still on, or the last one heard.
type Alarm struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	Code string `json:"code"`
	Lane string `json:"lane,omitempty"`
	Text *Text  `json:"text,omitempty"` // from its raised event; a status does not carry it
	TS   string `json:"ts,omitempty"`   // when it was raised, as the gate said
}

// Gate is what the feed says of one gate.
type Gate struct {
	Root   string // hazgate/<park>/<gate>
	Online string // online, offline, or "" when not heard
	// Sending is true while the gate is taken as online, though its
	// availability says offline, because it publishes (HandleMessage).
	Sending  bool
	Last     *Inspection    // nil until an inspection is heard
	Verdicts map[string]int // inspections heard, by verdict
	// Inside is the status's presence.inside, the vehicles in the park as
	// the gate knows them; InsideKnown is false until a status with a
	// presence section is heard (a gate without the park's view has none).
	Inside      int
	InsideKnown bool
	Alarms      map[string]Alarm
	// LastAlarm is the last alarm event heard that was raised (or one
	// that does not last, such as a refusal or a barrier forced).
	LastAlarm *Alarm
	// Evacuating and LockedDown are from the status: an evacuation on,
	// and the lanes locked down.
	Evacuating bool
	LockedDown []string
	MaxSeq     int64   // the highest seq heard
	missing    []Range // the seqs still missing, in order, disjoint

	seen         map[int64]string // seq -> id, the last seenWindow seqs
	first        int64            // the first seq heard: nothing before it is a gap
	lastAlarmSeq int64            // LastAlarm's seq
}

// seenWindow bounds what is remembered of a gate's seqs: a seq this far
// below the highest is forgotten (a duplicate of it is not recognised).
const seenWindow = 1 << 16

// ActiveAlarms lists the alarms on, by kind then id.
func (g *Gate) ActiveAlarms() []Alarm {
	out := make([]Alarm, 0, len(g.Alarms))
	for _, a := range g.Alarms {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Range is the seqs From to To, both included.
type Range struct{ From, To int64 }

// Missing lists the seqs still missing, in order. A gap is kept as a
// range, so a wild seq (a gate's counter gone wrong) costs no memory.
func (g *Gate) Missing() []Range { return append([]Range(nil), g.missing...) }

// FirstSeq is the first seq heard of the gate (or an earlier one replayed
// since): nothing before it counts as missing. 0 until an event is heard.
func (g *Gate) FirstSeq() int64 { return g.first }

// MissingCount is how many seqs are still missing.
func (g *Gate) MissingCount() int64 {
	var n int64
	for _, r := range g.missing {
		n += r.To - r.From + 1
	}
	return n
}

// fill takes s out of the missing ranges; false if it was not missing.
func (g *Gate) fill(s int64) bool {
	i := sort.Search(len(g.missing), func(i int) bool { return g.missing[i].To >= s })
	if i == len(g.missing) || g.missing[i].From > s {
		return false
	}
	r := g.missing[i]
	switch {
	case r.From == s && r.To == s:
		g.missing = append(g.missing[:i], g.missing[i+1:]...)
	case r.From == s:
		g.missing[i].From++
	case r.To == s:
		g.missing[i].To--
	default:
		g.missing = append(g.missing[:i+1], g.missing[i:]...)
		g.missing[i].To = s - 1
		g.missing[i+1].From = s + 1
	}
	return true
}

// Summary is the gate in one line of plain words, in English.
func (g *Gate) Summary() string { return g.SummaryIn(EN) }

// SummaryIn is the gate in one line of plain words, in lang: online or
// offline, an evacuation or a lock-down on, the last inspection, the
// inspections by verdict, the vehicles inside, the alarms on (and the
// last one heard), and the events missing.
func (g *Gate) SummaryIn(lang Lang) string {
	zh := lang == ZH
	sep := "; "
	if zh {
		sep = "；"
	}
	parts := []string{onlineWords(g.Online, zh)}
	if g.Sending {
		parts[0] += pick(zh, "（仍在发送；在线状态显示离线）", " (sending; its availability says offline)")
	}
	if g.Evacuating {
		parts = append(parts, pick(zh, "疏散中：出口道闸常开，入口关闭", "EVACUATION: exit lanes held open, entry lanes closed"))
	}
	if len(g.LockedDown) > 0 {
		parts = append(parts, pick(zh, "封锁中："+strings.Join(g.LockedDown, "、"), "LOCKED DOWN: "+strings.Join(g.LockedDown, ", ")))
	}
	if l := g.Last; l != nil {
		if zh {
			parts = append(parts, fmt.Sprintf("最近检查：%s %s（%s，%s）", l.Plate, verdictWords(l.Verdict, zh), l.Lane, when(l.TS)))
		} else {
			parts = append(parts, fmt.Sprintf("last inspection: %s %s (lane %s, %s)", l.Plate, verdictWords(l.Verdict, zh), l.Lane, when(l.TS)))
		}
	} else {
		parts = append(parts, pick(zh, "尚未收到检查", "no inspection heard yet"))
	}
	if len(g.Verdicts) > 0 {
		vs := make([]string, 0, len(g.Verdicts))
		for v := range g.Verdicts {
			vs = append(vs, v)
		}
		sort.Slice(vs, func(i, j int) bool {
			return verdictRank(vs[i]) < verdictRank(vs[j]) || verdictRank(vs[i]) == verdictRank(vs[j]) && vs[i] < vs[j]
		})
		counts := make([]string, len(vs))
		for i, v := range vs {
			if zh {
				counts[i] = fmt.Sprintf("%s %d", verdictWords(v, zh), g.Verdicts[v])
			} else {
				counts[i] = fmt.Sprintf("%d %s", g.Verdicts[v], verdictWords(v, zh))
			}
		}
		parts = append(parts, pick(zh, "检查："+strings.Join(counts, "，"), "inspections: "+strings.Join(counts, ", ")))
	}
	switch {
	case !g.InsideKnown:
		parts = append(parts, pick(zh, "场内车辆：未知", "vehicles inside: not known"))
	case zh:
		parts = append(parts, fmt.Sprintf("场内车辆 %d 辆", g.Inside))
	case g.Inside == 1:
		parts = append(parts, "1 vehicle inside")
	default:
		parts = append(parts, fmt.Sprintf("%d vehicles inside", g.Inside))
	}
	if al := g.ActiveAlarms(); len(al) > 0 {
		names := make([]string, len(al))
		for i, a := range al {
			names[i] = alarmWords(a, zh)
		}
		parts = append(parts, pick(zh, "告警中："+strings.Join(names, "、"), "alarms on: "+strings.Join(names, ", ")))
	} else {
		parts = append(parts, pick(zh, "无告警", "no alarm on"))
	}
	if a := g.LastAlarm; a != nil {
		if zh {
			parts = append(parts, fmt.Sprintf("最近告警：%s，%s", alarmWords(*a, zh), when(a.TS)))
		} else {
			parts = append(parts, fmt.Sprintf("last alarm: %s, %s", alarmWords(*a, zh), when(a.TS)))
		}
	}
	if len(g.missing) > 0 {
		n := g.MissingCount()
		switch {
		case zh:
			parts = append(parts, fmt.Sprintf("缺失事件 %d 条：%s", n, rangesWords(g.missing)))
		case n == 1:
			parts = append(parts, "1 event missing: "+rangesWords(g.missing))
		default:
			parts = append(parts, fmt.Sprintf("%d events missing: %s", n, rangesWords(g.missing)))
		}
	}
	colon := ": "
	if zh {
		colon = "："
	}
	return g.Root + colon + strings.Join(parts, sep)
}

// ReplayMax is the most events one replay request asks for (the gate's
// own bound, uplink's replayMax): of a longer gap, the first ReplayMax.
const ReplayMax = 10000

// ReplayFunc asks a gate (its topic root) to publish events from..to again.
type ReplayFunc func(gate string, from, to int64) error

// Watcher follows the feed. It is not safe for concurrent use: one
// goroutine hands it the messages, in the order they arrived.
type Watcher struct {
	gates  map[string]*Gate
	replay ReplayFunc
	asked  map[string]bool // gate + range already asked for
	// ReplayErrors are the errors the replay callback returned, in plain
	// words, for the command to show.
	ReplayErrors []string
}

// New returns a Watcher; replay, when not nil, is called once for each
// gap found.
func New(replay ReplayFunc) *Watcher {
	return &Watcher{gates: map[string]*Gate{}, replay: replay, asked: map[string]bool{}}
}

// Gates lists the gates heard, by root.
func (w *Watcher) Gates() []*Gate {
	out := make([]*Gate, 0, len(w.gates))
	for _, g := range w.gates {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Root < out[j].Root })
	return out
}

// Gate returns the gate of that root, or nil.
func (w *Watcher) Gate(root string) *Gate { return w.gates[root] }

func (w *Watcher) gate(root string) *Gate {
	g := w.gates[root]
	if g == nil {
		g = &Gate{Root: root, Verdicts: map[string]int{}, Alarms: map[string]Alarm{}, seen: map[int64]string{}}
		w.gates[root] = g
	}
	return g
}

// split finds the gate's root and what the message is from its topic:
// ("hazgate/p/g", "availability"), ("hazgate/p/g", "status"),
// ("hazgate/p/g", "events/inspection"), and telemetry and presence (read
// only as a sign of life). ok is false for anything else (commands,
// registry).
func split(topic string) (root, what string, ok bool) {
	if i := strings.LastIndex(topic, "/events/"); i > 0 {
		return topic[:i], topic[i+1:], true
	}
	for _, s := range []string{"availability", "status", "telemetry", "presence"} {
		if strings.HasSuffix(topic, "/"+s) && len(topic) > len(s)+1 {
			root = topic[:len(topic)-len(s)-1]
			if strings.Contains(root, "/cmd") {
				return "", "", false
			}
			return root, s, true
		}
	}
	return "", "", false
}

// event is the part of an event the watcher reads.
type event struct {
	Schema  string `json:"schema"`
	ID      string `json:"id"`
	Seq     int64  `json:"seq"`
	Gate    string `json:"gate"`
	Lane    string `json:"lane"`
	TS      string `json:"ts"`
	Replay  bool   `json:"replay"`
	Plate   string `json:"plate"`
	Verdict string `json:"verdict"`
	Kind    string `json:"kind"`
	Code    string `json:"code"`
	Text    *Text  `json:"text"`
	State   string `json:"state"`
	AlarmID string `json:"alarm_id"`
}

type status struct {
	Schema   string  `json:"schema"`
	Alarms   []Alarm `json:"alarms"`
	Presence *struct {
		Inside int `json:"inside"`
	} `json:"presence"`
	Lanes []struct {
		Lane     string `json:"lane"`
		Lockdown bool   `json:"lockdown"`
	} `json:"lanes"`
	Evacuation *struct {
		On bool `json:"on"`
	} `json:"evacuation"`
}

// Handle takes one message, as one published live (not a retained one
// the broker hands a new subscription), and returns what it changed, in
// order. A message it cannot read is an error naming the topic and field;
// the watcher's state is then unchanged. Topics it does not follow return
// nothing.
func (w *Watcher) Handle(topic string, payload []byte) ([]Note, error) {
	return w.HandleMessage(topic, payload, false)
}

// HandleMessage is Handle, told whether the message came retained.
//
// A gate said offline that then publishes live (an event, its status,
// telemetry, presence) is online: its availability is then a will that a
// connection it has since replaced left behind, published by the broker
// after the new connection's "online" (seen on the NATS cluster when a
// node's stall made gates reconnect elsewhere). A retained message proves
// nothing: it may be older than the will.
func (w *Watcher) HandleMessage(topic string, payload []byte, retained bool) ([]Note, error) {
	notes, err := w.handle(topic, payload)
	if err != nil || retained || len(payload) == 0 {
		return notes, err
	}
	root, what, ok := split(topic)
	if !ok || what == "availability" {
		return notes, nil
	}
	if g := w.gates[root]; g != nil && g.Online == "offline" {
		g.Online, g.Sending = "online", true
		notes = append([]Note{{Kind: KindOnline, Gate: root, Online: "online", Sending: true}}, notes...)
	}
	return notes, nil
}

func (w *Watcher) handle(topic string, payload []byte) ([]Note, error) {
	root, what, ok := split(topic)
	if !ok {
		return nil, nil
	}
	switch {
	case what == "telemetry" || what == "presence":
		return nil, nil // only a sign of life
	case what == "availability":
		s := strings.TrimSpace(string(payload))
		if s != "online" && s != "offline" {
			if s == "" {
				return nil, nil // a cleared retained message
			}
			return nil, fmt.Errorf("%s: availability %q is neither online nor offline", topic, s)
		}
		g := w.gate(root)
		sending := g.Sending
		g.Sending = false
		if g.Online == s && !sending {
			return nil, nil
		}
		g.Online = s
		return []Note{{Kind: KindOnline, Gate: root, Online: s}}, nil
	case what == "status":
		if len(payload) == 0 {
			return nil, nil
		}
		var st status
		if err := json.Unmarshal(payload, &st); err != nil {
			return nil, fmt.Errorf("%s: the status is not JSON: %v", topic, err)
		}
		if st.Schema != "hazgate.status/1" {
			return nil, fmt.Errorf("%s: schema %q, expected hazgate.status/1", topic, st.Schema)
		}
		g := w.gate(root)
		alarms := map[string]Alarm{}
		for _, a := range st.Alarms {
			if old, ok := g.Alarms[a.ID]; ok && a.Text == nil {
				a.Text = old.Text // heard with its raised event
			}
			alarms[a.ID] = a
		}
		g.Alarms = alarms
		g.InsideKnown = st.Presence != nil
		if st.Presence != nil {
			g.Inside = st.Presence.Inside
		}
		g.LockedDown = nil
		for _, l := range st.Lanes {
			if l.Lockdown {
				g.LockedDown = append(g.LockedDown, l.Lane)
			}
		}
		g.Evacuating = st.Evacuation != nil && st.Evacuation.On
		return []Note{{Kind: KindStatus, Gate: root}}, nil
	}
	var e event
	if err := json.Unmarshal(payload, &e); err != nil {
		return nil, fmt.Errorf("%s: the event is not JSON: %v", topic, err)
	}
	name := strings.TrimPrefix(what, "events/")
	switch {
	case e.Schema != "hazgate."+name+"/1":
		return nil, fmt.Errorf("%s: schema %q, expected hazgate.%s/1", topic, e.Schema, name)
	case e.ID == "":
		return nil, fmt.Errorf("%s: the event has no id", topic)
	case e.Seq < 1:
		return nil, fmt.Errorf("%s: event %s has no seq (or one below 1)", topic, e.ID)
	}
	g := w.gate(root)
	notes, fresh := w.track(g, &e)
	if fresh {
		w.apply(g, name, &e)
		notes = append([]Note{{Kind: KindEvent, Gate: root, Seq: e.Seq, ID: e.ID, Event: name, Replay: e.Replay}}, notes...)
	}
	return notes, nil
}

// track checks the event's seq against what the gate sent before. fresh
// is false when the event was heard already (it changes nothing).
func (w *Watcher) track(g *Gate, e *event) (notes []Note, fresh bool) {
	if prev, ok := g.seen[e.Seq]; ok {
		switch {
		case prev != e.ID:
			return []Note{{Kind: KindConflict, Gate: g.Root, Seq: e.Seq, ID: e.ID, Other: prev}}, false
		case e.Replay:
			return nil, false // asked for, or a replay of what we had: not a duplicate
		default:
			return []Note{{Kind: KindDuplicate, Gate: g.Root, Seq: e.Seq, ID: e.ID}}, false
		}
	}
	g.seen[e.Seq] = e.ID
	switch {
	case g.first == 0:
		g.first, g.MaxSeq = e.Seq, e.Seq
	case g.fill(e.Seq):
		notes = append(notes, Note{Kind: KindFilled, Gate: g.Root, Seq: e.Seq, ID: e.ID})
	case e.Seq > g.MaxSeq+1:
		from, to := g.MaxSeq+1, e.Seq-1
		g.missing = append(g.missing, Range{from, to})
		notes = append(notes, Note{Kind: KindGap, Gate: g.Root, From: from, To: to})
		w.ask(g.Root, from, min(to, from+ReplayMax-1))
	}
	if e.Seq > g.MaxSeq {
		g.MaxSeq = e.Seq
	}
	if len(g.seen) > seenWindow+seenWindow/4 { // swept now and then, not per event
		for s := range g.seen {
			if s <= g.MaxSeq-seenWindow {
				delete(g.seen, s)
			}
		}
	}
	if e.Seq < g.first {
		g.first = e.Seq // an earlier event (a replay before we started): not a gap
	}
	return notes, true
}

// ask calls the replay callback once per gap.
func (w *Watcher) ask(root string, from, to int64) {
	if w.replay == nil {
		return
	}
	k := fmt.Sprintf("%s %d %d", root, from, to)
	if w.asked[k] {
		return
	}
	w.asked[k] = true
	if err := w.replay(root, from, to); err != nil {
		w.ReplayErrors = append(w.ReplayErrors, fmt.Sprintf("could not ask %s to replay events %d to %d: %v", root, from, to, err))
	}
}

// apply takes what the summary shows from a fresh event.
func (w *Watcher) apply(g *Gate, name string, e *event) {
	switch name {
	case "inspection":
		g.Verdicts[e.Verdict]++
		if g.Last == nil || e.Seq > g.Last.Seq {
			g.Last = &Inspection{Plate: e.Plate, Verdict: e.Verdict, Lane: e.Lane, TS: e.TS, Seq: e.Seq}
		}
	case "alarm":
		id := e.AlarmID
		if id == "" {
			id = e.ID
		}
		a := Alarm{ID: id, Kind: e.Kind, Code: e.Code, Lane: e.Lane, Text: e.Text, TS: e.TS}
		switch e.State {
		case "raised":
			g.Alarms[id] = a
		case "cleared":
			delete(g.Alarms, id)
			return
		}
		if e.Seq >= g.lastAlarmSeq {
			g.LastAlarm, g.lastAlarmSeq = &a, e.Seq
		}
	}
}
