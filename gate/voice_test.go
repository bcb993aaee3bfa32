package gate

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/config"
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

// The waybill found from the plate is said once for the vehicle, after the
// prompt it came with; the next vehicle hears it again (issue 16).
func TestSpeechSaysTheWaybillFoundOnce(t *testing.T) {
	var sp said
	s := &speech{sp: &sp, words: prompt.Defaults(), enc: voice.GBK}
	byPlate := checks.Evidence{Plate: "浙B12345", Waybill: "YD3302002603150009", WaybillSource: checks.WaybillByPlate, WaybillByPlate: "YD3302002603150009"}
	scanned := checks.Evidence{Plate: "浙B12345", Waybill: "YD3302002603150010", WaybillSource: checks.WaybillScanned, WaybillByPlate: "YD3302002603150009"}
	vehicle := []lane.Snapshot{
		{Phase: lane.PhaseCollecting, Missing: []string{"plate", "driver_card", "driver_face", "escort_card", "escort_face", "waybill"}},
		{Phase: lane.PhaseCollecting, Missing: []string{"driver_card", "driver_face", "escort_card", "escort_face"}, Evidence: byPlate},
		{Phase: lane.PhaseCollecting, Missing: []string{"escort_card", "escort_face"}, Evidence: byPlate},
		{Phase: lane.PhaseDeciding, Evidence: byPlate},
		{Phase: lane.PhaseIdle},
	}
	for _, snap := range append(vehicle, vehicle...) {
		s.changed(snap)
	}
	// A scan of another waybill overrides it before the plate's note:
	// nothing to say about the plate's.
	s.changed(lane.Snapshot{Phase: lane.PhaseCollecting, Missing: []string{"driver_card"}, Evidence: scanned})
	once := []string{"请刷身份证", "电子运单已按车牌调取，无需扫码", "押运员请刷身份证", "正在核验，请稍候"}
	want := append(append(slices.Clone(once), once...), "请刷身份证")
	if !slices.Equal(sp, want) {
		t.Fatalf("said %q\nwant %q", sp, want)
	}
}

// The voice board's and the display's health go through the same fault
// window and alarms as every device, with their own words; a lane without
// a display has no display device.
func TestDriverFacingHealth(t *testing.T) {
	g, l := vehicleAtIn1(t)
	clk := g.clk.(*clock.Fake)
	l.Voice(voice.Event{Kind: voice.EventFault, Err: fmt.Errorf("%w: open: no such file", voice.ErrUnplugged)})
	l.DisplayScreens(0) // no display configured: nothing
	clk.Advance(DefaultFaultWindow)
	if s := sync1(t, l); !slices.Equal(s.Faults, []string{"in-1/voice"}) {
		t.Fatalf("faults %v, want in-1/voice", s.Faults)
	}
	l.Config.Display = &config.Display{}
	l.DisplayScreens(0)
	clk.Advance(DefaultFaultWindow)
	if s := sync1(t, l); !slices.Equal(s.Faults, []string{"in-1/display", "in-1/voice"}) {
		t.Fatalf("faults %v, want the display and the voice board", s.Faults)
	}
	evs := alarmEvents(t, g.Store)
	if len(evs) != 2 || evs[0].Text == nil || evs[0].Text.EN != "Voice board in-1/voice is unplugged or cannot be opened" ||
		evs[1].Text == nil || evs[1].Text.ZH != "室外显示屏 in-1/display 无屏幕连接" {
		t.Fatalf("alarms %s", describeAlarms(evs))
	}
	l.DisplayScreens(1)
	l.Voice(voice.Event{Kind: voice.EventRecovered})
	if s := sync1(t, l); len(s.Faults) != 0 {
		t.Fatalf("faults %v after both came back", s.Faults)
	}
}
