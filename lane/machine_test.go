package lane_test

import (
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/registry"
)

var t0 = time.Date(2026, 3, 15, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))

func score(v float64) *float64 { return &v }

// Evidence and answers used throughout the tables.
var (
	plate      = lane.PlateRead{Plate: "浙B12345", Trailer: "浙B6789挂", Confidence: 0.98}
	driver     = lane.CardRead{Person: checks.PersonEvidence{IDNumber: "D1", Name: "张三"}}
	escort     = lane.CardRead{Person: checks.PersonEvidence{IDNumber: "E1", Name: "李四"}}
	driverFace = lane.FaceScored{IDNumber: "D1", Score: score(0.93)}
	escortFace = lane.FaceScored{IDNumber: "E1", Score: score(0.91)}
	waybill    = lane.WaybillScanned{Number: "YD3302002603150001"}
	pass       = lane.Decided{InspectionID: "in-1-1", Outcome: checks.Outcome{Verdict: checks.VerdictPass}}
	review     = lane.Decided{InspectionID: "in-1-1", Outcome: checks.Outcome{Verdict: checks.VerdictReview}}
	reject     = lane.Decided{InspectionID: "in-1-1", Outcome: checks.Outcome{Verdict: checks.VerdictReject,
		Checks: []checks.CheckResult{{ID: checks.TankMedia, Result: checks.Fail}}}}
	failed  = lane.DecideFailed{Err: errors.New("store: disk full")}
	release = lane.OperatorRelease{Operator: "王五", Reason: "permit checked by phone"}
	refuse  = lane.OperatorRefuse{Operator: "王五", Reason: "escort absent"}
	occ     = lane.SafetyLoop{Occupied: true}
	clear   = lane.SafetyLoop{Occupied: false}
	lockOn  = lane.Lockdown{On: true}
	lockOff = lane.Lockdown{On: false}
)

func then(base []lane.Event, more ...lane.Event) []lane.Event {
	return append(slices.Clone(base), more...)
}

// Entry-lane histories: each ends in the phase it is named for.
var (
	collecting = []lane.Event{lane.VehiclePresent{}, plate, driver, driverFace, escort, escortFace}
	deciding   = then(collecting, waybill)
	opened     = then(deciding, pass)
	crossing   = then(opened, lane.VehicleGone{}, occ)
	held       = then(deciding, review)
	heldPass   = then(collecting, lockOn, waybill, pass)
	heldFailed = then(deciding, failed)
	releasing  = then(held, release)
)

// Exit-lane histories.
var (
	exitCfg        = lane.Config{Name: "out-1", Exit: true}
	exitCollecting = []lane.Event{lane.VehiclePresent{}}
	exitDeciding   = then(exitCollecting, plate)
	exitOpen       = then(exitDeciding, lane.ExitRecorded{EntryID: "in-1-7", Stay: 3 * time.Hour})
	exitHeld       = then(exitCollecting, lane.DeadlinePassed{Gen: 1})
)

// play feeds events to a new lane one second apart and returns the state and
// the last step's actions.
func play(t testing.TB, cfg lane.Config, events ...lane.Event) (lane.State, []lane.Action) {
	t.Helper()
	s := lane.NewState(cfg)
	var acts []lane.Action
	for i, e := range events {
		s, acts = step(t, s, e, t0.Add(time.Duration(i)*time.Second))
	}
	return s, acts
}

// step is lane.Step, failing the test on an event Step does not handle.
func step(t testing.TB, s lane.State, e lane.Event, now time.Time) (lane.State, []lane.Action) {
	t.Helper()
	next, acts, err := lane.Step(s, e, now)
	if err != nil {
		t.Fatalf("%v: %v", e, err)
	}
	return next, acts
}

// describe renders actions for comparison; alarms by kind only.
func describe(acts []lane.Action) string {
	out := make([]string, len(acts))
	for i, a := range acts {
		if al, ok := a.(lane.RaiseAlarm); ok {
			out[i] = "RaiseAlarm{" + al.Kind + "}"
			continue
		}
		out[i] = a.String()
	}
	return strings.Join(out, "; ")
}

type stepCase struct {
	name  string
	exit  bool
	cfg   *lane.Config
	setup []lane.Event
	event lane.Event
	phase lane.Phase
	acts  string
	check func(t *testing.T, s lane.State)
}

func runCases(t *testing.T, cases []stepCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := lane.Config{Name: "in-1"}
			if c.exit {
				cfg = exitCfg
			}
			if c.cfg != nil {
				cfg = *c.cfg
			}
			s, _ := play(t, cfg, c.setup...)
			got, acts := step(t, s, c.event, t0.Add(time.Hour))
			if got.Phase != c.phase {
				t.Fatalf("phase = %s, want %s (note %q)", got.Phase, c.phase, got.Note)
			}
			if d := describe(acts); d != c.acts {
				t.Fatalf("actions:\n got %s\nwant %s", d, c.acts)
			}
			if c.check != nil {
				c.check(t, got)
			}
		})
	}
}

func noteHas(sub string) func(*testing.T, lane.State) {
	return func(t *testing.T, s lane.State) {
		t.Helper()
		if !strings.Contains(s.Note, sub) {
			t.Fatalf("note = %q, want it to mention %q", s.Note, sub)
		}
	}
}

func TestStepArrivalAndEvidence(t *testing.T) {
	runCases(t, []stepCase{
		{name: "arrival starts an inspection and closes a barrier never commanded", event: lane.VehiclePresent{},
			phase: lane.PhaseCollecting, acts: "CloseBarrier; StartDeadline{1 2m0s}",
			check: func(t *testing.T, s lane.State) {
				if !s.Evidence.Arrived.Equal(t0.Add(time.Hour)) || s.Evidence.Lane != "in-1" {
					t.Fatalf("evidence = %+v, want arrived now in lane in-1", s.Evidence)
				}
				if !s.DeadlineAt.Equal(t0.Add(time.Hour + 2*time.Minute)) {
					t.Fatalf("deadline at %v", s.DeadlineAt)
				}
			}},
		{name: "arrival with the barrier already commanded down", setup: []lane.Event{lane.VehiclePresent{}, lane.VehicleGone{}},
			event: lane.VehiclePresent{}, phase: lane.PhaseCollecting, acts: "StartDeadline{3 2m0s}"},
		{name: "arrival while the safety loop is occupied does not close", setup: []lane.Event{occ},
			event: lane.VehiclePresent{}, phase: lane.PhaseCollecting, acts: "StartDeadline{1 2m0s}"},
		{name: "vehicle leaving before the decision ends it", setup: collecting, event: lane.VehicleGone{},
			phase: lane.PhaseIdle, acts: "CancelDeadline"},
		{name: "plate read", setup: collecting[:1], event: plate, phase: lane.PhaseCollecting, acts: "",
			check: func(t *testing.T, s lane.State) {
				if s.Evidence.Plate != "浙B12345" || s.Evidence.Trailer != "浙B6789挂" || s.PlateUnconfirmed {
					t.Fatalf("plate %q trailer %q unconfirmed %t", s.Evidence.Plate, s.Evidence.Trailer, s.PlateUnconfirmed)
				}
			}},
		{name: "worse plate read is ignored", setup: collecting[:2], event: lane.PlateRead{Plate: "浙B12346", Confidence: 0.5},
			phase: lane.PhaseCollecting, acts: "",
			check: func(t *testing.T, s lane.State) {
				if s.Evidence.Plate != "浙B12345" {
					t.Fatalf("plate = %q", s.Evidence.Plate)
				}
			}},
		{name: "first card is the driver's", setup: collecting[:2], event: driver, phase: lane.PhaseCollecting,
			acts: `MatchFace{driver "D1"}`},
		{name: "second distinct card is the escort's", setup: collecting[:3], event: escort, phase: lane.PhaseCollecting,
			acts: `MatchFace{escort "E1"}`},
		{name: "same card again is ignored", setup: collecting[:3], event: driver, phase: lane.PhaseCollecting, acts: ""},
		{name: "driver's card at the escort reader is the escort (the checks fail escort_is_driver)", setup: collecting[:3],
			event: lane.CardRead{Person: checks.PersonEvidence{IDNumber: "D1"}, Role: registry.RoleEscort},
			phase: lane.PhaseCollecting, acts: `MatchFace{escort "D1"}`,
			check: func(t *testing.T, s lane.State) {
				if s.Evidence.Escort == nil || s.Evidence.Escort.IDNumber != "D1" {
					t.Fatalf("escort %v", s.Evidence.Escort)
				}
			}},
		{name: "driver's card again at the driver reader is ignored", setup: collecting[:3],
			event: lane.CardRead{Person: checks.PersonEvidence{IDNumber: "D1"}, Role: registry.RoleDriver},
			phase: lane.PhaseCollecting, acts: ""},
		{name: "explicit escort role first", setup: collecting[:2],
			event: lane.CardRead{Person: checks.PersonEvidence{IDNumber: "E1"}, Role: registry.RoleEscort},
			phase: lane.PhaseCollecting, acts: `MatchFace{escort "E1"}`,
			check: func(t *testing.T, s lane.State) {
				if s.Evidence.Driver != nil || s.Evidence.Escort == nil {
					t.Fatalf("driver %v escort %v", s.Evidence.Driver, s.Evidence.Escort)
				}
			}},
		{name: "third distinct card is ignored", setup: collecting[:5],
			event: lane.CardRead{Person: checks.PersonEvidence{IDNumber: "X9"}}, phase: lane.PhaseCollecting, acts: "",
			check: noteHas("third")},
		{name: "second driver card is ignored", setup: collecting[:3],
			event: lane.CardRead{Person: checks.PersonEvidence{IDNumber: "X9"}, Role: registry.RoleDriver},
			phase: lane.PhaseCollecting, acts: "", check: noteHas("driver")},
		{name: "face score fills the person's face", setup: collecting[:3], event: driverFace,
			phase: lane.PhaseCollecting, acts: "",
			check: func(t *testing.T, s lane.State) {
				if !s.DriverFace || s.Evidence.Driver.Face == nil || *s.Evidence.Driver.Face != 0.93 {
					t.Fatalf("driver face known %t, %v", s.DriverFace, s.Evidence.Driver.Face)
				}
			}},
		{name: "no face score is a known answer", setup: collecting[:3], event: lane.FaceScored{IDNumber: "D1"},
			phase: lane.PhaseCollecting, acts: "",
			check: func(t *testing.T, s lane.State) {
				if !s.DriverFace || s.Evidence.Driver.Face != nil {
					t.Fatalf("driver face known %t, %v", s.DriverFace, s.Evidence.Driver.Face)
				}
			}},
		{name: "face score for someone else is ignored", setup: collecting[:3], event: lane.FaceScored{IDNumber: "X9", Score: score(1)},
			phase: lane.PhaseCollecting, acts: "",
			check: func(t *testing.T, s lane.State) {
				if s.DriverFace {
					t.Fatal("driver face marked known")
				}
			}},
		{name: "complete evidence decides at once", setup: collecting, event: waybill, phase: lane.PhaseDeciding,
			acts: `CancelDeadline; Decide{plate="浙B12345" deadline=false}`},
		{name: "the last face completing the evidence decides",
			setup: []lane.Event{lane.VehiclePresent{}, waybill, escort, driver, plate, driverFace}, event: escortFace,
			phase: lane.PhaseDeciding, acts: `CancelDeadline; Decide{plate="浙B12345" deadline=false}`},
		{name: "unconfirmed plate does not complete the evidence", cfg: &lane.Config{Name: "in-1", MinPlateConfidence: 0.9},
			setup: []lane.Event{lane.VehiclePresent{}, driver, driverFace, escort, escortFace, waybill},
			event: lane.PlateRead{Plate: "浙B12345", Confidence: 0.6}, phase: lane.PhaseCollecting, acts: "",
			check: func(t *testing.T, s lane.State) {
				if !s.PlateUnconfirmed || !slices.Equal(s.Missing(), []string{lane.MissingPlate}) {
					t.Fatalf("unconfirmed %t missing %v", s.PlateUnconfirmed, s.Missing())
				}
			}},
		{name: "a NaN minimum confidence confirms no read", cfg: &lane.Config{Name: "in-1", MinPlateConfidence: math.NaN()},
			setup: []lane.Event{lane.VehiclePresent{}, driver, driverFace, escort, escortFace, waybill},
			event: lane.PlateRead{Plate: "浙B12345", Confidence: 1}, phase: lane.PhaseCollecting, acts: "",
			check: func(t *testing.T, s lane.State) {
				if !s.PlateUnconfirmed {
					t.Fatal("read confirmed against a NaN minimum")
				}
			}},
		{name: "a NaN confidence is unconfirmed", cfg: &lane.Config{Name: "in-1"},
			setup: []lane.Event{lane.VehiclePresent{}, driver, driverFace, escort, escortFace, waybill},
			event: lane.PlateRead{Plate: "浙B12345", Confidence: math.NaN()}, phase: lane.PhaseCollecting, acts: "",
			check: func(t *testing.T, s lane.State) {
				if !s.PlateUnconfirmed {
					t.Fatal("a NaN read confirmed")
				}
			}},
		{name: "operator-typed plate confirms", cfg: &lane.Config{Name: "in-1", MinPlateConfidence: 0.9},
			setup: []lane.Event{lane.VehiclePresent{}, driver, driverFace, escort, escortFace, waybill, lane.PlateRead{Plate: "浙B12345", Confidence: 0.6}},
			event: lane.PlateRead{Plate: "浙B12345", Confidence: 1}, phase: lane.PhaseDeciding,
			acts: `CancelDeadline; Decide{plate="浙B12345" deadline=false}`},
		{name: "evidence after the decision is ignored", setup: deciding, event: lane.WaybillScanned{Number: "other"},
			phase: lane.PhaseDeciding, acts: ""},
		{name: "cards in an idle lane are ignored", event: driver, phase: lane.PhaseIdle, acts: ""},
	})
}

func TestStepDeadline(t *testing.T) {
	runCases(t, []stepCase{
		{name: "deadline decides with what is there", setup: collecting[:3], event: lane.DeadlinePassed{Gen: 1},
			phase: lane.PhaseDeciding, acts: `Decide{plate="浙B12345" deadline=true}`,
			check: func(t *testing.T, s lane.State) {
				if !s.Evidence.DeadlineExceeded || s.Evidence.Escort != nil || !s.DeadlineAt.IsZero() {
					t.Fatalf("evidence %+v deadline at %v", s.Evidence, s.DeadlineAt)
				}
			}},
		{name: "stale generation is ignored", setup: collecting[:3], event: lane.DeadlinePassed{Gen: 0},
			phase: lane.PhaseCollecting, acts: ""},
		{name: "deadline of a cancelled timer is ignored", setup: then(collecting, lane.VehicleGone{}, lane.VehiclePresent{}),
			event: lane.DeadlinePassed{Gen: 1}, phase: lane.PhaseCollecting, acts: ""},
		{name: "deadline after the decision is ignored", setup: deciding, event: lane.DeadlinePassed{Gen: 1},
			phase: lane.PhaseDeciding, acts: ""},
		{name: "open timeout closes and holds a vehicle that did not cross", setup: opened, event: lane.DeadlinePassed{Gen: 3},
			phase: lane.PhaseHeld, acts: "CloseBarrier; RaiseAlarm{no_passage}"},
		{name: "open timeout with the vehicle gone goes idle", setup: then(opened, lane.VehicleGone{}), event: lane.DeadlinePassed{Gen: 3},
			phase: lane.PhaseIdle, acts: "CloseBarrier; RaiseAlarm{no_passage}"},
		{name: "open timeout waits for a vehicle under the barrier", setup: crossing, event: lane.DeadlinePassed{Gen: 3},
			phase: lane.PhaseOpen, acts: ""},
	})
}

func TestStepDecision(t *testing.T) {
	runCases(t, []stepCase{
		{name: "pass opens", setup: deciding, event: pass, phase: lane.PhaseOpen,
			acts: "OpenBarrier{pass}; StartDeadline{3 1m0s}",
			check: func(t *testing.T, s lane.State) {
				if s.InspectionID != "in-1-1" || s.Outcome == nil || s.Commanded != lane.CommandUp {
					t.Fatalf("inspection %q outcome %v commanded %q", s.InspectionID, s.Outcome, s.Commanded)
				}
			}},
		{name: "review holds", setup: deciding, event: review, phase: lane.PhaseHeld, acts: "", check: noteHas("review")},
		{name: "reject holds (the Decider commits the alarm)", setup: deciding, event: reject, phase: lane.PhaseHeld, acts: ""},
		{name: "unknown verdict holds", setup: deciding, event: lane.Decided{InspectionID: "in-1-1"}, phase: lane.PhaseHeld, acts: ""},
		{name: "pass without an inspection id is not a record", setup: deciding,
			event: lane.Decided{Outcome: checks.Outcome{Verdict: checks.VerdictPass}}, phase: lane.PhaseHeld,
			acts: "RaiseAlarm{decide_failed}"},
		{name: "decide failed stays closed and alarms", setup: deciding, event: failed, phase: lane.PhaseHeld,
			acts: "RaiseAlarm{decide_failed}",
			check: func(t *testing.T, s lane.State) {
				if s.InspectionID != "" || s.Commanded != lane.CommandDown {
					t.Fatalf("inspection %q commanded %q", s.InspectionID, s.Commanded)
				}
			}},
		{name: "pass in lock-down holds", setup: then(deciding, lockOn), event: pass, phase: lane.PhaseHeld, acts: "",
			check: noteHas("lock-down")},
		{name: "pass for a vehicle that left opens nothing", setup: then(deciding, lane.VehicleGone{}), event: pass,
			phase: lane.PhaseIdle, acts: ""},
		{name: "pass for a vehicle that left and another arrived starts over",
			setup: then(deciding, lane.VehicleGone{}, lane.VehiclePresent{}), event: pass,
			phase: lane.PhaseCollecting, acts: "StartDeadline{3 2m0s}"},
		{name: "decided while collecting is ignored", setup: collecting, event: pass, phase: lane.PhaseCollecting, acts: ""},
		{name: "decided while open is ignored", setup: opened, event: lane.Decided{InspectionID: "x", Outcome: checks.Outcome{Verdict: checks.VerdictPass}},
			phase: lane.PhaseOpen, acts: "",
			check: func(t *testing.T, s lane.State) {
				if s.InspectionID != "in-1-1" {
					t.Fatalf("inspection = %q", s.InspectionID)
				}
			}},
	})
}

func TestStepPassage(t *testing.T) {
	runCases(t, []stepCase{
		{name: "vehicle on the safety loop", setup: opened, event: occ, phase: lane.PhaseOpen, acts: ""},
		{name: "vehicle off the arrival loop while open", setup: opened, event: lane.VehicleGone{}, phase: lane.PhaseOpen, acts: ""},
		{name: "vehicle cleared the safety loop: close, record, idle", setup: crossing, event: clear, phase: lane.PhaseIdle,
			acts: `CancelDeadline; CloseBarrier; RecordPassage{"in-1-1" in}`},
		{name: "next vehicle waiting starts its inspection", setup: then(crossing, lane.VehiclePresent{}),
			event: clear, phase: lane.PhaseCollecting,
			acts: `CancelDeadline; CloseBarrier; RecordPassage{"in-1-1" in}; StartDeadline{5 2m0s}`,
			check: func(t *testing.T, s lane.State) {
				if s.Evidence.Plate != "" || s.InspectionID != "" {
					t.Fatalf("new inspection carries %q %q", s.Evidence.Plate, s.InspectionID)
				}
			}},
		{name: "safety loop while collecting: tailgating", setup: collecting, event: occ, phase: lane.PhaseCollecting,
			acts: "RaiseAlarm{barrier_forced}"},
		{name: "safety loop while idle: barrier forced", event: occ, phase: lane.PhaseIdle, acts: "RaiseAlarm{barrier_forced}"},
		{name: "safety loop while held", setup: held, event: occ, phase: lane.PhaseHeld, acts: "RaiseAlarm{barrier_forced}"},
		{name: "safety loop clearing after start-up closes", setup: []lane.Event{occ}, event: clear, phase: lane.PhaseIdle,
			acts: "CloseBarrier"},
		{name: "repeated safety report is not a second alarm", setup: []lane.Event{occ}, event: occ, phase: lane.PhaseIdle, acts: ""},
		{name: "safety loop clearing while held does nothing", setup: then(held, occ), event: clear, phase: lane.PhaseHeld, acts: ""},
	})
}

func TestStepOperator(t *testing.T) {
	runCases(t, []stepCase{
		{name: "release records first", setup: held, event: release, phase: lane.PhaseHeld,
			acts: `RecordDecision{"in-1-1" "王五" release "permit checked by phone"}`,
			check: func(t *testing.T, s lane.State) {
				if s.Pending != lane.ActionRelease || s.Commanded != lane.CommandDown {
					t.Fatalf("pending %q commanded %q", s.Pending, s.Commanded)
				}
			}},
		{name: "recorded release opens", setup: releasing, event: lane.DecisionRecorded{InspectionID: "in-1-1", Action: lane.ActionRelease},
			phase: lane.PhaseOpen, acts: "OpenBarrier{release}; StartDeadline{3 1m0s}"},
		{name: "release naming the held inspection", setup: held,
			event: lane.OperatorRelease{Operator: "王五", Reason: "ok", InspectionID: "in-1-1"}, phase: lane.PhaseHeld,
			acts: `RecordDecision{"in-1-1" "王五" release "ok"}`},
		{name: "release naming another inspection is refused", setup: held,
			event: lane.OperatorRelease{Operator: "王五", Reason: "ok", InspectionID: "in-1-0"}, phase: lane.PhaseHeld, acts: "",
			check: noteHas("no longer held")},
		{name: "release without a reason is refused", setup: held, event: lane.OperatorRelease{Operator: "王五", Reason: "  "},
			phase: lane.PhaseHeld, acts: "", check: noteHas("reason")},
		{name: "release without an operator is refused", setup: held, event: lane.OperatorRelease{Reason: "ok"},
			phase: lane.PhaseHeld, acts: "", check: noteHas("operator")},
		{name: "release in lock-down is refused", setup: then(held, lockOn), event: release, phase: lane.PhaseHeld, acts: "",
			check: noteHas("lock-down")},
		{name: "release of a pass held by lock-down after lifting it", setup: then(heldPass, lockOff), event: release,
			phase: lane.PhaseHeld, acts: `RecordDecision{"in-1-1" "王五" release "permit checked by phone"}`},
		{name: "lifting lock-down opens nothing", setup: heldPass, event: lockOff, phase: lane.PhaseHeld, acts: ""},
		{name: "release with nothing recorded is refused", setup: heldFailed, event: release, phase: lane.PhaseHeld, acts: "",
			check: noteHas("no recorded inspection")},
		{name: "release while collecting is refused", setup: collecting, event: release, phase: lane.PhaseCollecting, acts: ""},
		{name: "release while one is being recorded is refused", setup: releasing, event: release, phase: lane.PhaseHeld, acts: ""},
		{name: "release that could not be recorded stays closed", setup: releasing,
			event: lane.RecordFailed{What: lane.RecordWhatDecision, InspectionID: "in-1-1", Err: errors.New("disk")},
			phase: lane.PhaseHeld, acts: "RaiseAlarm{record_failed}",
			check: func(t *testing.T, s lane.State) {
				if s.Pending != "" {
					t.Fatalf("pending = %q", s.Pending)
				}
			}},
		{name: "release recorded after lock-down came on stays closed", setup: then(releasing, lockOn),
			event: lane.DecisionRecorded{InspectionID: "in-1-1", Action: lane.ActionRelease}, phase: lane.PhaseHeld, acts: "",
			check: noteHas("lock-down")},
		{name: "recorded release for another inspection opens nothing", setup: releasing,
			event: lane.DecisionRecorded{InspectionID: "in-1-0", Action: lane.ActionRelease}, phase: lane.PhaseHeld, acts: ""},
		{name: "recorded refusal opens nothing", setup: then(held, refuse),
			event: lane.DecisionRecorded{InspectionID: "in-1-1", Action: lane.ActionRefuse}, phase: lane.PhaseHeld, acts: ""},
		{name: "recorded release with no release asked opens nothing", setup: held,
			event: lane.DecisionRecorded{InspectionID: "in-1-1", Action: lane.ActionRelease}, phase: lane.PhaseHeld, acts: ""},
		{name: "refuse records and stays closed", setup: held, event: refuse, phase: lane.PhaseHeld,
			acts: `RecordDecision{"in-1-1" "王五" refuse "escort absent"}`},
		{name: "refuse without a reason is refused", setup: held, event: lane.OperatorRefuse{Operator: "王五"},
			phase: lane.PhaseHeld, acts: ""},
		{name: "held vehicle leaving ends it", setup: held, event: lane.VehicleGone{}, phase: lane.PhaseIdle, acts: ""},
		{name: "vehicle leaving during a release ends it", setup: releasing, event: lane.VehicleGone{}, phase: lane.PhaseIdle, acts: "",
			check: func(t *testing.T, s lane.State) {
				if s.Pending != "" {
					t.Fatalf("pending = %q", s.Pending)
				}
			}},
	})
}

func TestStepLockdownAndBarrier(t *testing.T) {
	runCases(t, []stepCase{
		{name: "lock-down closes in front of a vehicle not yet under the barrier", setup: opened, event: lockOn,
			phase: lane.PhaseHeld, acts: "CancelDeadline; CloseBarrier"},
		{name: "lock-down lets a vehicle under the barrier through", setup: crossing, event: lockOn, phase: lane.PhaseOpen, acts: ""},
		{name: "lock-down then passage closes as usual", setup: then(crossing, lockOn), event: clear, phase: lane.PhaseIdle,
			acts: `CancelDeadline; CloseBarrier; RecordPassage{"in-1-1" in}`},
		{name: "lock-down while collecting", setup: collecting, event: lockOn, phase: lane.PhaseCollecting, acts: "",
			check: func(t *testing.T, s lane.State) {
				if !s.Lockdown {
					t.Fatal("lockdown not set")
				}
			}},
		{name: "barrier fault alarms", event: lane.BarrierFeedback{State: lane.BarrierFault}, phase: lane.PhaseIdle,
			acts: "RaiseAlarm{barrier_fault}"},
		{name: "barrier fault reported again", setup: []lane.Event{lane.BarrierFeedback{State: lane.BarrierFault}},
			event: lane.BarrierFeedback{State: lane.BarrierFault}, phase: lane.PhaseIdle, acts: ""},
		{name: "barrier unknown alarms", event: lane.BarrierFeedback{State: lane.BarrierUnknown}, phase: lane.PhaseIdle,
			acts: "RaiseAlarm{barrier_fault}"},
		{name: "unrecognised feedback counts as unknown", event: lane.BarrierFeedback{State: "stuck"}, phase: lane.PhaseIdle,
			acts: "RaiseAlarm{barrier_fault}",
			check: func(t *testing.T, s lane.State) {
				if s.Reported != lane.BarrierUnknown {
					t.Fatalf("reported = %q", s.Reported)
				}
			}},
		{name: "barrier closed feedback", event: lane.BarrierFeedback{State: lane.BarrierClosed}, phase: lane.PhaseIdle, acts: ""},
		{name: "failed open closes and holds", setup: opened, event: lane.BarrierFailed{Command: lane.CommandUp, Err: errors.New("relay")},
			phase: lane.PhaseHeld, acts: "RaiseAlarm{barrier_command_failed}; CancelDeadline; CloseBarrier",
			check: noteHas("failed to open")},
		{name: "failed close: possibly open", setup: then(crossing, clear),
			event: lane.BarrierFailed{Command: lane.CommandDown, Err: errors.New("relay")},
			phase: lane.PhaseIdle, acts: "RaiseAlarm{barrier_command_failed}",
			check: func(t *testing.T, s lane.State) {
				if s.Commanded != lane.CommandUnknown {
					t.Fatalf("commanded = %q", s.Commanded)
				}
			}},
		{name: "close retried when the safety loop clears", setup: then(crossing, clear, lane.BarrierFailed{Command: lane.CommandDown}, occ),
			event: clear, phase: lane.PhaseIdle, acts: "CloseBarrier"},
		{name: "close retried at the next arrival", setup: then(crossing, clear, lane.BarrierFailed{Command: lane.CommandDown}),
			event: lane.VehiclePresent{}, phase: lane.PhaseCollecting, acts: "CloseBarrier; StartDeadline{5 2m0s}"},
		{name: "close not retried at arrival while the safety loop is occupied",
			setup: then(crossing, clear, lane.BarrierFailed{Command: lane.CommandDown}, occ),
			event: lane.VehiclePresent{}, phase: lane.PhaseCollecting, acts: "StartDeadline{5 2m0s}"},
		{name: "failed passage record alarms", setup: then(crossing, clear),
			event: lane.RecordFailed{What: lane.RecordWhatPassage, InspectionID: "in-1-1", Err: errors.New("disk")},
			phase: lane.PhaseIdle, acts: "RaiseAlarm{record_failed}"},
	})
}

func TestStepExitLane(t *testing.T) {
	runCases(t, []stepCase{
		{name: "arrival", exit: true, event: lane.VehiclePresent{}, phase: lane.PhaseCollecting,
			acts: "CloseBarrier; StartDeadline{1 2m0s}"},
		{name: "plate read records the exit", exit: true, setup: exitCollecting, event: plate, phase: lane.PhaseDeciding,
			acts: `CancelDeadline; RecordExit{"浙B12345"}`},
		{name: "unconfirmed plate waits", exit: true, cfg: &lane.Config{Name: "out-1", Exit: true, MinPlateConfidence: 0.99},
			setup: exitCollecting, event: plate, phase: lane.PhaseCollecting, acts: ""},
		{name: "recorded exit opens", exit: true, setup: exitDeciding, event: lane.ExitRecorded{EntryID: "in-1-7", Stay: time.Hour},
			phase: lane.PhaseOpen, acts: "OpenBarrier{exit}; StartDeadline{3 1m0s}"},
		{name: "exit in lock-down holds", exit: true, setup: then(exitDeciding, lockOn), event: lane.ExitRecorded{},
			phase: lane.PhaseHeld, acts: ""},
		{name: "exit not recorded holds", exit: true, setup: exitDeciding,
			event: lane.RecordFailed{What: lane.RecordWhatExit, Err: errors.New("disk")}, phase: lane.PhaseHeld,
			acts: "RaiseAlarm{record_failed}"},
		{name: "passage out linked to the entry", exit: true, setup: then(exitOpen, lane.VehicleGone{}, occ), event: clear, phase: lane.PhaseIdle,
			acts: `CancelDeadline; CloseBarrier; RecordPassage{"in-1-7" out}`},
		{name: "no plate by the deadline holds", exit: true, setup: exitCollecting, event: lane.DeadlinePassed{Gen: 1},
			phase: lane.PhaseHeld, acts: "", check: noteHas("no plate")},
		{name: "operator releases a held exit", exit: true, setup: exitHeld, event: release, phase: lane.PhaseHeld,
			acts: `RecordDecision{"" "王五" release "permit checked by phone"}`},
		{name: "recorded release opens the exit", exit: true, setup: then(exitHeld, release),
			event: lane.DecisionRecorded{Action: lane.ActionRelease}, phase: lane.PhaseOpen,
			acts: "OpenBarrier{release}; StartDeadline{2 1m0s}"},
		{name: "plate typed for a held exit records it", exit: true, setup: exitHeld,
			event: lane.PlateRead{Plate: "浙B12345", Confidence: 1}, phase: lane.PhaseDeciding, acts: `RecordExit{"浙B12345"}`},
		{name: "exit lanes take no cards", exit: true, setup: exitCollecting, event: driver, phase: lane.PhaseCollecting, acts: ""},
		{name: "exit lanes ignore Decided", exit: true, setup: exitDeciding, event: pass, phase: lane.PhaseDeciding, acts: ""},
		{name: "entry lanes ignore ExitRecorded", setup: deciding, event: lane.ExitRecorded{}, phase: lane.PhaseDeciding, acts: ""},
		{name: "exit vehicle leaving while recorded opens nothing", exit: true, setup: then(exitDeciding, lane.VehicleGone{}),
			event: lane.ExitRecorded{}, phase: lane.PhaseIdle, acts: ""},
	})
}

// TestStepRecordBeforeAct: whatever happens after a failed decision, nothing
// opens until a new inspection is committed.
func TestStepRecordBeforeAct(t *testing.T) {
	s, _ := play(t, lane.Config{Name: "in-1"}, heldFailed...)
	for i, e := range []lane.Event{release, lockOff, lane.DecisionRecorded{Action: lane.ActionRelease},
		lane.DeadlinePassed{Gen: s.Gen}, pass, occ, clear, refuse} {
		var acts []lane.Action
		s, acts = step(t, s, e, t0.Add(time.Duration(i)*time.Second))
		for _, a := range acts {
			if _, ok := a.(lane.OpenBarrier); ok {
				t.Fatalf("after DecideFailed, %v issued %v", e, a)
			}
		}
	}
}

// TestStepDoesNotChangeItsInput: Step is pure; the State it is given (and
// the evidence it points to) is left as it was.
func TestStepDoesNotChangeItsInput(t *testing.T) {
	s, _ := play(t, lane.Config{Name: "in-1"}, collecting[:5]...)
	before := s.Snapshot()
	step(t, s, lane.FaceScored{IDNumber: "E1", Score: score(0.2)}, t0)
	step(t, s, lane.FaceScored{IDNumber: "D1", Score: score(0.2)}, t0)
	after := s.Snapshot()
	if *after.Evidence.Driver.Face != *before.Evidence.Driver.Face || after.Evidence.Escort.Face != nil {
		t.Fatalf("Step changed its input: driver face %v escort face %v", *after.Evidence.Driver.Face, after.Evidence.Escort.Face)
	}
}

func TestStepDeviceFault(t *testing.T) {
	s := lane.NewState(lane.Config{Name: "in-1"})
	s, acts := step(t, s, lane.DeviceFault{Device: "in-1/idcard", Fault: true, Detail: "unplugged"}, t0)
	if len(s.Faults) != 1 || s.Faults[0] != "in-1/idcard" || len(acts) != 0 {
		t.Fatalf("faults %v, actions %s", s.Faults, describe(acts))
	}
	before := s
	s, acts = step(t, s, lane.DeviceFault{Device: "in-1/idcard", Fault: true}, t0)
	if len(acts) != 0 || len(s.Faults) != 1 {
		t.Fatalf("a repeated fault: faults %v, actions %s", s.Faults, describe(acts))
	}
	s, _ = step(t, s, lane.DeviceFault{Device: "in-1/idcard", Fault: false}, t0)
	if len(s.Faults) != 0 || len(before.Faults) != 1 {
		t.Fatalf("recovered: faults %v; the earlier state changed: %v", s.Faults, before.Faults)
	}
}

// TestStepRejectsAnUnhandledEvent: an event type Step has no case for is
// an error, with the state left as it was and nothing done, never dropped
// silently.
func TestStepRejectsAnUnhandledEvent(t *testing.T) {
	for _, c := range []struct {
		name  string
		setup []lane.Event
	}{
		{"idle", nil},
		{"collecting", collecting},
		{"held", held},
		{"open", opened},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, _ := play(t, lane.Config{Name: "in-1"}, c.setup...)
			got, acts, err := lane.Step(s, lane.Unhandled{}, t0.Add(time.Hour))
			if !errors.Is(err, lane.ErrUnhandledEvent) || !strings.Contains(err.Error(), "lane.Unhandled") {
				t.Fatalf("err = %v, want ErrUnhandledEvent naming lane.Unhandled", err)
			}
			if acts != nil {
				t.Fatalf("actions %s, want none", describe(acts))
			}
			if !reflect.DeepEqual(got, s) {
				t.Fatalf("state changed:\n got %+v\nwant %+v", got, s)
			}
		})
	}
}
