package lane_test

import (
	"errors"
	"testing"
	"time"

	"github.com/hazgate/hazgate/lane"
)

var (
	evacOn  = lane.Evacuation{On: true}
	evacOff = lane.Evacuation{On: false}
)

func isEvacuating(want bool) func(*testing.T, lane.State) {
	return func(t *testing.T, s lane.State) {
		t.Helper()
		if s.Evacuation != want || s.Snapshot().Evacuation != want {
			t.Fatalf("evacuation = %t (snapshot %t), want %t", s.Evacuation, s.Snapshot().Evacuation, want)
		}
	}
}

// TestStepEvacuationExitLane: the evacuation holds an exit lane open, with
// no deadline and no closing behind vehicles, records each crossing, and
// wins over a lock-down; when it ends the lane closes once the safety loop
// is clear.
func TestStepEvacuationExitLane(t *testing.T) {
	runCases(t, []stepCase{
		{name: "idle exit lane opens", exit: true, event: evacOn, phase: lane.PhaseEvacuating,
			acts: "OpenBarrier{evacuate}", check: func(t *testing.T, s lane.State) {
				isEvacuating(true)(t, s)
				if s.Commanded != lane.CommandUp || !s.DeadlineAt.IsZero() || s.NoteCode != lane.NoteEvacuating {
					t.Fatalf("commanded %s, deadline %v, note %s", s.Commanded, s.DeadlineAt, s.NoteCode)
				}
			}},
		{name: "a vehicle collecting: the deadline stops", exit: true, setup: exitCollecting, event: evacOn,
			phase: lane.PhaseEvacuating, acts: "CancelDeadline; OpenBarrier{evacuate}"},
		{name: "a held exit opens", exit: true, setup: exitHeld, event: evacOn, phase: lane.PhaseEvacuating,
			acts: "OpenBarrier{evacuate}"},
		{name: "in lock-down, the evacuation wins", exit: true, setup: then(exitDeciding, lockOn, lane.ExitRecorded{}), event: evacOn,
			phase: lane.PhaseEvacuating, acts: "OpenBarrier{evacuate}"},
		{name: "lock-down while evacuating closes nothing", exit: true, setup: []lane.Event{evacOn}, event: lockOn,
			phase: lane.PhaseEvacuating, acts: ""},
		{name: "an arrival starts no inspection", exit: true, setup: []lane.Event{evacOn}, event: lane.VehiclePresent{},
			phase: lane.PhaseEvacuating, acts: ""},
		{name: "a plate read records no exit", exit: true, setup: []lane.Event{evacOn, lane.VehiclePresent{}}, event: plate,
			phase: lane.PhaseEvacuating, acts: ""},
		{name: "the safety loop occupied is no forced barrier", exit: true, setup: []lane.Event{evacOn}, event: occ,
			phase: lane.PhaseEvacuating, acts: ""},
		{name: "a crossing is recorded, the barrier stays up", exit: true, setup: []lane.Event{evacOn, occ}, event: clear,
			phase: lane.PhaseEvacuating, acts: `RecordPassage{"" out}`, check: isEvacuating(true)},
		{name: "a vehicle let out keeps its entry for the passage", exit: true, setup: then(exitOpen, evacOn, occ), event: clear,
			phase: lane.PhaseEvacuating, acts: `RecordPassage{"in-1-7" out}`},
		{name: "an exit answered after the start opens nothing more", exit: true, setup: then(exitDeciding, evacOn),
			event: lane.ExitRecorded{EntryID: "in-1-7"}, phase: lane.PhaseEvacuating, acts: ""},
		{name: "a stale deadline does nothing", exit: true, setup: then(exitCollecting, evacOn), event: lane.DeadlinePassed{Gen: 1},
			phase: lane.PhaseEvacuating, acts: ""},
		{name: "a release has nothing to release", exit: true, setup: []lane.Event{evacOn, lane.VehiclePresent{}}, event: release,
			phase: lane.PhaseEvacuating, acts: ""},
		{name: "a failed open alarms", exit: true, setup: []lane.Event{evacOn},
			event: lane.BarrierFailed{Command: lane.CommandUp, Err: errors.New("relay")},
			phase: lane.PhaseEvacuating, acts: "RaiseAlarm{barrier_command_failed}"},
		{name: "the end closes a clear lane", exit: true, setup: []lane.Event{evacOn, occ, clear}, event: evacOff,
			phase: lane.PhaseIdle, acts: "CloseBarrier", check: isEvacuating(false)},
		{name: "the end waits for a vehicle under the barrier", exit: true, setup: []lane.Event{evacOn, occ}, event: evacOff,
			phase: lane.PhaseOpen, acts: ""},
		{name: "which is then recorded and closed behind", exit: true, setup: []lane.Event{evacOn, occ, evacOff}, event: clear,
			phase: lane.PhaseIdle, acts: `CloseBarrier; RecordPassage{"" out}`},
		{name: "the end inspects a vehicle waiting", exit: true, setup: []lane.Event{evacOn, lane.VehiclePresent{}}, event: evacOff,
			phase: lane.PhaseCollecting, acts: "CloseBarrier; StartDeadline{1 2m0s}"},
		{name: "the end in lock-down closes, and the exit is then held", exit: true, setup: []lane.Event{lockOn, evacOn}, event: evacOff,
			phase: lane.PhaseIdle, acts: "CloseBarrier"},
		{name: "starting twice does nothing", exit: true, setup: []lane.Event{evacOn}, event: evacOn, phase: lane.PhaseEvacuating, acts: ""},
		{name: "ending when not on does nothing", exit: true, event: evacOff, phase: lane.PhaseIdle, acts: ""},
	})
}

// TestStepEvacuationEntryLane: an entry lane is closed during the
// evacuation, as in a lock-down: no pass opens it, no release either.
func TestStepEvacuationEntryLane(t *testing.T) {
	runCases(t, []stepCase{
		{name: "idle entry lane stays closed", event: evacOn, phase: lane.PhaseIdle, acts: "", check: isEvacuating(true)},
		{name: "closes in front of a vehicle not yet under the barrier", setup: opened, event: evacOn,
			phase: lane.PhaseHeld, acts: "CancelDeadline; CloseBarrier", check: noteHas("evacuation")},
		{name: "lets a vehicle under the barrier through", setup: crossing, event: evacOn, phase: lane.PhaseOpen, acts: ""},
		{name: "a pass is held", setup: then(deciding, evacOn), event: pass, phase: lane.PhaseHeld, acts: "",
			check: func(t *testing.T, s lane.State) {
				if s.NoteCode != lane.NotePassHeldEvacuation {
					t.Fatalf("note = %s", s.NoteCode)
				}
			}},
		{name: "a release is refused", setup: then(held, evacOn), event: release, phase: lane.PhaseHeld, acts: "",
			check: func(t *testing.T, s lane.State) {
				if s.NoteCode != lane.NoteReleaseRefused || s.NoteArgs["why"] != lane.WhyEvacuation {
					t.Fatalf("note = %s %v", s.NoteCode, s.NoteArgs)
				}
			}},
		{name: "lifting a lock-down during it opens nothing", setup: then(held, lockOn, evacOn, lockOff), event: release,
			phase: lane.PhaseHeld, acts: ""},
		{name: "the end opens nothing by itself", setup: then(deciding, evacOn, pass), event: evacOff, phase: lane.PhaseHeld, acts: "",
			check: isEvacuating(false)},
		{name: "after the end a release is taken", setup: then(held, evacOn, evacOff), event: release, phase: lane.PhaseHeld,
			acts: `RecordDecision{"in-1-1" "王五" release "permit checked by phone"}`},
	})
}

// TestStepEvacuationHoldsOpenForHours: no timer closes the exit lane.
func TestStepEvacuationHoldsOpenForHours(t *testing.T) {
	s, _ := play(t, exitCfg, lane.VehiclePresent{}, evacOn)
	for i := range 10 {
		var acts []lane.Action
		s, acts = step(t, s, lane.DeadlinePassed{Gen: s.Gen}, t0.Add(time.Duration(i+1)*time.Hour))
		if len(acts) != 0 || s.Phase != lane.PhaseEvacuating || s.Commanded != lane.CommandUp {
			t.Fatalf("after %d h: phase %s, barrier %s, actions %s", i+1, s.Phase, s.Commanded, describe(acts))
		}
	}
}
