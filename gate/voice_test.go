package gate

import (
	"slices"
	"strings"
	"testing"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/device/voice"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/prompt"
)

// said is a Speaker that keeps what it was told.
type said []string

func (s *said) Say(text string) { *s = append(*s, text) }

func TestSpeechFollowsThePrompts(t *testing.T) {
	var sp said
	s := &speech{sp: &sp, words: prompt.Defaults(), enc: voice.GBK}
	long := strings.Repeat("很长的原因", 30)
	reject := &checks.Outcome{Verdict: checks.VerdictReject, Checks: []checks.CheckResult{{ID: checks.InspectionValidity, Result: checks.Fail,
		Reasons: []checks.Reason{checks.NewReason(checks.ReasonInspectionExpired, "tank", "")}}}}
	tooLong := &checks.Outcome{Verdict: checks.VerdictReject, Checks: []checks.CheckResult{{ID: checks.ParkRules, Result: checks.Fail,
		Reasons: []checks.Reason{{Code: long, ZH: long, EN: long}}}}}
	for _, snap := range []lane.Snapshot{
		{Phase: lane.PhaseIdle},
		{Phase: lane.PhaseCollecting, Missing: []string{"plate", "driver_card", "driver_face", "escort_card", "escort_face", "waybill"}},
		{Phase: lane.PhaseCollecting, Missing: []string{"driver_card", "driver_face", "escort_card", "escort_face", "waybill"}}, // the plate came: same prompt
		{Phase: lane.PhaseCollecting, Missing: []string{"escort_card", "escort_face", "waybill"}, ArrivalOccupied: true},
		{Phase: lane.PhaseDeciding},
		{Phase: lane.PhaseHeld, Outcome: reject},
		{Phase: lane.PhaseHeld, Outcome: reject, BarrierReported: lane.BarrierClosed}, // nothing new to say
		{Phase: lane.PhaseIdle},
		{Phase: lane.PhaseCollecting, Missing: []string{"driver_card"}}, // the next vehicle hears it again
		{Phase: lane.PhaseHeld, Outcome: tooLong},
	} {
		s.changed(snap)
	}
	want := []string{"请刷身份证", "押运员请刷身份证", "正在核验，请稍候", "拒绝：罐体检验已过有效期，请靠边停车", "请刷身份证", "拒绝：检查未通过，请靠边停车"}
	if !slices.Equal(sp, want) {
		t.Fatalf("said %q\nwant %q", sp, want)
	}
}
