package lane

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
)

// Barrier is the barrier relay as the lane drives it. An error means the
// command may or may not have taken effect.
type Barrier interface {
	Open() error
	Close() error
}

// Decider runs the checks on the evidence and commits the inspection's record
// (with its outbox message) before returning. It must bound its own time: the
// lane waits for it. An error means nothing was committed.
type Decider interface {
	Decide(ctx context.Context, lane string, ev checks.Evidence, now time.Time) (inspectionID string, out checks.Outcome, err error)
}

// FaceMatcher scores a person's live face against their card photo. Match
// returns at once and calls done exactly once later, from any goroutine (or
// from within Match); a nil score means no score.
type FaceMatcher interface {
	Match(ctx context.Context, lane string, p checks.PersonEvidence, done func(score *float64))
}

// Recorder commits the lane's other records. RecordExit links an exit to the
// vehicle's entry (entryID is empty when none is found) and says how long the
// vehicle stayed.
type Recorder interface {
	RecordPassage(ctx context.Context, lane, inspectionID string, direction Direction, at time.Time) error
	RecordDecision(ctx context.Context, lane, inspectionID, operator, action, reason string, at time.Time) error
	RecordExit(ctx context.Context, lane, plate string, at time.Time) (entryID string, stay time.Duration, err error)
	RaiseAlarm(ctx context.Context, lane, kind, detail string, at time.Time) error
}

// Deps are what a Runner drives. Barrier and Recorder are required, and
// Decider on an entry lane. Clock defaults to the real clock, Log to
// discarding; a nil Faces gives every person "no score". OnChange, when set,
// is called from the lane goroutine with the lane's view after every event that
// changed it; it must not block nor call Sync (Send and Snapshot are fine).
type Deps struct {
	Clock    clock.Clock
	Barrier  Barrier
	Decider  Decider
	Faces    FaceMatcher
	Recorder Recorder
	// Waybills looks scanned waybills up (Config.LookupWaybill); nil
	// answers every lookup Unavailable at once.
	Waybills WaybillLooker
	Log      *slog.Logger
	OnChange func(Snapshot)
}

// ErrStopped is returned by Sync when the lane's Run has returned.
var ErrStopped = errors.New("lane: runner stopped")

// Runner runs one lane: one goroutine (Run) takes events from an unbounded
// queue, steps the machine and executes its actions.
type Runner struct {
	cfg  Config
	deps Deps
	log  *slog.Logger

	wake  chan struct{} // a token when the queue may be non-empty
	done  chan struct{} // closed when Run returns
	probe chan struct{} // Alive's probe, taken by the lane goroutine on its loop

	mu      sync.Mutex
	queue   []queued
	busy    bool          // the lane goroutine is handling an event
	quiet   chan struct{} // closed at the next busy -> idle-and-empty transition
	started bool
	snap    Snapshot

	// Owned by the lane goroutine.
	state State
	last  time.Time
	timer clock.Timer
}

type queued struct {
	e  Event
	at time.Time
}

// NewRunner returns a lane runner; start it with Run. It panics when a
// required dependency is missing (a wiring mistake).
func NewRunner(cfg Config, deps Deps) *Runner {
	cfg = cfg.WithDefaults()
	if deps.Barrier == nil || deps.Recorder == nil || (deps.Decider == nil && !cfg.Exit) {
		panic("lane: NewRunner " + cfg.Name + ": Barrier, Recorder and (on an entry lane) Decider are required")
	}
	if deps.Clock == nil {
		deps.Clock = clock.Real{}
	}
	log := deps.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := NewState(cfg)
	return &Runner{
		cfg:   cfg,
		deps:  deps,
		log:   log.With("lane", cfg.Name),
		wake:  make(chan struct{}, 1),
		done:  make(chan struct{}),
		probe: make(chan struct{}),
		quiet: make(chan struct{}),
		snap:  s.Snapshot(),
		state: s,
	}
}

// Name returns the lane's name.
func (r *Runner) Name() string { return r.cfg.Name }

// Send queues an event for the lane. It never blocks and never drops; it is
// safe from any goroutine, including from within a clock timer or a
// FaceMatcher's done. The event is stamped with the clock's time now.
func (r *Runner) Send(e Event) {
	if e == nil {
		return
	}
	r.mu.Lock()
	r.queue = append(r.queue, queued{e: e, at: r.deps.Clock.Now()})
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Sync returns once the lane is quiet: every event sent before the call, and
// every event those caused (answers to actions, and events sent from within
// their handling, such as a face score delivered at once), has been
// processed. If other goroutines keep sending, Sync waits for them too. It
// returns ctx's error, or ErrStopped when Run has returned.
func (r *Runner) Sync(ctx context.Context) error {
	for {
		r.mu.Lock()
		if len(r.queue) == 0 && !r.busy {
			r.mu.Unlock()
			return nil
		}
		quiet := r.quiet
		r.mu.Unlock()
		select {
		case <-quiet:
		case <-r.done:
			return ErrStopped
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Alive returns nil once the lane goroutine has come round its loop: it
// takes Alive's probe between two events or while it waits for one, so a
// lane stuck inside an event (a device call that never returns) leaves
// Alive waiting until ctx ends, with ctx's error. It returns ErrStopped when
// Run has returned, and ctx's error when Run has not started. The watchdog
// asks it of every lane before each ping.
func (r *Runner) Alive(ctx context.Context) error {
	select {
	case r.probe <- struct{}{}:
		return nil
	case <-r.done:
		return ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Snapshot returns a copy of the lane's current view.
func (r *Runner) Snapshot() Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.snap.clone()
}

// Run is the lane goroutine: it handles events until ctx is done, then
// returns nil. Run may be called once.
func (r *Runner) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.started {
		r.mu.Unlock()
		return errors.New("lane: " + r.cfg.Name + ": Run called twice")
	}
	r.started = true
	r.mu.Unlock()
	defer close(r.done)
	defer r.stopTimer()
	r.log.Info("lane running", "exit", r.cfg.Exit, "deadline", r.cfg.Deadline)
	for {
		if ctx.Err() != nil {
			return nil
		}
		select {
		case <-r.probe: // alive, between two events
		default:
		}
		q, ok := r.next()
		if !ok {
			select {
			case <-ctx.Done():
				return nil
			case <-r.wake:
			case <-r.probe:
			}
			continue
		}
		r.handle(ctx, q)
	}
}

// next pops the next event, marking the lane busy; with none left it marks the
// lane quiet.
func (r *Runner) next() (queued, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.queue) == 0 {
		if r.busy {
			r.busy = false
			close(r.quiet)
			r.quiet = make(chan struct{})
		}
		return queued{}, false
	}
	q := r.queue[0]
	r.queue[0] = queued{}
	r.queue = r.queue[1:]
	if len(r.queue) == 0 {
		r.queue = nil // let the backing array go
	}
	r.busy = true
	return q, true
}

// handle steps the machine with q and executes the actions, handling their
// answers before anything else.
func (r *Runner) handle(ctx context.Context, q queued) {
	pending := []queued{q}
	for len(pending) > 0 {
		q := pending[0]
		pending = pending[1:]
		now := q.at
		if now.Before(r.last) {
			now = r.last // keep the lane's time monotonic
		}
		r.last = now
		next, acts, err := Step(r.state, q.e, now)
		if err != nil {
			// A wiring mistake, not a lane's trouble: the lane goes on as
			// it was.
			r.log.Error("event not handled", "event", q.e.String(), "err", err)
			continue
		}
		r.state = next
		if r.log.Enabled(ctx, slog.LevelDebug) {
			r.log.Debug("event", "event", q.e.String(), "phase", string(next.Phase), "actions", len(acts))
		}
		r.publish()
		for _, a := range acts {
			if answer := r.exec(ctx, a, now); answer != nil {
				pending = append(pending, queued{e: answer, at: r.deps.Clock.Now()})
			}
		}
	}
}

// publish stores the lane's view and tells OnChange, when it changed.
func (r *Runner) publish() {
	snap := r.state.Snapshot()
	r.mu.Lock()
	same := reflect.DeepEqual(snap, r.snap)
	if !same {
		r.snap = snap
	}
	r.mu.Unlock()
	if !same && r.deps.OnChange != nil {
		r.deps.OnChange(snap.clone())
	}
}

// exec carries out one action and returns the event that answers it, if any.
func (r *Runner) exec(ctx context.Context, a Action, now time.Time) Event {
	name := r.cfg.Name
	switch a := a.(type) {
	case StartDeadline:
		r.stopTimer()
		gen := a.Gen
		r.timer = r.deps.Clock.AfterFunc(a.After, func() { r.Send(DeadlinePassed{Gen: gen}) })
	case CancelDeadline:
		r.stopTimer()
	case MatchFace:
		id := a.Person.IDNumber
		if r.deps.Faces == nil {
			return FaceScored{IDNumber: id}
		}
		var once sync.Once
		r.deps.Faces.Match(ctx, name, a.Person, func(score *float64) {
			once.Do(func() { r.Send(FaceScored{IDNumber: id, Score: cloneScore(score)}) })
		})
	case LookupWaybill:
		n := a.Number
		if r.deps.Waybills == nil {
			return WaybillLooked{Lookup: checks.WaybillLookup{Number: n, Unavailable: true, Detail: "no waybill service"}}
		}
		var once sync.Once
		r.deps.Waybills.Lookup(ctx, name, n, func(l checks.WaybillLookup) {
			once.Do(func() {
				l.Number = n
				r.Send(WaybillLooked{Lookup: *l.Clone()})
			})
		})
	case Decide:
		id, out, err := r.deps.Decider.Decide(ctx, name, a.Evidence, now)
		if err != nil {
			r.log.Error("inspection not recorded", "plate", a.Evidence.Plate, "err", err)
			return DecideFailed{Err: err}
		}
		r.log.Info("inspection decided", "inspection", id, "plate", a.Evidence.Plate, "verdict", string(out.Verdict), "deadline_exceeded", a.Evidence.DeadlineExceeded)
		return Decided{InspectionID: id, Outcome: out}
	case OpenBarrier:
		if err := r.deps.Barrier.Open(); err != nil {
			r.log.Error("barrier open failed", "why", a.Why, "err", err)
			return BarrierFailed{Command: CommandUp, Err: err}
		}
		r.log.Info("barrier opened", "why", a.Why, "inspection", r.state.InspectionID)
	case CloseBarrier:
		if err := r.deps.Barrier.Close(); err != nil {
			r.log.Error("barrier close failed", "err", err)
			return BarrierFailed{Command: CommandDown, Err: err}
		}
		r.log.Info("barrier closed")
	case RecordPassage:
		if err := r.deps.Recorder.RecordPassage(ctx, name, a.InspectionID, a.Direction, now); err != nil {
			return RecordFailed{What: RecordWhatPassage, InspectionID: a.InspectionID, Err: err}
		}
		r.log.Info("passage", "inspection", a.InspectionID, "direction", a.Direction)
	case RecordDecision:
		if err := r.deps.Recorder.RecordDecision(ctx, name, a.InspectionID, a.Operator, a.Action, a.Reason, now); err != nil {
			return RecordFailed{What: RecordWhatDecision, InspectionID: a.InspectionID, Err: err}
		}
		r.log.Info("operator decision", "inspection", a.InspectionID, "operator", a.Operator, "action", a.Action, "reason", a.Reason)
		return DecisionRecorded{InspectionID: a.InspectionID, Action: a.Action}
	case RecordExit:
		entry, stay, err := r.deps.Recorder.RecordExit(ctx, name, a.Plate, now)
		if err != nil {
			return RecordFailed{What: RecordWhatExit, Err: err}
		}
		r.log.Info("exit recorded", "plate", a.Plate, "inspection", entry, "stay", stay)
		return ExitRecorded{EntryID: entry, Stay: stay}
	case RaiseAlarm:
		r.log.Warn("alarm", "kind", a.Kind, "detail", a.Detail)
		if err := r.deps.Recorder.RaiseAlarm(ctx, name, a.Kind, a.Detail, now); err != nil {
			// Nothing left to tell: an alarm about a failed alarm would
			// fail the same way.
			r.log.Error("alarm not recorded", "kind", a.Kind, "err", err)
		}
	}
	return nil
}

func (r *Runner) stopTimer() {
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
}

func (s Snapshot) clone() Snapshot {
	s.Evidence = cloneEvidence(s.Evidence)
	s.Missing = append([]string(nil), s.Missing...)
	if s.Outcome != nil {
		o := cloneOutcome(*s.Outcome)
		s.Outcome = &o
	}
	return s
}
