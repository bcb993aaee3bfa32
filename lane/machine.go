// Package lane is one gate lane: a pure state machine (Step) that turns
// device, operator and timer events into actions, and a Runner that owns one
// goroutine per lane, executes the actions and feeds their answers back.
//
// The barrier interlock is enforced here, in Step:
//   - CloseBarrier is never issued while the safety loop (under the barrier)
//     is known to be occupied;
//   - OpenBarrier is issued only while handling a committed pass verdict
//     (Decided), a committed operator release (DecisionRecorded) or a
//     committed exit (ExitRecorded) for the vehicle at the lane, and never in
//     lock-down. Record before act: nothing opens on an uncommitted record.
//
// It imports only checks, clock and registry of ours: devices and records are reached
// through the interfaces it defines (Barrier, Decider, Recorder, FaceMatcher).
// The device drivers, lanes, uplink, kiosk, appliance, sim and cmd/hazgate may
// import it.
package lane

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hazgate/hazgate/checks"
)

// ErrUnhandledEvent is Step's answer to an event it has no case for (an
// event type added without teaching Step): the state is left as it was and
// nothing is done, but the event is not dropped silently.
var ErrUnhandledEvent = errors.New("lane: unhandled event")

// Step is the lane machine: it returns the state after e happened at now, and
// the actions to carry out, in order. It does no I/O, reads no clock and keeps
// nothing: the same arguments always give the same result. An event it does
// not handle returns s unchanged, no action and an error wrapping
// ErrUnhandledEvent.
func Step(s State, e Event, now time.Time) (State, []Action, error) {
	m := &machine{s: s, now: now}
	switch e := e.(type) {
	case VehiclePresent:
		m.vehiclePresent()
	case VehicleGone:
		m.vehicleGone()
	case SafetyLoop:
		m.safetyLoop(e.Occupied)
	case PlateRead:
		m.plateRead(e)
	case CardRead:
		m.cardRead(e)
	case FaceScored:
		m.faceScored(e)
	case WaybillScanned:
		m.waybillScanned(e)
	case WeightStable:
		m.weightStable(e)
	case WaybillLooked:
		m.waybillLooked(e)
	case DeadlinePassed:
		m.deadlinePassed(e)
	case Decided:
		m.decided(e)
	case DecideFailed:
		m.decideFailed(e)
	case ExitRecorded:
		m.exitRecorded(e)
	case DecisionRecorded:
		m.decisionRecorded(e)
	case RecordFailed:
		m.recordFailed(e)
	case OperatorRelease:
		m.operatorRelease(e)
	case OperatorRefuse:
		m.operatorRefuse(e)
	case Lockdown:
		m.lockdown(e.On)
	case BarrierFeedback:
		m.barrierFeedback(e.State)
	case DeviceFault:
		m.deviceFault(e)
	case BarrierFailed:
		m.barrierFailed(e)
	default:
		return s, nil, fmt.Errorf("%w: %T", ErrUnhandledEvent, e)
	}
	return m.s, m.acts, nil
}

// machine is one Step in progress: the state being changed and the actions
// issued so far.
type machine struct {
	s    State
	now  time.Time
	acts []Action
}

func (m *machine) emit(a Action) { m.acts = append(m.acts, a) }

func (m *machine) alarm(kind, format string, args ...any) {
	m.emit(RaiseAlarm{Kind: kind, Detail: fmt.Sprintf(format, args...)})
}

// closeBarrier issues CloseBarrier unless the safety loop is occupied; it
// reports whether it did.
func (m *machine) closeBarrier() bool {
	if m.s.Safety {
		return false
	}
	m.s.Commanded = CommandDown
	m.emit(CloseBarrier{})
	return true
}

// openBarrier issues OpenBarrier and enters PhaseOpen, unless the lane is in
// lock-down; it reports whether it did. Callers have checked that a committed
// pass, release or exit for the current vehicle is what they are handling.
func (m *machine) openBarrier(why string) bool {
	if m.s.Lockdown {
		return false
	}
	m.s.Commanded = CommandUp
	m.s.Phase = PhaseOpen
	m.s.Crossing = m.s.Safety
	m.note("")
	m.emit(OpenBarrier{Why: why})
	m.startDeadline(m.s.Config.OpenTimeout)
	return true
}

func (m *machine) startDeadline(d time.Duration) {
	m.s.Gen++
	m.s.DeadlineAt = m.now.Add(d)
	m.emit(StartDeadline{Gen: m.s.Gen, After: d})
}

// cancelDeadline stops the timer; bumping Gen makes a DeadlinePassed that was
// already on its way stale.
func (m *machine) cancelDeadline() {
	if m.s.DeadlineAt.IsZero() {
		return
	}
	m.s.Gen++
	m.s.DeadlineAt = time.Time{}
	m.emit(CancelDeadline{})
}

// hold keeps the barrier closed and waits for an operator or for the vehicle
// to leave; a vehicle already gone from the arrival loop ends the inspection.
func (m *machine) hold(code string, kv ...string) {
	m.note(code, kv...)
	if !m.s.Arrival {
		m.s.Phase = PhaseIdle
		return
	}
	m.s.Phase = PhaseHeld
}

// arrive starts an inspection for the vehicle on the arrival loop.
func (m *machine) arrive() {
	m.s.Phase = PhaseCollecting
	m.s.Evidence = checks.Evidence{Lane: m.s.Config.Name, Arrived: m.now, Weighbridge: m.s.Config.Weighbridge && !m.s.Config.Exit}
	m.s.PlateConfidence, m.s.PlateUnconfirmed = 0, false
	m.s.DriverFace, m.s.EscortFace = false, false
	m.s.InspectionID, m.s.Outcome = "", nil
	m.s.ExitRecorded, m.s.EntryID, m.s.Stay = false, "", 0
	m.s.Pending = ""
	m.s.Decision, m.s.Reopen = Decision{}, false
	m.s.Left = false
	m.s.Crossing = false
	m.note("")
	if m.s.Commanded != CommandDown {
		// Start from a barrier known to be commanded down: after start-up,
		// or after a close that failed.
		m.closeBarrier()
	}
	m.startDeadline(m.s.Config.Deadline)
}

func (m *machine) vehiclePresent() {
	m.s.Arrival = true
	if m.s.Phase == PhaseIdle {
		m.arrive()
	}
}

func (m *machine) vehicleGone() {
	m.s.Arrival = false
	m.s.Reopen = false
	switch m.s.Phase {
	case PhaseCollecting:
		m.cancelDeadline()
		m.s.Phase = PhaseIdle
		m.note(NoteVehicleLeft)
	case PhaseDeciding:
		// The answer sees the vehicle gone and opens nothing, even if a
		// vehicle is back on the loop by then.
		m.s.Left = true
	case PhaseHeld:
		m.s.Phase = PhaseIdle
		m.s.Pending = ""
		m.note(NoteHeldVehicleLeft)
	}
	// PhaseOpen: the vehicle drives on towards the barrier (or backs away,
	// which the open timeout catches).
}

func (m *machine) safetyLoop(occupied bool) {
	if occupied == m.s.Safety {
		return
	}
	m.s.Safety = occupied
	if occupied {
		if m.s.Phase == PhaseOpen {
			m.s.Crossing = true
			return
		}
		m.alarm(AlarmBarrierForced, "safety loop occupied while the barrier is not open for a vehicle (phase %s, barrier %s)", m.s.Phase, commandName(m.s.Commanded))
		return
	}
	switch {
	case m.s.Phase == PhaseOpen && m.s.Crossing:
		m.passage()
	case m.s.Phase != PhaseOpen && m.s.Commanded != CommandDown:
		// Not known to be commanded down (the last command failed, or none
		// since start-up): now that nothing is under the barrier, close it.
		m.closeBarrier()
	}
}

// passage: the vehicle crossed the safety loop and cleared it.
func (m *machine) passage() {
	m.cancelDeadline()
	m.closeBarrier()
	id, dir := m.s.InspectionID, DirectionIn
	if m.s.Config.Exit {
		id, dir = m.s.EntryID, DirectionOut
	}
	m.emit(RecordPassage{InspectionID: id, Direction: dir})
	m.s.Phase = PhaseIdle
	m.s.Crossing = false
	m.note("")
	if m.s.Arrival {
		// The next vehicle is already waiting on the arrival loop.
		m.arrive()
	}
}

func (m *machine) deadlinePassed(e DeadlinePassed) {
	if e.Gen != m.s.Gen || m.s.DeadlineAt.IsZero() {
		return // stale
	}
	switch m.s.Phase {
	case PhaseCollecting:
		m.s.DeadlineAt = time.Time{}
		if !m.s.Config.Exit {
			m.decide(true)
			return
		}
		note := NoteNoPlate
		if m.s.Evidence.Plate != "" {
			note = NotePlateUnconfirmed
		}
		m.hold(note)
	case PhaseOpen:
		if m.s.Crossing || m.s.Safety {
			return // the vehicle is under the barrier; wait for it
		}
		m.s.DeadlineAt = time.Time{}
		m.closeBarrier()
		m.alarm(AlarmNoPassage, "barrier opened for %s but nothing crossed within %v", m.vehicleName(), m.s.Config.OpenTimeout)
		m.hold(NoteNotCrossed)
	}
}

func (m *machine) vehicleName() string {
	if m.s.InspectionID != "" {
		return "inspection " + m.s.InspectionID
	}
	if m.s.Evidence.Plate != "" {
		return m.s.Evidence.Plate
	}
	return "the vehicle"
}

func (m *machine) decided(e Decided) {
	if m.s.Config.Exit || m.s.Phase != PhaseDeciding {
		return
	}
	if e.InspectionID == "" {
		// Nothing to point the passage and the operator at: treat it as
		// not recorded.
		m.decideFailed(DecideFailed{Err: errors.New("lane: decision committed without an inspection id")})
		return
	}
	m.s.InspectionID = e.InspectionID
	o := cloneOutcome(e.Outcome)
	m.s.Outcome = &o
	// The rejection alarm is committed with the inspection by the Decider.
	switch {
	case m.abandoned():
	case e.Outcome.Verdict == checks.VerdictPass && m.s.Lockdown:
		m.hold(NotePassHeldLockdown)
	case e.Outcome.Verdict == checks.VerdictPass:
		m.openBarrier(WhyPass)
	default:
		m.hold(NoteVerdictHeld, "verdict", string(e.Outcome.Verdict))
	}
}

func (m *machine) decideFailed(e DecideFailed) {
	if m.s.Config.Exit || m.s.Phase != PhaseDeciding {
		return
	}
	m.s.InspectionID, m.s.Outcome = "", nil
	m.alarm(AlarmDecideFailed, "inspection of %s could not be recorded: %v", plateOrNone(m.s.Evidence.Plate), e.Err)
	if !m.abandoned() {
		m.hold(NoteInspectionNotRecorded)
	}
}

// abandoned handles the answer to a record for a vehicle that left while it
// was being committed: the lane goes idle, or starts on the vehicle now on the
// arrival loop. It reports whether the vehicle had left.
func (m *machine) abandoned() bool {
	if !m.s.Left {
		return false
	}
	m.s.Phase = PhaseIdle
	m.note(NoteLeftBeforeRecord)
	if m.s.Arrival {
		m.arrive()
	}
	return true
}

func (m *machine) exitRecorded(e ExitRecorded) {
	if !m.s.Config.Exit || m.s.Phase != PhaseDeciding {
		return
	}
	m.s.ExitRecorded, m.s.EntryID, m.s.Stay = true, e.EntryID, e.Stay
	switch {
	case m.abandoned():
	case m.s.Lockdown:
		m.hold(NoteExitHeldLockdown)
	default:
		m.openBarrier(WhyExit)
	}
}

func (m *machine) recordFailed(e RecordFailed) {
	m.alarm(AlarmRecordFailed, "%s record (lane %s, inspection %q) failed: %v", e.What, m.s.Config.Name, e.InspectionID, e.Err)
	switch {
	case e.What == RecordWhatExit && m.s.Config.Exit && m.s.Phase == PhaseDeciding:
		if !m.abandoned() {
			m.hold(NoteExitNotRecorded)
		}
	case e.What == RecordWhatDecision && m.s.Phase == PhaseHeld && m.s.Pending == ActionRelease && e.InspectionID == m.s.InspectionID:
		m.s.Pending = ""
		m.s.Decision = Decision{}
		m.note(NoteReleaseNotRecorded)
	case e.What == RecordWhatDecision && m.s.Decision.Action == ActionRefuse && e.InspectionID == m.s.InspectionID:
		m.s.Decision = Decision{}
		if m.s.Phase == PhaseHeld {
			m.note(NoteRefusalNotRecorded)
		}
	}
}

// operatorRefusal says why an operator's decision cannot be taken now (a
// Why code, and the operator it names), or "".
func (m *machine) operatorRefusal(operator, reason, id string) (why, who string) {
	switch {
	case m.s.Phase != PhaseHeld:
		return WhyNoVehicleHeld, ""
	case !m.s.Config.Exit && m.s.InspectionID == "":
		return WhyNoInspection, ""
	case id != "" && id != m.s.InspectionID:
		return WhyInspectionNotHeld, ""
	case strings.TrimSpace(operator) == "":
		return WhyOperatorRequired, ""
	case strings.TrimSpace(reason) == "":
		return WhyReasonRequired, ""
	case m.s.Pending != "":
		return WhyReleasePending, ""
	case m.s.Decision.Action == ActionRefuse:
		return WhyAlreadyRefused, m.s.Decision.Operator
	}
	return "", ""
}

// refused notes that an operator's decision was not taken: code is
// NoteReleaseRefused or NoteRefusalNotTaken.
func (m *machine) refused(code, why, who string) {
	if who != "" {
		m.note(code, "why", why, "operator", who)
		return
	}
	m.note(code, "why", why)
}

func (m *machine) operatorRelease(e OperatorRelease) {
	if why, who := m.operatorRefusal(e.Operator, e.Reason, e.InspectionID); why != "" {
		m.refused(NoteReleaseRefused, why, who)
		return
	}
	if m.s.Lockdown {
		m.refused(NoteReleaseRefused, WhyLockdown, "")
		return
	}
	if d := m.s.Decision; d.Action == ActionRelease && m.s.Pending == "" {
		if !m.s.Reopen {
			m.refused(NoteReleaseRefused, WhyReleasedLoopClosed, d.Operator)
			return
		}
		// The release is recorded; the lane held the vehicle again
		// (lock-down, a barrier that failed to open, nothing crossed in
		// time). It opens under that record: one decision per inspection.
		if m.openBarrier(WhyRelease) {
			m.note(NoteReopened, "operator", d.Operator)
		}
		return
	}
	m.s.Pending = ActionRelease
	m.s.Decision = Decision{Action: ActionRelease, Operator: strings.TrimSpace(e.Operator), Reason: strings.TrimSpace(e.Reason)}
	m.note(NoteReleaseRecording, "operator", strings.TrimSpace(e.Operator))
	m.emit(RecordDecision{InspectionID: m.s.InspectionID, Operator: strings.TrimSpace(e.Operator), Action: ActionRelease, Reason: strings.TrimSpace(e.Reason)})
}

func (m *machine) operatorRefuse(e OperatorRefuse) {
	if why, who := m.operatorRefusal(e.Operator, e.Reason, e.InspectionID); why != "" {
		m.refused(NoteRefusalNotTaken, why, who)
		return
	}
	if d := m.s.Decision; d.Action == ActionRelease {
		m.refused(NoteRefusalNotTaken, WhyAlreadyReleased, d.Operator)
		return
	}
	op, reason := strings.TrimSpace(e.Operator), strings.TrimSpace(e.Reason)
	m.s.Decision = Decision{Action: ActionRefuse, Operator: op, Reason: reason}
	m.emit(RecordDecision{InspectionID: m.s.InspectionID, Operator: op, Action: ActionRefuse, Reason: reason})
	m.hold(NoteRefused, "operator", op, "reason", reason)
}

func (m *machine) decisionRecorded(e DecisionRecorded) {
	if m.s.Phase != PhaseHeld || m.s.Pending != ActionRelease || e.Action != ActionRelease || e.InspectionID != m.s.InspectionID {
		return
	}
	m.s.Pending = ""
	m.s.Reopen = m.s.Arrival
	if !m.openBarrier(WhyRelease) {
		m.note(NoteReleaseNotCarriedOut)
	}
	// The override alarm is committed with the decision by the Recorder.
}

func (m *machine) lockdown(on bool) {
	if on == m.s.Lockdown {
		return
	}
	m.s.Lockdown = on
	if on && m.s.Phase == PhaseOpen && !m.s.Crossing && !m.s.Safety {
		// Nothing is under the barrier yet: close it in front of the
		// vehicle and hold it for the operator.
		m.cancelDeadline()
		m.closeBarrier()
		m.hold(NoteLockdownClosed)
	}
}

// deviceFault keeps the set of the lane's faulty devices (shown to the
// operator and the safety office). Its alarm, raised and cleared, is the
// gate's (gate.Lane.Health), which outlives the lane's state. A fault
// opens nothing and closes nothing by itself: without its evidence the
// lane cannot pass, and decides review at its deadline.
func (m *machine) deviceFault(e DeviceFault) {
	i := slices.Index(m.s.Faults, e.Device)
	switch {
	case e.Fault && i < 0:
		m.s.Faults = append(slices.Clone(m.s.Faults), e.Device)
		slices.Sort(m.s.Faults)
	case !e.Fault && i >= 0:
		m.s.Faults = slices.Delete(slices.Clone(m.s.Faults), i, i+1)
	}
}

func (m *machine) barrierFeedback(state BarrierState) {
	switch state {
	case BarrierClosed, BarrierOpening, BarrierOpen, BarrierClosing, BarrierFault:
	default:
		state = BarrierUnknown
	}
	prev := m.s.Reported
	m.s.Reported = state
	if (state == BarrierFault || state == BarrierUnknown) && prev != state {
		m.alarm(AlarmBarrierFault, "barrier reports %s (barrier %s)", state, commandName(m.s.Commanded))
	}
}

func (m *machine) barrierFailed(e BarrierFailed) {
	m.s.Commanded = CommandUnknown
	m.alarm(AlarmBarrierCommand, "barrier %s command failed: %v; treating the barrier as possibly open", commandName(e.Command), e.Err)
	if e.Command == CommandUp && m.s.Phase == PhaseOpen && !m.s.Crossing && !m.s.Safety {
		// It probably did not open: close it and let the operator release
		// the vehicle again.
		m.cancelDeadline()
		m.closeBarrier()
		m.hold(NoteBarrierFailed)
	}
}

func commandName(c BarrierCommand) string {
	if c == CommandNone {
		return "never commanded"
	}
	return string(c)
}

func plateOrNone(p string) string {
	if p == "" {
		return "a vehicle with no plate read"
	}
	return p
}
