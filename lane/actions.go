package lane

import (
	"fmt"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/registry"
)

// Action is something Step asks the runner to do. The runner executes a step's
// actions in order; those that answer (Decide, RecordDecision, RecordExit,
// and any barrier command or record that fails) are answered with an event that
// is handled before anything else.
type Action interface {
	isAction()
	// String names the action for logs and test traces.
	String() string
}

// StartDeadline (re)starts the lane's single timer: DeadlinePassed{Gen} after
// After. A newer StartDeadline replaces an older one.
type StartDeadline struct {
	Gen   int
	After time.Duration
}

// CancelDeadline stops the lane's timer.
type CancelDeadline struct{}

// MatchFace asks the face-match service to score the live face of the person
// who presented this card; the answer comes back as FaceScored.
type MatchFace struct {
	Role   registry.Role
	Person checks.PersonEvidence
}

// Decide runs the checks on the evidence and commits the inspection's record;
// the runner answers with Decided or DecideFailed.
type Decide struct {
	Evidence checks.Evidence
}

// Why the barrier is opened.
const (
	WhyPass    = "pass"
	WhyRelease = "release"
	WhyExit    = "exit"
	// WhyEvacuate: an exit lane held open by the gate's evacuation.
	WhyEvacuate = "evacuate"
)

// OpenBarrier commands the barrier up. Step issues it only after a committed
// pass verdict, a committed operator release, or a committed exit for the
// vehicle at the lane, and never in lock-down; or, on an exit lane only,
// when the gate's evacuation starts (WhyEvacuate), which wins over a
// lock-down.
type OpenBarrier struct {
	Why string
}

// CloseBarrier commands the barrier down. Step never issues it while it knows
// the safety loop is occupied.
type CloseBarrier struct{}

// Direction is a lane's direction, and so that of its passages and
// inspections: "in" (an entry lane, with the checks) or "out" (an exit
// lane). The configuration, the records and the status carry these words.
type Direction string

// The directions.
const (
	DirectionIn  Direction = "in"
	DirectionOut Direction = "out"
)

// RecordPassage records that the vehicle crossed the barrier. InspectionID is
// the inspection (entry lanes) or the linked entry (exit lanes, empty when
// none was found).
type RecordPassage struct {
	InspectionID string
	Direction    Direction
}

// Operator decision actions.
const (
	ActionRelease = "release"
	ActionRefuse  = "refuse"
)

// RecordDecision records an operator's decision on a held inspection
// (InspectionID is empty on an exit lane). The runner answers with
// DecisionRecorded or RecordFailed.
type RecordDecision struct {
	InspectionID string
	Operator     string
	Action       string
	Reason       string
}

// RecordExit records a vehicle leaving through an exit lane; the runner
// answers with ExitRecorded or RecordFailed.
type RecordExit struct {
	Plate string
}

// Alarm kinds raised by the lane.
const (
	AlarmBarrierForced  = "barrier_forced"         // safety loop occupied with the barrier not opened for a vehicle
	AlarmBarrierFault   = "barrier_fault"          // feedback reports fault or unknown
	AlarmBarrierCommand = "barrier_command_failed" // Open or Close returned an error
	AlarmDecideFailed   = "decide_failed"          // the inspection could not be recorded
	AlarmRecordFailed   = "record_failed"          // a decision, passage or exit could not be recorded
	AlarmRejection      = "rejection"              // the verdict is reject (committed with the inspection by the Decider)
	AlarmOperatorOpen   = "operator_override"      // an operator's decision (committed with it by the Recorder)
	AlarmNoPassage      = "no_passage"             // the barrier was opened and nothing crossed it in time
)

// RaiseAlarm records and publishes an alarm.
type RaiseAlarm struct {
	Kind   string
	Detail string
}

func (StartDeadline) isAction()  {}
func (CancelDeadline) isAction() {}
func (MatchFace) isAction()      {}
func (Decide) isAction()         {}
func (OpenBarrier) isAction()    {}
func (CloseBarrier) isAction()   {}
func (RecordPassage) isAction()  {}
func (RecordDecision) isAction() {}
func (RecordExit) isAction()     {}
func (RaiseAlarm) isAction()     {}

func (a StartDeadline) String() string { return fmt.Sprintf("StartDeadline{%d %v}", a.Gen, a.After) }
func (CancelDeadline) String() string  { return "CancelDeadline" }
func (a MatchFace) String() string     { return fmt.Sprintf("MatchFace{%s %q}", a.Role, a.Person.IDNumber) }
func (a Decide) String() string {
	return fmt.Sprintf("Decide{plate=%q deadline=%t}", a.Evidence.Plate, a.Evidence.DeadlineExceeded)
}
func (a OpenBarrier) String() string { return fmt.Sprintf("OpenBarrier{%s}", a.Why) }
func (CloseBarrier) String() string  { return "CloseBarrier" }
func (a RecordPassage) String() string {
	return fmt.Sprintf("RecordPassage{%q %s}", a.InspectionID, a.Direction)
}
func (a RecordDecision) String() string {
	return fmt.Sprintf("RecordDecision{%q %q %s %q}", a.InspectionID, a.Operator, a.Action, a.Reason)
}
func (a RecordExit) String() string { return fmt.Sprintf("RecordExit{%q}", a.Plate) }
func (a RaiseAlarm) String() string { return fmt.Sprintf("RaiseAlarm{%s: %s}", a.Kind, a.Detail) }
