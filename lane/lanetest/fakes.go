// Package lanetest provides fakes of the lane runner's dependencies (a
// recording barrier, a decider, a face matcher, a recorder) and a helper that
// drives runners on a fake clock. Tests build lanes from them.
//
// Each fake is a plain struct with exported fields and a mutex; while a runner
// uses a fake, read or change its fields inside Do.
//
// Only tests import it.
package lanetest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/lane"
)

var (
	_ lane.Barrier     = (*Barrier)(nil)
	_ lane.Decider     = (*Decider)(nil)
	_ lane.FaceMatcher = (*FaceMatcher)(nil)
	_ lane.Recorder    = (*Recorder)(nil)
)

// Barrier records the commands it is given.
type Barrier struct {
	mu sync.Mutex
	// Commands is every command, in order: lane.CommandUp or
	// lane.CommandDown (failed ones too).
	Commands []lane.BarrierCommand
	// OpenErr and CloseErr, when set, are returned by Open and Close.
	OpenErr, CloseErr error
}

// Open records lane.CommandUp.
func (b *Barrier) Open() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.Commands = append(b.Commands, lane.CommandUp)
	return b.OpenErr
}

// Close records lane.CommandDown.
func (b *Barrier) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.Commands = append(b.Commands, lane.CommandDown)
	return b.CloseErr
}

// Do runs f with the barrier's mutex held.
func (b *Barrier) Do(f func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f()
}

// Log returns a copy of Commands.
func (b *Barrier) Log() []lane.BarrierCommand {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]lane.BarrierCommand(nil), b.Commands...)
}

// Decider returns a configured outcome and numbers its inspections
// "<lane>-1", "<lane>-2"...
type Decider struct {
	mu sync.Mutex
	// Outcome is returned when Func is nil and Err is nil.
	Outcome checks.Outcome
	// Err, when set, is returned instead (nothing committed).
	Err error
	// Func, when set, decides instead of Outcome and Err.
	Func func(ev checks.Evidence, now time.Time) (checks.Outcome, error)
	// Calls is the evidence of every call, in order.
	Calls []checks.Evidence
	n     int
}

// Decide records the call and answers with Func, or Err, or Outcome.
func (d *Decider) Decide(_ context.Context, laneName string, ev checks.Evidence, now time.Time) (string, checks.Outcome, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.Calls = append(d.Calls, ev)
	out, err := d.Outcome, d.Err
	if d.Func != nil {
		out, err = d.Func(ev, now)
	}
	if err != nil {
		return "", checks.Outcome{}, err
	}
	d.n++
	return fmt.Sprintf("%s-%d", laneName, d.n), out, nil
}

// Do runs f with the decider's mutex held.
func (d *Decider) Do(f func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f()
}

// Evidence returns a copy of Calls.
func (d *Decider) Evidence() []checks.Evidence {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]checks.Evidence(nil), d.Calls...)
}

// Outcome returns an outcome with this verdict and no check results.
func Outcome(v checks.Verdict) checks.Outcome { return checks.Outcome{Verdict: v} }

// FaceMatcher answers with a configured score per ID number. Without a Clock
// it answers from within Match; with one, from a Clock timer after Delay.
type FaceMatcher struct {
	mu sync.Mutex
	// Scores by ID number; a person not in it gets no score.
	Scores map[string]float64
	Clock  clock.Clock
	Delay  time.Duration
	// Calls is every person asked about, in order.
	Calls []checks.PersonEvidence
}

// Match records the call and answers.
func (f *FaceMatcher) Match(_ context.Context, _ string, p checks.PersonEvidence, done func(score *float64)) {
	f.mu.Lock()
	f.Calls = append(f.Calls, p)
	var score *float64
	if v, ok := f.Scores[p.IDNumber]; ok {
		score = &v
	}
	clk, delay := f.Clock, f.Delay
	f.mu.Unlock()
	if clk == nil {
		done(score)
		return
	}
	clk.AfterFunc(delay, func() { done(score) })
}

// Do runs fn with the matcher's mutex held.
func (f *FaceMatcher) Do(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
}

// Passage is one RecordPassage call.
type Passage struct {
	Lane, InspectionID string
	Direction          lane.Direction
	At                 time.Time
}

// Decision is one RecordDecision call.
type Decision struct {
	Lane, InspectionID, Operator, Action, Reason string
	At                                           time.Time
}

// Exit is one RecordExit call.
type Exit struct {
	Lane, Plate string
	At          time.Time
}

// Alarm is one RaiseAlarm call.
type Alarm struct {
	Lane, Kind, Detail string
	At                 time.Time
}

// Recorder keeps every record it is given (failed ones too) and answers
// RecordExit with EntryID and Stay.
type Recorder struct {
	mu         sync.Mutex
	Passages   []Passage
	Decisions  []Decision
	Exits      []Exit
	Alarms     []Alarm
	EntryID    string
	Stay       time.Duration
	PassageErr error
	// DecisionErr, ExitErr and AlarmErr, when set, are returned by their
	// calls.
	DecisionErr, ExitErr, AlarmErr error
}

// RecordPassage records a passage.
func (r *Recorder) RecordPassage(_ context.Context, laneName, inspectionID string, direction lane.Direction, at time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Passages = append(r.Passages, Passage{laneName, inspectionID, direction, at})
	return r.PassageErr
}

// RecordDecision records an operator's decision.
func (r *Recorder) RecordDecision(_ context.Context, laneName, inspectionID, operator, action, reason string, at time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Decisions = append(r.Decisions, Decision{laneName, inspectionID, operator, action, reason, at})
	return r.DecisionErr
}

// RecordExit records an exit.
func (r *Recorder) RecordExit(_ context.Context, laneName, plate string, at time.Time) (string, time.Duration, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Exits = append(r.Exits, Exit{laneName, plate, at})
	if r.ExitErr != nil {
		return "", 0, r.ExitErr
	}
	return r.EntryID, r.Stay, nil
}

// RaiseAlarm records an alarm.
func (r *Recorder) RaiseAlarm(_ context.Context, laneName, kind, detail string, at time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Alarms = append(r.Alarms, Alarm{laneName, kind, detail, at})
	return r.AlarmErr
}

// Do runs f with the recorder's mutex held.
func (r *Recorder) Do(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f()
}

// AlarmKinds returns the kinds of the alarms raised so far, in order.
func (r *Recorder) AlarmKinds() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.Alarms))
	for i, a := range r.Alarms {
		out[i] = a.Kind
	}
	return out
}

// Syncer is what AdvanceTo waits on; *lane.Runner is one.
type Syncer interface {
	Sync(ctx context.Context) error
}

// AdvanceTo moves clk to t one timer instant at a time; before and after each
// step it waits until every lane has handled what the timers caused, so each
// event is handled at the fake time it happened and timers that those events
// start are fired in turn.
func AdvanceTo(ctx context.Context, clk *clock.Fake, t time.Time, lanes ...Syncer) error {
	if err := syncAll(ctx, lanes); err != nil {
		return err
	}
	for {
		next, ok := clk.Next()
		if !ok || next.After(t) {
			break
		}
		clk.AdvanceTo(next)
		if err := syncAll(ctx, lanes); err != nil {
			return err
		}
	}
	clk.AdvanceTo(t)
	return syncAll(ctx, lanes)
}

func syncAll(ctx context.Context, lanes []Syncer) error {
	for _, l := range lanes {
		if err := l.Sync(ctx); err != nil {
			return err
		}
	}
	return nil
}
