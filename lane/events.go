package lane

import (
	"fmt"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/registry"
)

// Event is something that happened at the lane: a device reading, an
// operator's command, a timer, or the answer to an action. Each event is a
// small struct; Step switches on its type.
type Event interface {
	isEvent()
	// String names the event for logs and test traces.
	String() string
}

// VehiclePresent reports that the arrival loop (before the barrier) is
// occupied. In an idle lane it starts an inspection.
type VehiclePresent struct{}

// VehicleGone reports that the arrival loop has cleared. A vehicle that leaves
// before its verdict, or while held, ends its inspection (the barrier stays
// closed).
type VehicleGone struct{}

// SafetyLoop reports the loop under the barrier. The barrier is never
// commanded down while it is occupied; occupied then clear after the barrier
// was opened is the vehicle's passage.
type SafetyLoop struct {
	Occupied bool
}

// PlateRead is a plate camera's read (or a plate typed by the operator, who
// should send Confidence 1). A read below Config.MinPlateConfidence is kept but
// counts as unconfirmed: the lane waits for a better read until its deadline.
type PlateRead struct {
	Plate      string
	Trailer    string
	Confidence float64
	// Color is the plate's colour (registry.PlateColors), "" when the
	// camera does not say; Placard whether it saw the danger mark, nil
	// when it does not say; Pictures its plate and scene pictures (nil:
	// none). A read of the same plate without them keeps the earlier
	// read's.
	Color    string
	Placard  *bool
	Pictures *checks.PlatePictures
	// Exempt is the kind of emergency vehicle the registry marks the plate
	// as (registry.EmergencyKinds), "" for any other: an entry lane then
	// needs nothing but the plate (checks/exempt.go).
	Exempt string
	// WaybillByPlate is the one waybill valid now that the registry has
	// naming this plate (and the trailer read), "" when it has none or
	// several (registry.Index.WaybillsByPlate, looked up where the gate
	// delivers the read): an entry lane takes it as the waybill, and no
	// scan is needed (lane/plate.go).
	WaybillByPlate string
}

// CardRead is an ID card presented at the reader. Role is
// registry.RoleDriver, registry.RoleEscort, or "" meaning the first distinct
// card is the driver's and the second the escort's. The same card again is
// ignored.
type CardRead struct {
	Person checks.PersonEvidence
	Role   registry.Role
}

// FaceScored is the face-match service's answer for the person with this ID
// number; a nil Score means no score (service down, timed out, no face).
type FaceScored struct {
	IDNumber string
	Score    *float64
}

// WaybillScanned is a waybill number from the scanner.
type WaybillScanned struct {
	Number string
}

// DeadlinePassed is the lane's timer firing. Gen identifies the StartDeadline
// it belongs to; a stale generation is ignored.
type DeadlinePassed struct {
	Gen int
}

// Decided answers Decide: the inspection's record, with this outcome, is
// committed.
type Decided struct {
	InspectionID string
	Outcome      checks.Outcome
}

// DecideFailed answers Decide: the record could not be committed, so the
// barrier stays closed.
type DecideFailed struct {
	Err error
}

// OperatorRelease is an operator opening the barrier for a held vehicle. It
// needs an operator and a reason, is recorded before the barrier opens, and is
// refused in lock-down. InspectionID, when set, must be the held inspection's:
// the kiosk sends the one the operator is looking at, so a click never
// releases a different vehicle.
type OperatorRelease struct {
	Operator     string
	Reason       string
	InspectionID string
}

// OperatorRefuse is an operator confirming that a held vehicle stays out. It
// needs an operator and a reason and is recorded; the barrier stays closed.
// InspectionID, when set, must be the held inspection's.
type OperatorRefuse struct {
	Operator     string
	Reason       string
	InspectionID string
}

// Lockdown turns the lane's lock-down on or off. While on, the barrier is never
// commanded up; lifting it opens nothing by itself.
type Lockdown struct {
	On bool
}

// Evacuation starts or ends the gate's evacuation. On an exit lane the
// barrier is commanded up and held up while it lasts (PhaseEvacuating): no
// deadline, no closing behind vehicles; when it ends the lane closes as soon
// as the safety loop is clear. On an entry lane it is a lock-down: the
// barrier is never commanded up. Evacuation wins over lock-down on exit
// lanes; entry lanes stay closed under either.
type Evacuation struct {
	On bool
}

// BarrierState is what the barrier's feedback reports: one of the Barrier*
// states ("" before any report). Anything not known closed is treated as
// possibly open.
type BarrierState string

// Barrier states reported by the barrier's feedback.
const (
	BarrierClosed  BarrierState = "closed"
	BarrierOpening BarrierState = "opening"
	BarrierOpen    BarrierState = "open"
	BarrierClosing BarrierState = "closing"
	BarrierFault   BarrierState = "fault"
	BarrierUnknown BarrierState = "unknown"
)

// BarrierFeedback is the barrier's limit-switch feedback: one of the Barrier*
// states. "fault" and "unknown" raise an alarm.
type BarrierFeedback struct {
	State BarrierState
}

// ExitRecorded answers RecordExit on an exit lane: the exit is committed,
// linked to the entry EntryID (empty when none was found) after a stay of Stay.
type ExitRecorded struct {
	EntryID string
	Stay    time.Duration
}

// DecisionRecorded answers RecordDecision: the operator's decision is
// committed. A release opens the barrier only after this.
type DecisionRecorded struct {
	InspectionID string
	Action       string
}

// Things a RecordFailed can be about.
const (
	RecordWhatDecision = "decision"
	RecordWhatPassage  = "passage"
	RecordWhatExit     = "exit"
)

// RecordFailed answers RecordDecision, RecordPassage or RecordExit when the
// record could not be committed (What is one of the RecordWhat* values). It
// raises an alarm; a release or an exit that was not recorded does not open.
type RecordFailed struct {
	What         string
	InspectionID string
	Err          error
}

// BarrierCommand is the barrier command last given: one of the Command*
// values.
type BarrierCommand string

// Barrier commands, as carried by BarrierFailed and State.Commanded.
const (
	CommandNone    BarrierCommand = ""        // nothing commanded since start
	CommandUp      BarrierCommand = "up"      // OpenBarrier issued
	CommandDown    BarrierCommand = "down"    // CloseBarrier issued
	CommandUnknown BarrierCommand = "unknown" // the last command failed: possibly open
)

// BarrierFailed reports that executing OpenBarrier (Command "up") or
// CloseBarrier ("down") returned an error: the barrier may be anywhere, and is
// treated as possibly open.
type BarrierFailed struct {
	Command BarrierCommand
	Err     error
}

// DeviceFault reports that one of the lane's devices (a reader, the scanner,
// a loop, the barrier) failed (Fault) or came back (!Fault). The lane shows
// its faulty devices and raises a device_fault alarm when one fails.
type DeviceFault struct {
	Device string // e.g. "in-1/idcard"
	Fault  bool
	Detail string
}

func (DeviceFault) isEvent()         {}
func (e DeviceFault) String() string { return fmt.Sprintf("DeviceFault{%s %t}", e.Device, e.Fault) }

func (VehiclePresent) isEvent()   {}
func (VehicleGone) isEvent()      {}
func (SafetyLoop) isEvent()       {}
func (PlateRead) isEvent()        {}
func (CardRead) isEvent()         {}
func (FaceScored) isEvent()       {}
func (WaybillScanned) isEvent()   {}
func (DeadlinePassed) isEvent()   {}
func (Decided) isEvent()          {}
func (DecideFailed) isEvent()     {}
func (OperatorRelease) isEvent()  {}
func (OperatorRefuse) isEvent()   {}
func (Lockdown) isEvent()         {}
func (Evacuation) isEvent()       {}
func (BarrierFeedback) isEvent()  {}
func (ExitRecorded) isEvent()     {}
func (DecisionRecorded) isEvent() {}
func (RecordFailed) isEvent()     {}
func (BarrierFailed) isEvent()    {}
func (WeightStable) isEvent()     {}

func (VehiclePresent) String() string { return "VehiclePresent" }
func (VehicleGone) String() string    { return "VehicleGone" }
func (e SafetyLoop) String() string   { return fmt.Sprintf("SafetyLoop{Occupied:%t}", e.Occupied) }
func (e PlateRead) String() string {
	return fmt.Sprintf("PlateRead{%q %q %.2f}", e.Plate, e.Trailer, e.Confidence)
}
func (e CardRead) String() string {
	return fmt.Sprintf("CardRead{%q role=%q}", e.Person.IDNumber, e.Role)
}
func (e FaceScored) String() string {
	return fmt.Sprintf("FaceScored{%q %s}", e.IDNumber, scoreString(e.Score))
}
func (e WaybillScanned) String() string { return fmt.Sprintf("WaybillScanned{%q}", e.Number) }
func (e DeadlinePassed) String() string { return fmt.Sprintf("DeadlinePassed{Gen:%d}", e.Gen) }
func (e Decided) String() string {
	return fmt.Sprintf("Decided{%q %s}", e.InspectionID, e.Outcome.Verdict)
}
func (e DecideFailed) String() string { return fmt.Sprintf("DecideFailed{%v}", e.Err) }
func (e OperatorRelease) String() string {
	return fmt.Sprintf("OperatorRelease{%q %q %q}", e.Operator, e.Reason, e.InspectionID)
}
func (e OperatorRefuse) String() string {
	return fmt.Sprintf("OperatorRefuse{%q %q %q}", e.Operator, e.Reason, e.InspectionID)
}
func (e Lockdown) String() string        { return fmt.Sprintf("Lockdown{On:%t}", e.On) }
func (e Evacuation) String() string      { return fmt.Sprintf("Evacuation{On:%t}", e.On) }
func (e BarrierFeedback) String() string { return fmt.Sprintf("BarrierFeedback{%q}", e.State) }
func (e ExitRecorded) String() string    { return fmt.Sprintf("ExitRecorded{%q %v}", e.EntryID, e.Stay) }
func (e DecisionRecorded) String() string {
	return fmt.Sprintf("DecisionRecorded{%q %q}", e.InspectionID, e.Action)
}
func (e RecordFailed) String() string {
	return fmt.Sprintf("RecordFailed{%s %q %v}", e.What, e.InspectionID, e.Err)
}
func (e BarrierFailed) String() string { return fmt.Sprintf("BarrierFailed{%s %v}", e.Command, e.Err) }

func scoreString(p *float64) string {
	if p == nil {
		return "none"
	}
	return fmt.Sprintf("%.2f", *p)
}
