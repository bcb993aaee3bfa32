package kiosk

import (
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/registry"
)

// The kiosk never shows a whole ID number: names are shown, ID numbers only
// by their last four characters.

// MaskID returns id with every character but the last four replaced by '*'
// (all of them when it has four or fewer).
func MaskID(id string) string {
	r := []rune(strings.TrimSpace(id))
	if len(r) <= 4 {
		return strings.Repeat("*", len(r))
	}
	return strings.Repeat("*", len(r)-4) + string(r[len(r)-4:])
}

// text is a message in Chinese and English.
type text struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

// personView is a driver or an escort as the screen shows them.
type personView struct {
	Name       string            `json:"name"`
	ID         string            `json:"id_masked"`
	CardFrom   registry.Validity `json:"card_valid_from"`
	CardUntil  registry.Validity `json:"card_valid_until"`
	Face       *float64          `json:"face"`
	FaceScored bool              `json:"face_scored"`          // the face-match answer (a score or none) came
	Sex        string            `json:"sex,omitempty"`        // "M" or "F", from the ID number
	BirthYear  int               `json:"birth_year,omitempty"` // from the ID number
}

func newPersonView(p *checks.PersonEvidence, scored bool) *personView {
	if p == nil {
		return nil
	}
	v := &personView{Name: p.Name, ID: MaskID(p.IDNumber), CardFrom: p.CardValidFrom, CardUntil: p.CardValidUntil, FaceScored: scored}
	v.Sex, v.BirthYear = cardFacts(p.IDNumber)
	if p.Face != nil {
		f := *p.Face
		v.Face = &f
	}
	return v
}

// Check states besides the results: the evidence a check needs is still
// awaited (waiting), complete (ready), or the checks are running.
const (
	stateWaiting = "waiting"
	stateReady   = "ready"
	stateRunning = "running"
)

// checkView is one check on the screen: its state (a result, or one of the
// state* values) and its reasons.
type checkView struct {
	ID      string          `json:"id"`
	State   string          `json:"state"`
	Reasons []checks.Reason `json:"reasons"`
	Waiting []string        `json:"waiting,omitempty"` // evidence it still awaits
}

// needs is the evidence (lane.Missing* items) each check judges.
var needs = map[string][]string{
	checks.VehicleDocuments:       {lane.MissingPlate, lane.MissingWaybill},
	checks.PersonnelQualification: {lane.MissingDriverCard, lane.MissingEscortCard},
	checks.InspectionValidity:     {lane.MissingPlate},
	checks.WaybillConsistency:     {lane.MissingPlate, lane.MissingDriverCard, lane.MissingEscortCard, lane.MissingWaybill},
	checks.TankMedia:              {lane.MissingPlate, lane.MissingWaybill},
	checks.Identity:               {lane.MissingDriverCard, lane.MissingDriverFace, lane.MissingEscortCard, lane.MissingEscortFace},
	checks.ParkRules:              {lane.MissingPlate, lane.MissingDriverCard, lane.MissingEscortCard},
}

// checkViews is the checks of an outcome, or, before there is one, what
// each check is waiting for.
func checkViews(phase lane.Phase, out *checks.Outcome, missing []string) []checkView {
	if out != nil {
		return outcomeChecks(*out)
	}
	views := make([]checkView, 0, len(checks.IDs))
	for _, id := range checks.IDs {
		v := checkView{ID: id, Reasons: []checks.Reason{}}
		switch phase {
		case lane.PhaseCollecting:
			for _, need := range needs[id] {
				if slices.Contains(missing, need) {
					v.Waiting = append(v.Waiting, need)
				}
			}
			v.State = stateReady
			if len(v.Waiting) > 0 {
				v.State = stateWaiting
			}
		case lane.PhaseDeciding:
			v.State = stateRunning
		default:
			continue
		}
		views = append(views, v)
	}
	return views
}

func outcomeChecks(out checks.Outcome) []checkView {
	views := make([]checkView, 0, len(out.Checks))
	for _, c := range out.Checks {
		rs := c.Reasons
		if rs == nil {
			rs = []checks.Reason{}
		}
		views = append(views, checkView{ID: c.ID, State: string(c.Result), Reasons: rs})
	}
	return views
}

// laneView is one lane's panel: the lane.Snapshot with ID numbers masked,
// the checks' states and the note in both languages.
type laneView struct {
	Lane             string          `json:"lane"`
	Exit             bool            `json:"exit"`
	Phase            lane.Phase      `json:"phase"`
	Active           bool            `json:"active"` // a vehicle is being handled (not idle)
	Plate            string          `json:"plate"`
	Trailer          string          `json:"trailer"`
	PlateUnconfirmed bool            `json:"plate_unconfirmed"`
	PlateEntry       bool            `json:"plate_entry"` // the operator may type the plate
	Driver           *personView     `json:"driver"`
	Escort           *personView     `json:"escort"`
	Waybill          string          `json:"waybill"`
	Missing          []string        `json:"missing"`
	InspectionID     string          `json:"inspection_id"`
	Verdict          checks.Verdict  `json:"verdict"`
	VerdictReasons   []checks.Reason `json:"verdict_reasons"`
	Checks           []checkView     `json:"checks"`
	Barrier          barrierView     `json:"barrier"`
	ArrivalOccupied  bool            `json:"arrival_occupied"`
	SafetyOccupied   bool            `json:"safety_occupied"`
	Arrived          time.Time       `json:"arrived,omitzero"`
	Deadline         time.Time       `json:"deadline,omitzero"`
	Lockdown         bool            `json:"lockdown"`
	Faults           []string        `json:"faults"` // the lane's failing devices
	Releasing        bool            `json:"releasing"`
	Decidable        string          `json:"decidable"` // "", "review", "reject" or "exit": what an operator may decide
	Decision         *decisionView   `json:"decision"`  // the operator's decision on this (or the last) vehicle
	EntryID          string          `json:"entry_id,omitempty"`
	StayS            float64         `json:"stay_s,omitempty"`
	Note             *text           `json:"note"`
	ServerTime       time.Time       `json:"server_time"`
}

// barrierView is the barrier's last command and its reported state.
type barrierView struct {
	Commanded lane.BarrierCommand `json:"commanded"`
	Reported  lane.BarrierState   `json:"reported"`
}

// newLaneView builds a lane's panel at now (the gate's clock).
func newLaneView(s lane.Snapshot, now time.Time) laneView {
	ev := s.Evidence
	v := laneView{
		Lane: s.Lane, Exit: s.Exit, Phase: s.Phase, Active: s.Phase != lane.PhaseIdle,
		Plate: ev.Plate, Trailer: ev.Trailer, PlateUnconfirmed: s.PlateUnconfirmed,
		Waybill: ev.Waybill, Missing: append([]string{}, s.Missing...),
		InspectionID: s.InspectionID, VerdictReasons: []checks.Reason{},
		Barrier:         barrierView{Commanded: s.BarrierCommanded, Reported: s.BarrierReported},
		ArrivalOccupied: s.ArrivalOccupied, SafetyOccupied: s.SafetyOccupied,
		Arrived: ev.Arrived, Deadline: s.Deadline, Lockdown: s.Lockdown, Releasing: s.Releasing,
		EntryID: s.EntryID, StayS: s.Stay.Seconds(), ServerTime: now,
		Faults: append([]string{}, s.Faults...),
	}
	v.Driver = newPersonView(ev.Driver, ev.Driver != nil && !slices.Contains(s.Missing, lane.MissingDriverFace))
	v.Escort = newPersonView(ev.Escort, ev.Escort != nil && !slices.Contains(s.Missing, lane.MissingEscortFace))
	v.PlateEntry = s.Phase == lane.PhaseCollecting && slices.Contains(s.Missing, lane.MissingPlate)
	if s.Outcome != nil {
		v.Verdict = s.Outcome.Verdict
		if s.Outcome.Reasons != nil {
			v.VerdictReasons = s.Outcome.Reasons
		}
	}
	if !s.Exit {
		v.Checks = checkViews(s.Phase, s.Outcome, s.Missing)
	}
	if v.Checks == nil {
		v.Checks = []checkView{}
	}
	v.Decidable = decidable(s)
	if d := s.Decision; d != nil {
		dv := newDecisionView(d.Operator, d.Action, d.Reason)
		v.Decision = &dv
	}
	// A refusal's note says what the decision line says: it is not shown twice.
	if s.Note != "" && !(s.Decision != nil && strings.HasPrefix(s.Note, "refused by ")) {
		n := noteText(s.Note)
		v.Note = &n
	}
	return v
}

// decidable says what an operator may decide on the lane now: a held
// review ("review"), a held rejection ("reject", supervisors only), a held
// exit ("exit"), or nothing ("").
//
// A refused vehicle's case is closed: nothing more to decide. A released
// vehicle the lane held again may be released again (it opens under the
// recorded release).
func decidable(s lane.Snapshot) string {
	if s.Phase != lane.PhaseHeld || s.Releasing {
		return ""
	}
	if s.Decision != nil && s.Decision.Action == lane.ActionRefuse {
		return ""
	}
	if s.Exit {
		return "exit"
	}
	if s.InspectionID == "" || s.Outcome == nil {
		return ""
	}
	switch s.Outcome.Verdict {
	case checks.VerdictReview:
		return "review"
	case checks.VerdictReject:
		return "reject"
	case checks.VerdictPass:
		// A pass held in lock-down: the operator may refuse it, or release
		// it once the lock-down is lifted.
		return "review"
	}
	return ""
}

// notes are the lane's fixed notes (lane.State.Note) in Chinese; whys are
// the reasons it gives for not taking an operator's decision. A note that is
// not known here is shown as it is in both languages.
var (
	notes = map[string]string{
		"vehicle left before the decision":                               "车辆在判定前离开",
		"held vehicle left":                                              "等待中的车辆已离开",
		"no plate read by the deadline":                                  "时限内未识别到车牌",
		"plate read not confirmed by the deadline":                       "时限内车牌识别未确认",
		"barrier closed again: the vehicle did not cross in time":        "车辆未按时通过，道闸已重新关闭",
		"pass held: the lane is in lock-down":                            "核查通过，但车道已封锁：车辆等待",
		"verdict review: waiting for the operator":                       "待人工审核：等待操作员处理",
		"verdict reject: waiting for the operator":                       "拒绝进入：车辆等待处理",
		"the inspection could not be recorded: the barrier stays closed": "检查记录保存失败：道闸保持关闭",
		"vehicle left before the record was committed":                   "记录保存前车辆已离开",
		"exit held: the lane is in lock-down":                            "车道已封锁：出场车辆等待",
		"the exit could not be recorded: the barrier stays closed":       "出场记录保存失败：道闸保持关闭",
		"the release could not be recorded: the barrier stays closed":    "放行记录保存失败：道闸保持关闭",
		"the refusal could not be recorded: the vehicle is still held":   "拒绝放行记录保存失败：车辆仍在等待",
		"release recorded but not carried out: the lane is in lock-down": "放行已记录但未执行：车道已封锁",
		"lock-down: the barrier closed before the vehicle crossed":       "封锁：车辆通过前道闸已关闭",
		"the barrier failed to open":                                     "道闸未能打开",
		"a third ID card was ignored":                                    "第三张身份证已忽略",
		"a second driver card was ignored":                               "第二张驾驶员身份证已忽略",
		"a second escort card was ignored":                               "第二张押运员身份证已忽略",
	}
	whys = map[string]string{
		"no vehicle is held":                  "没有等待处理的车辆",
		"no recorded inspection to decide on": "没有可处理的检查记录",
		"that inspection is no longer held":   "该检查已不在等待处理",
		"an operator must be named":           "必须注明操作员",
		"a reason is required":                "必须填写原因",
		"a release is already being recorded": "放行正在记录中",
		"the lane is in lock-down":            "车道已封锁",
	}
	// whoWhys are the reasons that end in an operator's name.
	whoWhys = []struct{ prefix, zh, zhAfter string }{
		{"already refused by ", "已由 ", " 拒绝放行"},
		{"already released by ", "已由 ", " 放行"},
	}
)

// noteText is a lane note in both languages, the English in sentence case.
func noteText(note string) text {
	t := noteWords(note)
	if r, n := utf8.DecodeRuneInString(t.EN); n > 0 && unicode.IsLower(r) {
		t.EN = string(unicode.ToUpper(r)) + t.EN[n:]
	}
	return t
}

// noteWords is a lane note in Chinese, with its English as the lane wrote it.
func noteWords(note string) text {
	if zh, ok := notes[note]; ok {
		return text{ZH: zh, EN: note}
	}
	for _, p := range []struct{ prefix, zh string }{
		{"release refused: ", "放行未执行："},
		{"refusal not taken: ", "拒绝未执行："},
	} {
		if why, ok := strings.CutPrefix(note, p.prefix); ok {
			if zh, ok := whys[why]; ok {
				return text{ZH: p.zh + zh, EN: note}
			}
			if who, ok := strings.CutSuffix(why, ", and the arrival loop cleared since"); ok {
				if who, ok := strings.CutPrefix(who, "already released by "); ok {
					return text{ZH: p.zh + "已由 " + who + " 放行，但此后到达线圈曾空出：请让车辆重新驶入核查", EN: note}
				}
			}
			for _, w := range whoWhys {
				if who, ok := strings.CutPrefix(why, w.prefix); ok {
					return text{ZH: p.zh + w.zh + who + w.zhAfter, EN: note}
				}
			}
		}
	}
	if who, ok := strings.CutPrefix(note, "release by "); ok {
		if who, ok := strings.CutSuffix(who, " being recorded"); ok {
			return text{ZH: "操作员 " + who + " 的放行正在记录", EN: note}
		}
	}
	if who, ok := strings.CutPrefix(note, "refused by "); ok {
		if who, reason, ok := strings.Cut(who, ": "); ok {
			return text{ZH: "操作员 " + who + " 已拒绝放行：" + reason, EN: note}
		}
		return text{ZH: "操作员 " + who + " 已拒绝放行", EN: note}
	}
	if who, ok := strings.CutPrefix(note, "opened again under the release by "); ok {
		return text{ZH: "按操作员 " + who + " 已记录的放行重新抬杆", EN: note}
	}
	if strings.HasPrefix(note, "a card with unknown role ") {
		return text{ZH: "角色不明的身份证已忽略", EN: note}
	}
	return text{ZH: note, EN: note}
}
