// Package lanes is a gate's set of lane runners as the outside sees it: the
// kiosk lists and commands them, the uplink reports them in status and
// carries out the safety office's signed commands on them.
//
// It imports checks, lane, store and uplink (whose Commander and
// StatusSource it implements) of ours; only appliance and sim may import it.
// The kiosk does not: it has a Lanes interface of its own.
package lanes

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/health"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/store"
	"github.com/hazgate/hazgate/uplink"
)

// Set is a gate's lanes.
type Set struct {
	mu      sync.Mutex
	runners []*lane.Runner
	health  map[string]health.Device // by device name
	watch   []func(lane.Snapshot)

	keep LockdownStore    // nil: a lock-down is not kept across restarts
	evac evacuation       // evacuation.go
	now  func() time.Time // the gate's clock, for keep

	// lockMu serialises lock-down switches, so that what is recorded and
	// what the lanes hold cannot cross (a lift's late send undoing a
	// lock-down recorded after it).
	lockMu sync.Mutex
	// switchWaits, when set, is called by a switch that finds another
	// under way, just before it waits for it: the seam a test orders two
	// switches with.
	switchWaits func()
}

// LockdownStore keeps the gate's lock-down across restarts (store.Store).
type LockdownStore interface {
	SetLockdown(ctx context.Context, on bool, by string, at time.Time) error
	Lockdown(ctx context.Context) (store.LockdownState, error)
}

var _ LockdownStore = (*store.Store)(nil)

var (
	_ uplink.Commander    = (*Set)(nil)
	_ uplink.StatusSource = (*Set)(nil)
)

// New returns an empty set; Add the runners in display order.
func New() *Set { return &Set{health: map[string]health.Device{}} }

// Add appends a runner.
func (l *Set) Add(r *lane.Runner) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.runners = append(l.runners, r)
}

// Watch registers f to be called with every lane change (see Changed).
func (l *Set) Watch(f func(lane.Snapshot)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.watch = append(l.watch, f)
}

// Changed is the lanes' lane.Deps.OnChange: it passes the snapshot to every
// watcher. Watchers must not block.
func (l *Set) Changed(s lane.Snapshot) {
	l.mu.Lock()
	ws := l.watch
	l.mu.Unlock()
	for _, f := range ws {
		f(s)
	}
}

// Snapshots returns every lane's view, in display order.
func (l *Set) Snapshots() []lane.Snapshot {
	l.mu.Lock()
	rs := l.runners
	l.mu.Unlock()
	out := make([]lane.Snapshot, len(rs))
	for i, r := range rs {
		out[i] = r.Snapshot()
	}
	return out
}

func (l *Set) runner(name string) *lane.Runner {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.runners {
		if r.Name() == name {
			return r
		}
	}
	return nil
}

// Alive returns nil once every lane's loop has turned (lane.Runner.Alive),
// each within ctx; otherwise an error that names the first lane whose loop
// did not turn, or that has stopped. The watchdog pings systemd only when
// it is nil.
func (l *Set) Alive(ctx context.Context) error {
	l.mu.Lock()
	rs := l.runners
	l.mu.Unlock()
	for _, r := range rs {
		switch err := r.Alive(ctx); {
		case err == nil:
		case errors.Is(err, lane.ErrStopped):
			return fmt.Errorf("lanes: lane %s has stopped", r.Name())
		default:
			return fmt.Errorf("lanes: lane %s is stuck: its loop did not turn in time", r.Name())
		}
	}
	return nil
}

// Send queues e for the lane named name; false when there is none.
func (l *Set) Send(name string, e lane.Event) bool {
	r := l.runner(name)
	if r == nil {
		return false
	}
	r.Send(e)
	return true
}

// SetDevice records a device's health for the status feed and the kiosk.
func (l *Set) SetDevice(d health.Device) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.health[d.Name] = d
}

// Devices returns every device's last health, sorted by name: the same
// health gives the same status, which the uplink republishes only when it
// changes.
func (l *Set) Devices() []health.Device {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]health.Device, 0, len(l.health))
	for _, d := range l.health {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b health.Device) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Status reports the lanes and devices for the uplink's status topic.
func (l *Set) Status() uplink.StatusReport {
	var r uplink.StatusReport
	for _, s := range l.Snapshots() {
		r.Lanes = append(r.Lanes, uplink.LaneStatusOf(s))
	}
	r.Devices = l.Devices()
	r.Evacuation = l.evacuationStatus()
	return r
}

// Open carries out the safety office's signed "open": it releases the
// vehicle held at the lane, recorded as a remote decision. With no held
// vehicle there is nothing the gate could record the opening against, so
// it refuses (the uplink raises command_failed).
func (l *Set) Open(_ context.Context, name, by string) error {
	r := l.runner(name)
	if r == nil {
		return fmt.Errorf("lanes: open: no lane %q", name)
	}
	s := r.Snapshot()
	if s.Phase != lane.PhaseHeld || s.InspectionID == "" {
		return fmt.Errorf("lanes: open: lane %s holds no inspected vehicle (phase %s)", name, s.Phase)
	}
	r.Send(lane.OperatorRelease{Operator: "remote:" + by, Reason: "signed open command from the safety office", InspectionID: s.InspectionID})
	return nil
}

// KeepLockdown makes Lockdown record the lock-down in st (stamped with
// now) before the lanes take it, and RestoreLockdown read it back.
func (l *Set) KeepLockdown(st LockdownStore, now func() time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.keep, l.now = st, now
}

// Lockdown puts every lane in lock-down, or lifts it; by says who (an
// operator, "remote:<key>"). With KeepLockdown, the change is recorded
// first, so that a restart does not lift a lock-down. Failing secure: a
// lock-down that cannot be recorded still locks the lanes (and reports the
// error: a restart would lift it); a lift that cannot be recorded is not
// made.
func (l *Set) Lockdown(ctx context.Context, on bool, by string) error {
	l.lockSwitch()
	defer l.lockMu.Unlock()
	l.mu.Lock()
	keep, now := l.keep, l.now
	l.mu.Unlock()
	if keep != nil {
		if err := keep.SetLockdown(ctx, on, by, now()); err != nil {
			if !on {
				return fmt.Errorf("lanes: lock-down not lifted, it could not be recorded: %w", err)
			}
			l.applyLockdown(true)
			return fmt.Errorf("lanes: locked down, but it could not be recorded (a restart would lift it): %w", err)
		}
	}
	l.applyLockdown(on)
	return nil
}

// RestoreLockdown puts every lane back in lock-down when the kept state
// says so; call it once the runners are added, before any vehicle can be
// let through (the lock-down is the first event the lanes take). A state
// that cannot be read locks the lanes down too: the gate cannot know.
func (l *Set) RestoreLockdown(ctx context.Context) (store.LockdownState, error) {
	l.lockSwitch()
	defer l.lockMu.Unlock()
	l.mu.Lock()
	keep := l.keep
	l.mu.Unlock()
	if keep == nil {
		return store.LockdownState{}, nil
	}
	st, err := keep.Lockdown(ctx)
	if err != nil {
		l.applyLockdown(true)
		return store.LockdownState{On: true}, fmt.Errorf("lanes: lock-down state unreadable, locked down: %w", err)
	}
	if st.On {
		l.applyLockdown(true)
	}
	return st, nil
}

// lockSwitch takes lockMu for one switch, telling switchWaits first when it
// has to wait for another.
func (l *Set) lockSwitch() {
	if l.lockMu.TryLock() {
		return
	}
	if l.switchWaits != nil {
		l.switchWaits()
	}
	l.lockMu.Lock()
}

func (l *Set) applyLockdown(on bool) {
	l.mu.Lock()
	rs := l.runners
	l.mu.Unlock()
	for _, r := range rs {
		r.Send(lane.Lockdown{On: on})
	}
}

// Release carries out the safety office's signed "release": it lets the
// held inspection inspectionID through, recorded as the named operator's
// release, as a release at the kiosk is. Remotely only a review is
// released, never a reject, and only the inspection named: anything else
// is refused with the reason (the uplink raises command_failed), and the
// lane itself checks the id again when it takes the release.
func (l *Set) Release(_ context.Context, name, inspectionID, operator, reason string) error {
	r := l.runner(name)
	if r == nil {
		return fmt.Errorf("lanes: release: no lane %q", name)
	}
	if inspectionID == "" {
		return fmt.Errorf("lanes: release: lane %s: no inspection named", name)
	}
	s := r.Snapshot()
	switch {
	case s.Phase != lane.PhaseHeld || s.InspectionID == "":
		return fmt.Errorf("lanes: release: lane %s holds no inspected vehicle (phase %s)", name, s.Phase)
	case s.InspectionID != inspectionID:
		return fmt.Errorf("lanes: release: lane %s holds inspection %s, not %s", name, s.InspectionID, inspectionID)
	case s.Outcome == nil || s.Outcome.Verdict != checks.VerdictReview:
		verdict := "unknown"
		if s.Outcome != nil {
			verdict = string(s.Outcome.Verdict)
		}
		return fmt.Errorf("lanes: release: inspection %s has the verdict %s: only a review may be released remotely", inspectionID, verdict)
	case s.Lockdown:
		return fmt.Errorf("lanes: release: lane %s is in lock-down", name)
	case s.Releasing:
		return fmt.Errorf("lanes: release: a release of inspection %s is already being recorded", inspectionID)
	case s.Decision != nil && s.Decision.Action == lane.ActionRefuse:
		return fmt.Errorf("lanes: release: inspection %s was refused by %s: the case is closed", inspectionID, s.Decision.Operator)
	}
	r.Send(lane.OperatorRelease{Operator: operator, Reason: reason, InspectionID: inspectionID})
	return nil
}

// Resync has nothing cached to drop: the registry is swapped whole on every
// import or delta, and devices reopen themselves.
func (l *Set) Resync(context.Context) error { return nil }
