package lane

import (
	"strconv"
	"strings"
)

// A lane note travels as a stable code with its arguments (State.NoteCode,
// NoteArgs), for screens to put in their own words; Note is its English,
// for logs and the uplink's status.
const (
	NoteVehicleLeft           = "vehicle_left"            // left before the decision
	NoteHeldVehicleLeft       = "held_vehicle_left"       // a held vehicle left
	NoteNoPlate               = "no_plate"                // no plate read by the deadline
	NotePlateUnconfirmed      = "plate_unconfirmed"       // the plate read not confirmed by the deadline
	NoteNotCrossed            = "not_crossed"             // the barrier closed again: nothing crossed in time
	NotePassHeldLockdown      = "pass_held_lockdown"      // a pass held by the lock-down
	NoteVerdictHeld           = "verdict_held"            // {verdict}: waiting for the operator
	NoteInspectionNotRecorded = "inspection_not_recorded" // the barrier stays closed
	NoteLeftBeforeRecord      = "left_before_record"      // left before the record was committed
	NoteExitHeldLockdown      = "exit_held_lockdown"      // an exit held by the lock-down
	NoteExitNotRecorded       = "exit_not_recorded"       // the barrier stays closed
	NoteReleaseNotRecorded    = "release_not_recorded"    // the barrier stays closed
	NoteRefusalNotRecorded    = "refusal_not_recorded"    // the vehicle is still held
	NoteReleaseRefused        = "release_refused"         // {why} (a Why* code), {operator} when it names one
	NoteRefusalNotTaken       = "refusal_not_taken"       // {why}, {operator}
	NoteReopened              = "reopened"                // opened again under {operator}'s release
	NoteReleaseRecording      = "release_recording"       // {operator}'s release being recorded
	NoteRefused               = "refused"                 // by {operator}: {reason}
	NoteReleaseNotCarriedOut  = "release_not_carried_out" // recorded, but the lane is in lock-down
	NoteLockdownClosed        = "lockdown_closed"         // the barrier closed before the vehicle crossed
	NoteBarrierFailed         = "barrier_failed"          // the barrier failed to open
	NoteThirdCard             = "third_card"              // a third ID card was ignored
	NoteSecondCard            = "second_card"             // a second {role} card was ignored
	NoteUnknownRoleCard       = "unknown_role_card"       // a card with an unknown {role} was ignored
	NoteEvacuating            = "evacuating"              // exit lane: the barrier is held open
	NotePassHeldEvacuation    = "pass_held_evacuation"    // a pass held: the gate is evacuating
	NoteEvacuationClosed      = "evacuation_closed"       // entry lane: the barrier closed before the vehicle crossed
)

// Why codes: why an operator's decision was not taken (the {why} of
// NoteReleaseRefused and NoteRefusalNotTaken).
const (
	WhyNoVehicleHeld      = "no_vehicle_held"
	WhyNoInspection       = "no_inspection"
	WhyInspectionNotHeld  = "inspection_not_held"
	WhyOperatorRequired   = "operator_required"
	WhyReasonRequired     = "reason_required"
	WhyReleasePending     = "release_pending"
	WhyLockdown           = "lockdown"
	WhyEvacuation         = "evacuation"
	WhyAlreadyRefused     = "already_refused"      // by {operator}
	WhyAlreadyReleased    = "already_released"     // by {operator}
	WhyReleasedLoopClosed = "released_loop_closed" // by {operator}, and the arrival loop cleared since
)

var whyEN = map[string]string{
	WhyNoVehicleHeld:      "no vehicle is held",
	WhyNoInspection:       "no recorded inspection to decide on",
	WhyInspectionNotHeld:  "that inspection is no longer held",
	WhyOperatorRequired:   "an operator must be named",
	WhyReasonRequired:     "a reason is required",
	WhyReleasePending:     "a release is already being recorded",
	WhyLockdown:           "the lane is in lock-down",
	WhyEvacuation:         "the gate is evacuating: entry lanes stay closed",
	WhyAlreadyRefused:     "already refused by {operator}",
	WhyAlreadyReleased:    "already released by {operator}",
	WhyReleasedLoopClosed: "already released by {operator}, and the arrival loop cleared since",
}

var noteEN = map[string]string{
	NoteVehicleLeft:           "vehicle left before the decision",
	NoteHeldVehicleLeft:       "held vehicle left",
	NoteNoPlate:               "no plate read by the deadline",
	NotePlateUnconfirmed:      "plate read not confirmed by the deadline",
	NoteNotCrossed:            "barrier closed again: the vehicle did not cross in time",
	NotePassHeldLockdown:      "pass held: the lane is in lock-down",
	NoteVerdictHeld:           "verdict {verdict}: waiting for the operator",
	NoteInspectionNotRecorded: "the inspection could not be recorded: the barrier stays closed",
	NoteLeftBeforeRecord:      "vehicle left before the record was committed",
	NoteExitHeldLockdown:      "exit held: the lane is in lock-down",
	NoteExitNotRecorded:       "the exit could not be recorded: the barrier stays closed",
	NoteReleaseNotRecorded:    "the release could not be recorded: the barrier stays closed",
	NoteRefusalNotRecorded:    "the refusal could not be recorded: the vehicle is still held",
	NoteReleaseRefused:        "release refused: {why}",
	NoteRefusalNotTaken:       "refusal not taken: {why}",
	NoteReopened:              "opened again under the release by {operator}",
	NoteReleaseRecording:      "release by {operator} being recorded",
	NoteRefused:               "refused by {operator}: {reason}",
	NoteReleaseNotCarriedOut:  "release recorded but not carried out: the lane is in lock-down",
	NoteLockdownClosed:        "lock-down: the barrier closed before the vehicle crossed",
	NoteBarrierFailed:         "the barrier failed to open",
	NoteThirdCard:             "a third ID card was ignored",
	NoteSecondCard:            "a second {role} card was ignored",
	NoteUnknownRoleCard:       "a card with unknown role {quoted_role} was ignored",
	NoteEvacuating:            "evacuation: the barrier is held open",
	NotePassHeldEvacuation:    "pass held: the gate is evacuating, entry lanes stay closed",
	NoteEvacuationClosed:      "evacuation: the barrier closed before the vehicle crossed",
}

// NoteText is a note's English: its code's sentence with the arguments
// put in ({why} is itself a Why code).
func NoteText(code string, args map[string]string) string {
	s, ok := noteEN[code]
	if !ok {
		return code
	}
	r := []string{}
	for k, v := range args {
		if k == "why" {
			v = fill(whyEN[v], args)
		}
		r = append(r, "{"+k+"}", v)
	}
	if role, ok := args["role"]; ok {
		r = append(r, "{quoted_role}", strconv.Quote(role))
	}
	return strings.NewReplacer(r...).Replace(s)
}

func fill(s string, args map[string]string) string {
	r := []string{}
	for k, v := range args {
		if k != "why" {
			r = append(r, "{"+k+"}", v)
		}
	}
	return strings.NewReplacer(r...).Replace(s)
}

// note sets the lane's note: a code with arguments as key, value pairs
// (code "" clears it).
func (m *machine) note(code string, kv ...string) {
	if code == "" {
		m.s.Note, m.s.NoteCode, m.s.NoteArgs = "", "", nil
		return
	}
	var args map[string]string
	if len(kv) > 0 {
		args = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			args[kv[i]] = kv[i+1]
		}
	}
	m.s.NoteCode, m.s.NoteArgs = code, args
	m.s.Note = NoteText(code, args)
}
