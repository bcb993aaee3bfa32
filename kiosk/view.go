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
	checks.VehicleDocuments:       {lane.MissingPlate, lane.MissingWaybill, lane.MissingWaybillLookup},
	checks.PersonnelQualification: {lane.MissingDriverCard, lane.MissingEscortCard},
	checks.InspectionValidity:     {lane.MissingPlate},
	checks.WaybillConsistency:     {lane.MissingPlate, lane.MissingDriverCard, lane.MissingEscortCard, lane.MissingWaybill, lane.MissingWaybillLookup},
	checks.TankMedia:              {lane.MissingPlate, lane.MissingWaybill, lane.MissingWaybillLookup},
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
	PlateColor       string          `json:"plate_color"` // the camera's read of the plate's colour
	Placard          *bool           `json:"placard"`     // the danger mark seen, not seen, or null: not said
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
	Evacuation       bool            `json:"evacuation"`
	EvacuationBy     string          `json:"evacuation_by,omitempty"` // who may end it: "office" or "kiosk"
	Faults           []string        `json:"faults"`                  // the lane's failing devices
	Releasing        bool            `json:"releasing"`
	Decidable        string          `json:"decidable"` // "", "review", "reject" or "exit": what an operator may decide
	Decision         *decisionView   `json:"decision"`  // the operator's decision on this (or the last) vehicle
	EntryID          string          `json:"entry_id,omitempty"`
	StayS            float64         `json:"stay_s,omitempty"`
	Note             *text           `json:"note"`
	ServerTime       time.Time       `json:"server_time"`

	// WaybillSource is how the waybill was found (checks.WaybillScanned,
	// checks.WaybillByPlate, "" none); WaybillByPlate the waybill found
	// from the plate when a scan named another, which won.
	WaybillSource  string `json:"waybill_source"`
	WaybillByPlate string `json:"waybill_by_plate,omitempty"`
}

// waybillFound is how ev's waybill was found, and the waybill found from
// the plate when a scan of another overrode it ("" otherwise).
func waybillFound(ev checks.Evidence) (source, overridden string) {
	if ev.Waybill == "" {
		return "", ""
	}
	if ev.WaybillByPlate != ev.Waybill {
		overridden = ev.WaybillByPlate
	}
	return ev.WaybillSource, overridden
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
		PlateColor: ev.PlateColor, Placard: ev.Placard,
		Waybill: ev.Waybill, Missing: append([]string{}, s.Missing...),
		InspectionID: s.InspectionID, VerdictReasons: []checks.Reason{},
		Barrier:         barrierView{Commanded: s.BarrierCommanded, Reported: s.BarrierReported},
		ArrivalOccupied: s.ArrivalOccupied, SafetyOccupied: s.SafetyOccupied,
		Arrived: ev.Arrived, Deadline: s.Deadline, Lockdown: s.Lockdown, Evacuation: s.Evacuation, Releasing: s.Releasing,
		EntryID: s.EntryID, StayS: s.Stay.Seconds(), ServerTime: now,
		Faults: append([]string{}, s.Faults...),
	}
	v.WaybillSource, v.WaybillByPlate = waybillFound(ev)
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
	if s.Note != "" && !(s.Decision != nil && s.NoteCode == lane.NoteRefused) {
		n := noteText(s)
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

// noteZH are the lane's notes (lane.Note* codes) in Chinese, with the
// arguments put in; whyZH the reasons it gives for not taking an operator's
// decision (lane.Why* codes). The English is the lane's own (lane.NoteText).
var (
	noteZH = map[string]string{
		lane.NoteVehicleLeft:           "车辆在判定前离开",
		lane.NoteHeldVehicleLeft:       "等待中的车辆已离开",
		lane.NoteNoPlate:               "时限内未识别到车牌",
		lane.NotePlateUnconfirmed:      "时限内车牌识别未确认",
		lane.NoteNotCrossed:            "车辆未按时通过，道闸已重新关闭",
		lane.NotePassHeldLockdown:      "核查通过，但车道已封锁：车辆等待",
		lane.NoteInspectionNotRecorded: "检查记录保存失败：道闸保持关闭",
		lane.NoteLeftBeforeRecord:      "记录保存前车辆已离开",
		lane.NoteExitHeldLockdown:      "车道已封锁：出场车辆等待",
		lane.NoteExitNotRecorded:       "出场记录保存失败：道闸保持关闭",
		lane.NoteReleaseNotRecorded:    "放行记录保存失败：道闸保持关闭",
		lane.NoteRefusalNotRecorded:    "拒绝放行记录保存失败：车辆仍在等待",
		lane.NoteReleaseNotCarriedOut:  "放行已记录但未执行：车道已封锁",
		lane.NoteLockdownClosed:        "封锁：车辆通过前道闸已关闭",
		lane.NoteBarrierFailed:         "道闸未能打开",
		lane.NoteThirdCard:             "第三张身份证已忽略",
		lane.NoteUnknownRoleCard:       "角色不明的身份证已忽略",
		lane.NoteReleaseRefused:        "放行未执行：{why}",
		lane.NoteRefusalNotTaken:       "拒绝未执行：{why}",
		lane.NoteReopened:              "按操作员 {operator} 已记录的放行重新抬杆",
		lane.NoteReleaseRecording:      "操作员 {operator} 的放行正在记录",
		lane.NoteRefused:               "操作员 {operator} 已拒绝放行：{reason}",
		lane.NoteEvacuating:            "紧急疏散：道闸保持抬起",
		lane.NotePassHeldEvacuation:    "核查通过，但正在紧急疏散：入场车道保持关闭",
		lane.NoteEvacuationClosed:      "紧急疏散：车辆通过前道闸已关闭",
	}
	verdictHeldZH = map[string]string{
		string(checks.VerdictReview): "待人工审核：等待操作员处理",
		string(checks.VerdictReject): "拒绝进入：车辆等待处理",
	}
	secondCardZH = map[string]string{
		string(registry.RoleDriver): "第二张驾驶员身份证已忽略",
		string(registry.RoleEscort): "第二张押运员身份证已忽略",
	}
	whyZH = map[string]string{
		lane.WhyNoVehicleHeld:      "没有等待处理的车辆",
		lane.WhyNoInspection:       "没有可处理的检查记录",
		lane.WhyInspectionNotHeld:  "该检查已不在等待处理",
		lane.WhyOperatorRequired:   "必须注明操作员",
		lane.WhyReasonRequired:     "必须填写原因",
		lane.WhyReleasePending:     "放行正在记录中",
		lane.WhyLockdown:           "车道已封锁",
		lane.WhyEvacuation:         "正在紧急疏散：入场车道保持关闭",
		lane.WhyAlreadyRefused:     "已由 {operator} 拒绝放行",
		lane.WhyAlreadyReleased:    "已由 {operator} 放行",
		lane.WhyReleasedLoopClosed: "已由 {operator} 放行，但此后到达线圈曾空出：请让车辆重新驶入核查",
	}
)

// noteText is a lane note in both languages, the English in sentence case.
func noteText(s lane.Snapshot) text {
	t := noteWords(s.NoteCode, s.NoteArgs, s.Note)
	if r, n := utf8.DecodeRuneInString(t.EN); n > 0 && unicode.IsLower(r) {
		t.EN = string(unicode.ToUpper(r)) + t.EN[n:]
	}
	return t
}

// noteWords is a lane note, by its code and arguments, in Chinese, with its
// English as the lane wrote it. A code not known here (or none) is shown as
// the lane's English in both languages.
func noteWords(code string, args map[string]string, en string) text {
	var zh string
	switch code {
	case lane.NoteVerdictHeld:
		zh = verdictHeldZH[args["verdict"]]
	case lane.NoteSecondCard:
		zh = secondCardZH[args["role"]]
	default:
		zh = noteZH[code]
	}
	if zh == "" {
		return text{ZH: en, EN: en}
	}
	r := []string{}
	for k, v := range args {
		if k == "why" {
			w, ok := whyZH[v]
			if !ok {
				return text{ZH: en, EN: en}
			}
			v = strings.ReplaceAll(w, "{operator}", args["operator"])
		}
		r = append(r, "{"+k+"}", v)
	}
	return text{ZH: strings.NewReplacer(r...).Replace(zh), EN: en}
}
