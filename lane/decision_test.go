package lane_test

import (
	"errors"
	"testing"

	"github.com/hazgate/hazgate/lane"
)

// An operator's decision closes the case: after a refusal no other
// decision is taken, and the lane's view shows who decided and why; a
// released vehicle held again opens under its recorded release, without a
// second record, while it stays on the arrival loop.
func TestStepOneDecision(t *testing.T) {
	recorded := lane.DecisionRecorded{InspectionID: "in-1-1", Action: lane.ActionRelease}
	refused := then(held, refuse)
	shows := func(action, reason string) func(*testing.T, lane.State) {
		return func(t *testing.T, s lane.State) {
			t.Helper()
			d := s.Snapshot().Decision
			if d == nil || d.Action != action || d.Operator != "王五" || d.Reason != reason {
				t.Fatalf("snapshot decision = %+v, want %s by 王五: %s", d, action, reason)
			}
		}
	}
	runCases(t, []stepCase{
		{name: "a refusal shows on the lane", setup: held, event: refuse, phase: lane.PhaseHeld,
			acts: `RecordDecision{"in-1-1" "王五" refuse "escort absent"}`, check: shows(lane.ActionRefuse, "escort absent")},
		{name: "a second refusal is not taken", setup: refused, event: refuse, phase: lane.PhaseHeld, acts: "",
			check: noteHas("already refused by 王五")},
		{name: "a release after a refusal is not taken", setup: refused, event: release, phase: lane.PhaseHeld, acts: "",
			check: noteHas("already refused by 王五")},
		{name: "the refusal stays shown after the vehicle left", setup: refused, event: lane.VehicleGone{}, phase: lane.PhaseIdle, acts: "",
			check: shows(lane.ActionRefuse, "escort absent")},
		{name: "a refusal that could not be recorded can be made again", setup: refused,
			event: lane.RecordFailed{What: lane.RecordWhatDecision, InspectionID: "in-1-1", Err: errors.New("disk")},
			phase: lane.PhaseHeld, acts: "RaiseAlarm{record_failed}",
			check: func(t *testing.T, s lane.State) {
				if s.Snapshot().Decision != nil {
					t.Fatalf("decision = %+v, want none", s.Snapshot().Decision)
				}
			}},
		{name: "a release being recorded is not shown as decided", setup: held, event: release, phase: lane.PhaseHeld,
			acts: `RecordDecision{"in-1-1" "王五" release "permit checked by phone"}`,
			check: func(t *testing.T, s lane.State) {
				if s.Snapshot().Decision != nil {
					t.Fatalf("decision = %+v while pending", s.Snapshot().Decision)
				}
			}},
		{name: "a recorded release shows", setup: releasing, event: recorded, phase: lane.PhaseOpen,
			acts: "OpenBarrier{release}; StartDeadline{3 1m0s}", check: shows(lane.ActionRelease, "permit checked by phone")},
		{name: "a refusal after a release is not taken", setup: then(releasing, recorded, lockOn), event: refuse, phase: lane.PhaseHeld,
			acts: "", check: noteHas("already released by 王五")},
		{name: "a released vehicle held by lock-down opens again after the lift", setup: then(releasing, recorded, lockOn, lockOff),
			event: release, phase: lane.PhaseOpen, acts: "OpenBarrier{release}; StartDeadline{5 1m0s}", check: noteHas("")},
		{name: "not after the arrival loop cleared", setup: then(releasing, recorded, lane.VehicleGone{}, lane.VehiclePresent{}, lockOn, lockOff),
			event: release, phase: lane.PhaseHeld, acts: "", check: noteHas("arrival loop cleared")},
		{name: "a new vehicle starts with no decision", setup: then(refused, lane.VehicleGone{}), event: lane.VehiclePresent{},
			phase: lane.PhaseCollecting, acts: "StartDeadline{3 2m0s}",
			check: func(t *testing.T, s lane.State) {
				if s.Snapshot().Decision != nil {
					t.Fatalf("decision = %+v for a new vehicle", s.Snapshot().Decision)
				}
			}},
	})
}
