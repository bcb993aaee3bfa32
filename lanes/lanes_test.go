package lanes

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/health"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/lane/lanetest"
	"github.com/hazgate/hazgate/store"
)

// newSet runs one entry lane whose decisions are always review.
func newSet(t *testing.T) (*Set, *lane.Runner, *lanetest.Barrier) {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC))
	s := New()
	b := &lanetest.Barrier{}
	r := lane.NewRunner(lane.Config{Name: "in-1"}, lane.Deps{
		Clock: clk, Barrier: b, Decider: &lanetest.Decider{Outcome: lanetest.Outcome(checks.VerdictReview)},
		Recorder: &lanetest.Recorder{}, OnChange: s.Changed,
	})
	s.Add(r)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return s, r, b
}

func held(t *testing.T, s *Set, r *lane.Runner) lane.Snapshot {
	t.Helper()
	s.Send("in-1", lane.VehiclePresent{})
	s.Send("in-1", lane.DeadlinePassed{Gen: 1})
	if err := r.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	snap := r.Snapshot()
	if snap.Phase != lane.PhaseHeld || snap.InspectionID == "" {
		t.Fatalf("phase %s, inspection %q: want held", snap.Phase, snap.InspectionID)
	}
	return snap
}

func TestOpenReleasesOnlyAHeldVehicle(t *testing.T) {
	ctx := context.Background()
	s, r, b := newSet(t)
	if err := s.Open(ctx, "in-1", "office"); err == nil {
		t.Fatal("open of an idle lane was accepted")
	}
	if err := s.Open(ctx, "in-9", "office"); err == nil {
		t.Fatal("open of an unknown lane was accepted")
	}
	held(t, s, r)
	if err := s.Open(ctx, "in-1", "office"); err != nil {
		t.Fatal(err)
	}
	r.Sync(ctx)
	if got := b.Log(); len(got) == 0 || got[len(got)-1] != lane.CommandUp {
		t.Fatalf("barrier commands %v: want the release to open", got)
	}
}

func TestLockdownAndStatus(t *testing.T) {
	ctx := context.Background()
	s, r, _ := newSet(t)
	var seen int
	s.Watch(func(lane.Snapshot) { seen++ })
	if err := s.Lockdown(ctx, true, "office"); err != nil {
		t.Fatal(err)
	}
	r.Sync(ctx)
	s.SetDevice(health.Device{Name: "in-1/idcard", Kind: "idcard", Lane: "in-1", OK: false, State: "fault"})
	st := s.Status()
	if len(st.Lanes) != 1 || !st.Lanes[0].Lockdown || len(st.Devices) != 1 || st.Devices[0].OK {
		t.Fatalf("status %+v", st)
	}
	if seen == 0 {
		t.Fatal("watchers saw no change")
	}
	// Devices come sorted by name, so the same health is the same status.
	for _, n := range []string{"in-1/scanner", "in-1/gpio", "in-1/escort_idcard"} {
		s.SetDevice(health.Device{Name: n, Lane: "in-1", OK: true, State: "ok"})
	}
	var names []string
	for _, d := range s.Devices() {
		names = append(names, d.Name)
	}
	if want := []string{"in-1/escort_idcard", "in-1/gpio", "in-1/idcard", "in-1/scanner"}; !slices.Equal(names, want) {
		t.Fatalf("devices %v, want %v", names, want)
	}
	if s.Send("nope", lane.VehiclePresent{}) {
		t.Fatal("Send to an unknown lane reported true")
	}
}

// lockedDown reports whether the lane is locked down once it has taken every
// event sent so far.
func lockedDown(t *testing.T, s *Set, r *lane.Runner) bool {
	t.Helper()
	if err := r.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := s.Status()
	return len(st.Lanes) == 1 && st.Lanes[0].Lockdown
}

// A lock-down is recorded in the store before the lanes take it, and a new
// set of lanes over the same store (a restart) starts locked down; lifting
// it is recorded too.
func TestLockdownKeptAcrossRestart(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "gate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := func() time.Time { return time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC) }

	s, r, _ := newSet(t)
	s.KeepLockdown(st, now)
	if err := s.Lockdown(ctx, true, "remote:office"); err != nil {
		t.Fatal(err)
	}
	if !lockedDown(t, s, r) {
		t.Fatal("the lane is not locked down")
	}

	s2, r2, _ := newSet(t) // the restart
	s2.KeepLockdown(st, now)
	if ls, err := s2.RestoreLockdown(ctx); err != nil || !ls.On || ls.By != "remote:office" {
		t.Fatalf("RestoreLockdown = %+v, %v", ls, err)
	}
	if !lockedDown(t, s2, r2) {
		t.Fatal("after the restart the lane is not locked down")
	}
	if err := s2.Lockdown(ctx, false, "operator:chen"); err != nil {
		t.Fatal(err)
	}
	if lockedDown(t, s2, r2) {
		t.Fatal("the lift did not reach the lane")
	}
	s3, r3, _ := newSet(t)
	s3.KeepLockdown(st, now)
	if ls, err := s3.RestoreLockdown(ctx); err != nil || ls.On {
		t.Fatalf("RestoreLockdown after the lift = %+v, %v", ls, err)
	}
	if lockedDown(t, s3, r3) {
		t.Fatal("a lifted lock-down came back after a restart")
	}
}

// brokenLockdownStore fails every call, as a store on a failing disk.
type brokenLockdownStore struct{}

func (brokenLockdownStore) SetLockdown(context.Context, bool, string, time.Time) error {
	return errors.New("disk I/O error")
}

func (brokenLockdownStore) Lockdown(context.Context) (store.LockdownState, error) {
	return store.LockdownState{}, errors.New("disk I/O error")
}

// When the lock-down cannot be recorded or read, the lanes fail secure: a
// lock-down still locks them, a lift is refused, and an unreadable state
// locks them down.
func TestLockdownFailsSecure(t *testing.T) {
	ctx := context.Background()
	now := time.Now
	s, r, _ := newSet(t)
	s.KeepLockdown(brokenLockdownStore{}, now)
	if err := s.Lockdown(ctx, true, "operator:chen"); err == nil {
		t.Fatal("a lock-down that was not recorded reported no error")
	}
	if !lockedDown(t, s, r) {
		t.Fatal("a lock-down that could not be recorded did not lock the lane")
	}
	if err := s.Lockdown(ctx, false, "operator:chen"); err == nil {
		t.Fatal("a lift that could not be recorded reported no error")
	}
	if !lockedDown(t, s, r) {
		t.Fatal("a lift that could not be recorded was made")
	}

	s2, r2, _ := newSet(t)
	s2.KeepLockdown(brokenLockdownStore{}, now)
	if _, err := s2.RestoreLockdown(ctx); err == nil {
		t.Fatal("an unreadable lock-down state reported no error")
	}
	if !lockedDown(t, s2, r2) {
		t.Fatal("an unreadable lock-down state left the lane open to passes")
	}
}

// pausingStore records the lock-down; a lift pauses inside its write until
// told (a slow fsync), and a lock-down says when it is written.
type pausingStore struct {
	mu      sync.Mutex
	on      bool
	liftHit chan struct{}
	resume  chan struct{}
	lockHit chan struct{}
}

func (p *pausingStore) SetLockdown(_ context.Context, on bool, _ string, _ time.Time) error {
	p.mu.Lock()
	p.on = on
	p.mu.Unlock()
	if on {
		close(p.lockHit)
		return nil
	}
	close(p.liftHit)
	<-p.resume
	return nil
}

func (p *pausingStore) Lockdown(context.Context) (store.LockdownState, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return store.LockdownState{On: p.on}, nil
}

// A lift and a lock-down at the same moment (the safety office's command,
// the kiosk) end with the lanes holding what the store recorded last: the
// switches are serialised, so a lift's late send cannot undo a lock-down
// recorded after it.
func TestLockdownSwitchesSerialised(t *testing.T) {
	ctx := context.Background()
	s, r, _ := newSet(t)
	p := &pausingStore{liftHit: make(chan struct{}), resume: make(chan struct{}), lockHit: make(chan struct{})}
	s.KeepLockdown(p, time.Now)
	waits := make(chan struct{})
	var once sync.Once
	s.switchWaits = func() { once.Do(func() { close(waits) }) }
	lifted := make(chan error, 1)
	go func() { lifted <- s.Lockdown(ctx, false, "remote:office") }()
	<-p.liftHit // the lift is inside its write
	locked := make(chan error, 1)
	go func() { locked <- s.Lockdown(ctx, true, "operator:op") }()
	select {
	case <-waits: // serialised: the lock-down waits for the lift
	case <-p.lockHit:
		t.Fatal("the lock-down was written while the lift was inside its write: the switches are not serialised")
	case <-time.After(10 * time.Second):
		t.Fatal("the lock-down neither waited for the lift nor was written")
	}
	close(p.resume)
	if err := <-lifted; err != nil {
		t.Fatal(err)
	}
	if err := <-locked; err != nil {
		t.Fatal(err)
	}
	st, _ := p.Lockdown(ctx)
	if got := lockedDown(t, s, r); got != st.On {
		t.Fatalf("the store says locked down %v, the lane %v", st.On, got)
	}
}

// The safety office's release of a vehicle an operator refused is refused:
// the refusal closed the case.
func TestReleaseOfARefusedVehicleRefused(t *testing.T) {
	s, r, b := newSet(t)
	snap := held(t, s, r)
	s.Send("in-1", lane.OperatorRefuse{Operator: "王五", Reason: "押运员未到场", InspectionID: snap.InspectionID})
	if err := r.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	err := s.Release(context.Background(), "in-1", snap.InspectionID, "remote:office", "checked by phone")
	if err == nil || !strings.Contains(err.Error(), "refused by 王五") {
		t.Fatalf("Release of a refused inspection = %v, want it refused naming who refused", err)
	}
	if err := r.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(b.Log(), lane.CommandUp) {
		t.Fatalf("barrier commands %v: opened after a refusal", b.Log())
	}
}

// Alive is nil while every lane turns, and names the lane whose loop is
// stuck (blocked here inside a watcher, called from the lane goroutine).
func TestAliveNamesAStuckLane(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, r, _ := newSet(t)
	if err := s.Alive(ctx); err != nil {
		t.Fatalf("Alive = %v", err)
	}
	entered, unblock := make(chan struct{}), make(chan struct{})
	var once sync.Once
	s.Watch(func(snap lane.Snapshot) {
		if snap.Lockdown {
			once.Do(func() { close(entered); <-unblock })
		}
	})
	r.Send(lane.Lockdown{On: true})
	<-entered
	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	err := s.Alive(short)
	cancelShort()
	if err == nil || !strings.Contains(err.Error(), "lane in-1 is stuck") {
		t.Fatalf("Alive with in-1 stuck = %v", err)
	}
	close(unblock)
	if err := s.Alive(ctx); err != nil {
		t.Fatalf("Alive once in-1 turns again = %v", err)
	}
}
