package prompt_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/prompt"
)

func TestOf(t *testing.T) {
	reject := &checks.Outcome{Verdict: checks.VerdictReject, Checks: []checks.CheckResult{
		{ID: checks.InspectionValidity, Result: checks.Fail, Reasons: []checks.Reason{checks.NewReason(checks.ReasonInspectionExpired, "tank", "")}},
		{ID: checks.ParkRules, Result: checks.Fail, Reasons: []checks.Reason{checks.NewReason(checks.ReasonBlacklisted, "driver", "张三 110105194912310029")}},
		{ID: checks.Identity, Result: checks.Unknown, Reasons: []checks.Reason{checks.NewReason(checks.ReasonFaceUnavailable, "driver", "")}},
	}}
	review := &checks.Outcome{Verdict: checks.VerdictReview}
	for _, tc := range []struct {
		name string
		snap lane.Snapshot
		want prompt.Key
	}{
		{"no vehicle", lane.Snapshot{Phase: lane.PhaseIdle}, prompt.Idle},
		{"a refusal left shown after the vehicle went", lane.Snapshot{Phase: lane.PhaseIdle, Decision: &lane.Decision{Action: lane.ActionRefuse}}, prompt.Idle},
		{"everything missing", lane.Snapshot{Phase: lane.PhaseCollecting, Missing: []string{"plate", "driver_card", "driver_face", "escort_card", "escort_face", "waybill"}}, prompt.SwipeDriver},
		{"driver's face", lane.Snapshot{Phase: lane.PhaseCollecting, Missing: []string{"driver_face", "escort_card", "escort_face", "waybill"}}, prompt.LookCamera},
		{"escort", lane.Snapshot{Phase: lane.PhaseCollecting, Missing: []string{"plate", "escort_card", "escort_face", "waybill"}}, prompt.SwipeEscort},
		{"waybill", lane.Snapshot{Phase: lane.PhaseCollecting, Missing: []string{"plate", "waybill"}}, prompt.ScanWaybill},
		{"plate only", lane.Snapshot{Phase: lane.PhaseCollecting, Missing: []string{"plate"}}, prompt.WaitPlate},
		{"deciding", lane.Snapshot{Phase: lane.PhaseDeciding}, prompt.Checking},
		{"pass", lane.Snapshot{Phase: lane.PhaseOpen}, prompt.Pass},
		{"exit", lane.Snapshot{Phase: lane.PhaseOpen, Exit: true}, prompt.Goodbye},
		{"released", lane.Snapshot{Phase: lane.PhaseOpen, Decision: &lane.Decision{Action: lane.ActionRelease}}, prompt.Released},
		{"review", lane.Snapshot{Phase: lane.PhaseHeld, Outcome: review}, prompt.Review},
		{"review refused", lane.Snapshot{Phase: lane.PhaseHeld, Outcome: review, Decision: &lane.Decision{Action: lane.ActionRefuse}}, prompt.Refused},
		{"reject", lane.Snapshot{Phase: lane.PhaseHeld, Outcome: reject}, prompt.Refused},
		{"lock-down", lane.Snapshot{Phase: lane.PhaseCollecting, Lockdown: true}, prompt.Closed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := prompt.Of(tc.snap).Key; got != tc.want {
				t.Fatalf("Of = %s, want %s", got, tc.want)
			}
		})
	}

	p := prompt.Of(lane.Snapshot{Phase: lane.PhaseHeld, Outcome: reject})
	want := []prompt.Text{{ZH: "罐体检验已过有效期", EN: "The tank's inspection validity has expired"}, {ZH: "驾驶员在黑名单中", EN: "The driver is blacklisted"}}
	if !reflect.DeepEqual(p.Reasons, want) {
		t.Fatalf("reasons = %q, want %q (the failed checks only, the blacklist's note left out)", p.Reasons, want)
	}
	if p := prompt.Of(lane.Snapshot{Phase: lane.PhaseHeld, Outcome: review, Decision: &lane.Decision{Action: lane.ActionRefuse}}); len(p.Reasons) != 1 || p.Reasons[0] != prompt.OperatorRefused {
		t.Fatalf("a review refused: reasons %q", p.Reasons)
	}
	said := prompt.Defaults().Say(p)
	if said.ZH != "拒绝：罐体检验已过有效期，请靠边停车" || said.EN != "Refused: the tank's inspection validity has expired, pull over" {
		t.Fatalf("said %q", said)
	}
	if strings.Contains(said.ZH+said.EN, "1101") || strings.Contains(said.ZH, "张三") {
		t.Fatalf("a name or ID number in %q", said)
	}
}

func TestReasonsKeepSafeDetail(t *testing.T) {
	out := &checks.Outcome{Verdict: checks.VerdictReject, Checks: []checks.CheckResult{
		{ID: checks.TankMedia, Result: checks.Fail, Reasons: []checks.Reason{checks.NewReason(checks.ReasonMediumNotSuitable, "UN1203", "UN1203")}},
		{ID: checks.WaybillConsistency, Result: checks.Fail, Reasons: []checks.Reason{checks.NewReason(checks.ReasonOverloaded, "waybill", "31000 kg > 30000 kg")}},
	}}
	got := prompt.Reasons(out)
	want := []prompt.Text{
		{ZH: "UN1203不在罐体适装介质列表中", EN: "UN1203 is not in the tank's list of suitable media"},
		{ZH: "运单货物总量超过核定载质量（31000 kg > 30000 kg）", EN: "The waybill's goods exceed the rated load (31000 kg > 30000 kg)"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if s := prompt.Defaults().Say(prompt.Prompt{Key: prompt.Refused}); s.ZH != "拒绝：检查未通过，请靠边停车" {
		t.Fatalf("a refusal without reasons says %q", s.ZH)
	}
}

func TestValidate(t *testing.T) {
	w := prompt.Words{prompt.Pass: {ZH: " ", EN: "x"}, "bogus": {ZH: "a", EN: "b"}}.WithDefaults()
	if msg := w.Validate(prompt.Pass); !strings.Contains(msg, "zh is empty") {
		t.Fatalf("Validate(pass) = %q", msg)
	}
	if msg := w.Validate("bogus"); !strings.Contains(msg, "not a prompt") {
		t.Fatalf("Validate(bogus) = %q", msg)
	}
	if msg := w.Validate(prompt.Idle); msg != "" {
		t.Fatalf("a default fails: %q", msg)
	}
}
