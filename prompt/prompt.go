// Package prompt is what the driver at a lane is told: the prompt that fits
// a lane's snapshot ("swipe your ID card", "checks passed, drive on",
// "refused: ..., pull over"), and the words for each prompt in Chinese and
// English, which the installer may change in the configuration (prompts).
// The outdoor display (kiosk, /display/<lane>) shows them and the voice
// board (gate, device/voice) speaks them, so both always say the same.
//
// A prompt carries no name and no ID number: the refusal's reasons are the
// failed checks in plain words, with any detail that could name a person
// left out.
//
// It imports checks and lane of ours; config, gate and kiosk import it.
package prompt

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/lane"
)

// Key names a prompt; the configuration's prompts table is keyed by it.
type Key string

// The prompts, in the order a vehicle usually meets them.
const (
	Idle        Key = "idle"         // no vehicle
	WaitPlate   Key = "wait_plate"   // the plate is not read yet
	SwipeDriver Key = "swipe_driver" // the driver's card
	SwipeEscort Key = "swipe_escort" // the escort's card
	LookCamera  Key = "look_camera"  // a face is being matched
	ScanWaybill Key = "scan_waybill" // the waybill's QR code
	Checking    Key = "checking"     // the checks are running
	Pass        Key = "pass"         // the barrier opens
	Review      Key = "review"       // held for the operator
	Refused     Key = "refused"      // a reject, or the operator's refusal
	Released    Key = "released"     // the operator released a held vehicle
	Closed      Key = "closed"       // lock-down
	Goodbye     Key = "goodbye"      // an exit lane opens
	Evacuate    Key = "evacuate"     // the gate evacuates: an exit lane held open
	EntryClosed Key = "entry_closed" // the gate evacuates: an entry lane closed

	// WaybillFound is a note shown beside the prompt, not a prompt: the
	// waybill was found from the plate, so no scan is needed (issue 16).
	WaybillFound Key = "waybill_by_plate"
)

// Keys lists every prompt, in order, and the note (WaybillFound) last.
var Keys = []Key{Idle, WaitPlate, SwipeDriver, SwipeEscort, LookCamera, ScanWaybill, Checking, Pass, Review, Refused, Released, Closed, Goodbye, Evacuate, EntryClosed, WaybillFound}

// Text is a prompt's words in Chinese and English. In the refused prompt
// {reason} stands for the first failed check and {reasons} for all of them.
type Text struct {
	ZH string `yaml:"zh" json:"zh"`
	EN string `yaml:"en" json:"en"`
}

// Words are the prompts' words by key.
type Words map[Key]Text

// Defaults returns the built-in words.
func Defaults() Words {
	return Words{
		Idle:        {ZH: "欢迎，请停车接受检查", EN: "Welcome: stop for the inspection"},
		WaitPlate:   {ZH: "正在识别车牌，请稍候", EN: "Reading the plate, please wait"},
		SwipeDriver: {ZH: "请刷身份证", EN: "Swipe your ID card"},
		SwipeEscort: {ZH: "押运员请刷身份证", EN: "Escort, swipe your ID card"},
		LookCamera:  {ZH: "请面向摄像机", EN: "Face the camera"},
		ScanWaybill: {ZH: "请扫描电子运单", EN: "Scan the waybill"},
		Checking:    {ZH: "正在核验，请稍候", EN: "Checking, please wait"},
		Pass:        {ZH: "检查通过，请通行", EN: "Checks passed, drive on"},
		Review:      {ZH: "请稍候，等待工作人员核验", EN: "Please wait for the operator"},
		Refused:     {ZH: "拒绝：{reason}，请靠边停车", EN: "Refused: {reason}, pull over"},
		Released:    {ZH: "工作人员已放行，请通行", EN: "Released by the operator, drive on"},
		Closed:      {ZH: "通道已关闭，请等待", EN: "The lane is closed, please wait"},
		Goodbye:     {ZH: "请通行，一路平安", EN: "Drive on, safe journey"},
		Evacuate:    {ZH: "紧急疏散，请按指示离开", EN: "Evacuation: leave as directed"},
		EntryClosed: {ZH: "紧急疏散，禁止驶入", EN: "Evacuation: no entry"},

		WaybillFound: {ZH: "电子运单已按车牌调取，无需扫码", EN: "Waybill found from the plate: no scan needed"},
	}
}

// Known reports whether k is a prompt.
func Known(k Key) bool { return slices.Contains(Keys, k) }

// WithDefaults returns w over the built-in words: a key w leaves out keeps
// its default.
func (w Words) WithDefaults() Words {
	out := Defaults()
	for k, t := range w {
		out[k] = t
	}
	return out
}

// OperatorRefused is the reason of a refusal when no check failed: the
// operator refused a vehicle held for review.
var OperatorRefused = Text{ZH: "工作人员未予放行", EN: "The operator refused entry"}

// Prompt is what to tell the driver now: the prompt and, for a refusal,
// the failed checks in plain words. Note, when not "", is said beside the
// prompt (WaybillFound).
type Prompt struct {
	Key     Key
	Reasons []Text
	Note    Key
}

// Of is the prompt for a lane's snapshot.
func Of(s lane.Snapshot) Prompt {
	switch {
	case s.Evacuation && s.Exit:
		// The evacuation wins over a lock-down on exit lanes (held open).
		if s.Phase == lane.PhaseEvacuating {
			return Prompt{Key: Evacuate}
		}
		return Prompt{Key: Closed}
	case s.Evacuation:
		return Prompt{Key: EntryClosed}
	case s.Lockdown:
		return Prompt{Key: Closed}
	case s.Phase == lane.PhaseIdle:
		return Prompt{Key: Idle}
	case s.Phase == lane.PhaseCollecting:
		return Prompt{Key: collecting(s), Note: waybillNote(s)}
	case s.Phase == lane.PhaseDeciding:
		return Prompt{Key: Checking, Note: waybillNote(s)}
	case s.Phase == lane.PhaseOpen:
		switch {
		case s.Exit:
			return Prompt{Key: Goodbye}
		case s.Decision != nil && s.Decision.Action == lane.ActionRelease:
			return Prompt{Key: Released}
		}
		return Prompt{Key: Pass}
	case s.Phase == lane.PhaseHeld:
		if s.Decision != nil && s.Decision.Action == lane.ActionRefuse {
			rs := Reasons(s.Outcome)
			if len(rs) == 0 {
				rs = []Text{OperatorRefused}
			}
			return Prompt{Key: Refused, Reasons: rs}
		}
		if s.Outcome != nil && s.Outcome.Verdict == checks.VerdictReject {
			return Prompt{Key: Refused, Reasons: Reasons(s.Outcome)}
		}
		return Prompt{Key: Review}
	}
	return Prompt{Key: Idle}
}

// collecting is the first thing the driver can do: the cards and the
// waybill before the plate, which the camera reads by itself.
func collecting(s lane.Snapshot) Key {
	for _, m := range []struct {
		missing string
		key     Key
	}{
		{lane.MissingDriverCard, SwipeDriver}, {lane.MissingDriverFace, LookCamera},
		{lane.MissingEscortCard, SwipeEscort}, {lane.MissingEscortFace, LookCamera},
		{lane.MissingWaybill, ScanWaybill}, {lane.MissingPlate, WaitPlate},
	} {
		if slices.Contains(s.Missing, m.missing) {
			return m.key
		}
	}
	return Checking
}

// waybillNote is WaybillFound while an entry lane holds the waybill found
// from the plate (checks.WaybillByPlate): the driver, who used to scan it,
// is told there is no need. A scan that named another waybill (it wins)
// ends the note.
func waybillNote(s lane.Snapshot) Key {
	if !s.Exit && s.Evidence.Waybill != "" && s.Evidence.WaybillSource == checks.WaybillByPlate {
		return WaybillFound
	}
	return ""
}

// detailShown are the reasons whose detail may be shown: a class, a UN
// number, a weight, a score. Any other detail (a blacklist's note, which
// may name a person) is left out.
var detailShown = map[string]bool{
	checks.ReasonClassNotPermitted: true, checks.ReasonMediumNotSuitable: true, checks.ReasonOverloaded: true,
}

// Reasons are the failed checks of out in plain words, without names or
// ID numbers: the reasons of each failed check, then the verdict's own.
func Reasons(out *checks.Outcome) []Text {
	if out == nil {
		return nil
	}
	var rs []checks.Reason
	for _, c := range out.Checks {
		if c.Result == checks.Fail {
			rs = append(rs, c.Reasons...)
		}
	}
	if len(rs) == 0 {
		rs = out.Reasons
	}
	var texts []Text
	for _, r := range rs {
		detail := ""
		if detailShown[r.Code] {
			detail = detailOf(r)
		}
		subject := r.Subject
		if !knownSubject[subject] {
			subject = "" // a UN number's reasons carry it in the detail
		}
		n := checks.NewReason(r.Code, subject, detail)
		t := Text{ZH: trimDetail(n.ZH), EN: trimDetail(n.EN)}
		if !slices.Contains(texts, t) {
			texts = append(texts, t)
		}
	}
	return texts
}

var knownSubject = map[string]bool{"tractor": true, "trailer": true, "vehicle": true, "tank": true, "driver": true, "escort": true, "waybill": true, "carrier": true}

// detailOf recovers a reason's detail from its English message: the part
// its template fills in. Only used for reasons whose detail is a class, a
// UN number or weights.
func detailOf(r checks.Reason) string {
	switch r.Code {
	case checks.ReasonClassNotPermitted:
		if i := strings.LastIndex(r.EN, "class "); i >= 0 {
			return r.EN[i+len("class "):]
		}
	case checks.ReasonMediumNotSuitable:
		if i := strings.Index(r.EN, " is not"); i >= 0 {
			return r.EN[:i]
		}
	case checks.ReasonOverloaded:
		if i, j := strings.LastIndex(r.EN, "("), strings.LastIndex(r.EN, ")"); i >= 0 && j > i {
			return r.EN[i+1 : j]
		}
	}
	return ""
}

// trimDetail drops what an empty detail leaves behind: "：", ": ", "（）".
func trimDetail(s string) string {
	s = strings.ReplaceAll(s, "（）", "")
	s = strings.ReplaceAll(s, " ()", "")
	s = strings.TrimSuffix(s, "：")
	s = strings.TrimSuffix(s, ": ")
	return strings.TrimSpace(s)
}

// Say is the words for p: the refusal's {reason} and {reasons} filled in.
// A key w does not hold says nothing.
func (w Words) Say(p Prompt) Text {
	t, ok := w[p.Key]
	if !ok {
		return Text{}
	}
	first, all := Text{ZH: "检查未通过", EN: "checks failed"}, Text{}
	if len(p.Reasons) > 0 {
		first = p.Reasons[0]
		zh, en := make([]string, len(p.Reasons)), make([]string, len(p.Reasons))
		for i, r := range p.Reasons {
			zh[i], en[i] = r.ZH, lowerFirst(r.EN)
		}
		all = Text{ZH: strings.Join(zh, "；"), EN: strings.Join(en, "; ")}
	} else {
		all = first
	}
	fill := func(s, one, many string) string {
		return strings.NewReplacer("{reason}", one, "{reasons}", many).Replace(s)
	}
	return Text{ZH: fill(t.ZH, first.ZH, all.ZH), EN: fill(t.EN, lowerFirst(first.EN), all.EN)}
}

// Note is the words of p's note (empty when it has none, or w does not
// hold it).
func (w Words) Note(p Prompt) Text {
	if p.Note == "" {
		return Text{}
	}
	return w[p.Note]
}

// lowerFirst lowers a sentence's first letter to go inside another
// ("The tank..." after "Refused: "), not a code's ("UN1203").
func lowerFirst(s string) string {
	if len(s) > 1 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'a' && s[1] <= 'z' {
		return strings.ToLower(s[:1]) + s[1:]
	}
	return s
}

// Validate returns what is wrong with w's entry for k ("" when nothing),
// for the configuration's error that names the field.
func (w Words) Validate(k Key) string {
	t := w[k]
	switch {
	case !Known(k):
		return fmt.Sprintf("%q is not a prompt (%s)", k, keyList())
	case strings.TrimSpace(t.ZH) == "":
		return "zh is empty: every prompt needs its Chinese words"
	case strings.TrimSpace(t.EN) == "":
		return "en is empty: every prompt needs its English words"
	}
	return ""
}

func keyList() string {
	s := make([]string, len(Keys))
	for i, k := range Keys {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}
