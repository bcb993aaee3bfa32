package lane

import (
	"maps"
	"slices"
	"time"

	"github.com/hazgate/hazgate/checks"
)

// Defaults for Config fields left zero.
const (
	DefaultDeadline    = 120 * time.Second
	DefaultOpenTimeout = 60 * time.Second
)

// Config is one lane's settings.
type Config struct {
	// Name is the lane's name ("in-1"), used in records and logs.
	Name string
	// Exit marks an exit lane: no checks; a plate read is recorded as the
	// vehicle's exit and opens the barrier.
	Exit bool
	// Deadline is how long after arrival the lane decides with whatever
	// evidence it has (default 120 s). On an exit lane, a vehicle with no
	// plate by then is held for the operator.
	Deadline time.Duration
	// OpenTimeout is how long the barrier stays up for a vehicle that does
	// not reach the safety loop (it backed away, or the loop is broken):
	// then the barrier closes and a no_passage alarm is raised (default 60 s).
	OpenTimeout time.Duration
	// MinPlateConfidence is the plate-read confidence below which the read
	// counts as unconfirmed (0: every read is confirmed).
	MinPlateConfidence float64
	// Weighbridge marks an entry lane that weighs vehicles: a stable gross
	// weight (WeightStable) is evidence it waits for (lane/weight.go).
	Weighbridge bool
	// LookupWaybill has each scanned waybill looked up (LookupWaybill) and
	// the decision wait for the answer (lane/waybill.go).
	LookupWaybill bool
}

// WithDefaults returns c with zero durations replaced by their defaults.
func (c Config) WithDefaults() Config {
	if c.Deadline <= 0 {
		c.Deadline = DefaultDeadline
	}
	if c.OpenTimeout <= 0 {
		c.OpenTimeout = DefaultOpenTimeout
	}
	return c
}

// Phase is where a lane is in handling one vehicle.
type Phase string

// The phases.
const (
	// PhaseIdle: no inspection running; the barrier is (commanded) closed.
	PhaseIdle Phase = "idle"
	// PhaseCollecting: a vehicle is on the arrival loop; evidence is coming
	// in; the deadline runs.
	PhaseCollecting Phase = "collecting"
	// PhaseDeciding: Decide (or, on an exit lane, RecordExit) was issued and
	// the lane waits for the record to be committed.
	PhaseDeciding Phase = "deciding"
	// PhaseHeld: the barrier is closed and the vehicle waits for an operator
	// or leaves (verdict review or reject, a failed record, lock-down, an
	// exit lane with no plate).
	PhaseHeld Phase = "held"
	// PhaseOpen: the barrier is commanded up and the lane waits for the
	// vehicle to cross the safety loop.
	PhaseOpen Phase = "open"
)

// State is everything the lane machine knows. It is a value: Step never
// changes the State it was given, nor anything it points to.
type State struct {
	Config Config
	Phase  Phase

	// Evidence collected for the current (or, when idle, the last) vehicle.
	Evidence checks.Evidence
	// PlateConfidence is the confidence of the read in Evidence.Plate.
	PlateConfidence float64
	// PlateUnconfirmed is set while the plate read is below
	// Config.MinPlateConfidence.
	PlateUnconfirmed bool
	// DriverFace and EscortFace are set once that person's face-match
	// answer (a score or none) arrived.
	DriverFace, EscortFace bool

	// InspectionID and Outcome are the committed decision (entry lanes).
	InspectionID string
	Outcome      *checks.Outcome
	// ExitRecorded, EntryID and Stay are the committed exit (exit lanes).
	ExitRecorded bool
	EntryID      string
	Stay         time.Duration
	// Pending is ActionRelease while a release waits to be recorded.
	Pending string
	// Decision is the operator's decision on the current (or, when idle,
	// the last) vehicle; zero when none. It is set when the decision is
	// sent to be recorded (a release is recorded while Pending is set) and
	// cleared if recording it fails. A refusal closes the case: no other
	// decision is taken on it.
	Decision Decision
	// Reopen is set while a recorded release may open the barrier again
	// for a vehicle held again (lock-down, a barrier that failed to open,
	// nothing crossed in time); it ends when the arrival loop clears, as
	// the vehicle there may then be another.
	Reopen bool
	// Left is set when the vehicle left the arrival loop while its record
	// was being committed: the answer then opens nothing.
	Left bool

	// Arrival and Safety are the loops' last reported occupancy.
	Arrival, Safety bool
	// Crossing is set in PhaseOpen once the safety loop was occupied.
	Crossing bool
	// Commanded is the last barrier command.
	Commanded BarrierCommand
	// Reported is the barrier feedback's last state ("" before any).
	Reported BarrierState
	// Lockdown is on while the lane is locked down.
	Lockdown bool
	// Faults names the lane's devices that are failing, sorted.
	Faults []string

	// Gen is the generation of the last StartDeadline; DeadlineAt is when
	// the running timer fires (zero when none runs).
	Gen        int
	DeadlineAt time.Time

	// Note says, for the operator, why the lane is held or why the last
	// command was refused: in English (Note), and as a stable code with
	// its arguments for screens to translate (lane/notes.go).
	Note     string
	NoteCode string
	NoteArgs map[string]string
}

// Decision is an operator's release or refusal, as the lane shows it.
type Decision struct {
	Action   string `json:"action"` // ActionRelease or ActionRefuse
	Operator string `json:"operator"`
	Reason   string `json:"reason"`
}

// NewState returns an idle lane with cfg (defaults applied).
func NewState(cfg Config) State {
	return State{Config: cfg.WithDefaults(), Phase: PhaseIdle}
}

// Evidence items that Missing reports.
const (
	MissingPlate      = "plate"
	MissingDriverCard = "driver_card"
	MissingDriverFace = "driver_face"
	MissingEscortCard = "escort_card"
	MissingEscortFace = "escort_face"
	MissingWaybill    = "waybill"
	MissingWeight     = "weight" // a lane with a weighbridge
)

// Missing lists the evidence still awaited, in the order it is usually
// presented; empty when the evidence is complete. An unconfirmed plate counts
// as missing. An exit lane needs only the plate.
func (s State) Missing() []string {
	var m []string
	if s.Evidence.Plate == "" || s.PlateUnconfirmed {
		m = append(m, MissingPlate)
	}
	if s.Config.Exit {
		return m
	}
	if s.Evidence.Exempt != "" {
		// An emergency vehicle: its plate is all the lane waits for.
		return m
	}
	if s.Evidence.Driver == nil {
		m = append(m, MissingDriverCard, MissingDriverFace)
	} else if !s.DriverFace {
		m = append(m, MissingDriverFace)
	}
	if s.Evidence.Escort == nil {
		m = append(m, MissingEscortCard, MissingEscortFace)
	} else if !s.EscortFace {
		m = append(m, MissingEscortFace)
	}
	if s.Evidence.Waybill == "" {
		m = append(m, MissingWaybill)
	} else if s.lookupPending() {
		m = append(m, MissingWaybillLookup)
	}
	if s.Config.Weighbridge && s.Evidence.GrossKg == nil {
		m = append(m, MissingWeight)
	}
	return m
}

// Snapshot is a lane's current view, for the kiosk and the status feed. It
// shares nothing with the lane: it may be kept and read from any goroutine.
type Snapshot struct {
	Lane             string            `json:"lane"`
	Exit             bool              `json:"exit"`
	Phase            Phase             `json:"phase"`
	Evidence         checks.Evidence   `json:"evidence"`
	PlateUnconfirmed bool              `json:"plate_unconfirmed,omitempty"`
	Missing          []string          `json:"missing,omitempty"`
	InspectionID     string            `json:"inspection_id,omitempty"`
	Outcome          *checks.Outcome   `json:"outcome,omitempty"`
	EntryID          string            `json:"entry_id,omitempty"`
	Stay             time.Duration     `json:"stay_ns,omitempty"`
	BarrierCommanded BarrierCommand    `json:"barrier_commanded"`
	BarrierReported  BarrierState      `json:"barrier_reported"`
	ArrivalOccupied  bool              `json:"arrival_occupied"`
	SafetyOccupied   bool              `json:"safety_occupied"`
	Deadline         time.Time         `json:"deadline,omitzero"`
	Lockdown         bool              `json:"lockdown"`
	Faults           []string          `json:"faults,omitempty"`
	Releasing        bool              `json:"releasing,omitempty"`
	Decision         *Decision         `json:"decision,omitempty"` // recorded, or a refusal being recorded
	Note             string            `json:"note,omitempty"`
	NoteCode         string            `json:"note_code,omitempty"`
	NoteArgs         map[string]string `json:"note_args,omitempty"`
}

// Snapshot returns s's view as a Snapshot that shares no memory with s.
func (s State) Snapshot() Snapshot {
	snap := Snapshot{
		Lane:             s.Config.Name,
		Exit:             s.Config.Exit,
		Phase:            s.Phase,
		Evidence:         cloneEvidence(s.Evidence),
		PlateUnconfirmed: s.PlateUnconfirmed,
		InspectionID:     s.InspectionID,
		EntryID:          s.EntryID,
		Stay:             s.Stay,
		BarrierCommanded: s.Commanded,
		BarrierReported:  s.Reported,
		ArrivalOccupied:  s.Arrival,
		SafetyOccupied:   s.Safety,
		Deadline:         s.DeadlineAt,
		Lockdown:         s.Lockdown,
		Faults:           slices.Clone(s.Faults),
		Releasing:        s.Pending == ActionRelease,
		Note:             s.Note,
		NoteCode:         s.NoteCode,
		NoteArgs:         maps.Clone(s.NoteArgs),
	}
	if s.Phase == PhaseCollecting {
		snap.Missing = s.Missing()
	}
	if s.Decision.Action != "" && s.Pending == "" {
		d := s.Decision
		snap.Decision = &d
	}
	if s.Outcome != nil {
		o := cloneOutcome(*s.Outcome)
		snap.Outcome = &o
	}
	return snap
}

func cloneEvidence(e checks.Evidence) checks.Evidence {
	e.Driver = clonePerson(e.Driver)
	e.Escort = clonePerson(e.Escort)
	e.Steps = maps.Clone(e.Steps)
	e.GrossKg = cloneScore(e.GrossKg)
	e.WaybillLookup = e.WaybillLookup.Clone()
	return e
}

func clonePerson(p *checks.PersonEvidence) *checks.PersonEvidence {
	if p == nil {
		return nil
	}
	c := *p
	c.Face = cloneScore(p.Face)
	return &c
}

func cloneScore(f *float64) *float64 {
	if f == nil {
		return nil
	}
	v := *f
	return &v
}

func cloneOutcome(o checks.Outcome) checks.Outcome {
	o.Reasons = append([]checks.Reason(nil), o.Reasons...)
	checksCopy := make([]checks.CheckResult, len(o.Checks))
	for i, c := range o.Checks {
		c.Reasons = append([]checks.Reason(nil), c.Reasons...)
		checksCopy[i] = c
	}
	if o.Checks == nil {
		checksCopy = nil
	}
	o.Checks = checksCopy
	return o
}
