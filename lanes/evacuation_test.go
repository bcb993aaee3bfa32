package lanes

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/lane/lanetest"
	"github.com/hazgate/hazgate/store"
)

// gateLanes is a set with an entry lane (every decision a pass) and an exit
// lane, and their barriers.
type gateLanes struct {
	s           *Set
	in, out     *lane.Runner
	inB, outB   *lanetest.Barrier
	outRecorder *lanetest.Recorder
}

func newGateLanes(t *testing.T, st EvacuationStore) *gateLanes {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC))
	g := &gateLanes{s: New(), inB: &lanetest.Barrier{}, outB: &lanetest.Barrier{}, outRecorder: &lanetest.Recorder{}}
	g.in = lane.NewRunner(lane.Config{Name: "in-1"}, lane.Deps{
		Clock: clk, Barrier: g.inB, Decider: &lanetest.Decider{Outcome: lanetest.Outcome(checks.VerdictPass)},
		Recorder: &lanetest.Recorder{}, OnChange: g.s.Changed,
	})
	g.out = lane.NewRunner(lane.Config{Name: "out-1", Exit: true}, lane.Deps{
		Clock: clk, Barrier: g.outB, Decider: &lanetest.Decider{}, Recorder: g.outRecorder, OnChange: g.s.Changed,
	})
	g.s.Add(g.in)
	g.s.Add(g.out)
	if st != nil {
		g.s.KeepEvacuation(st, clk.Now)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	for _, r := range []*lane.Runner{g.in, g.out} {
		go func() { defer func() { done <- struct{}{} }(); r.Run(ctx) }()
	}
	t.Cleanup(func() { cancel(); <-done; <-done })
	return g
}

// sync waits until both lanes took every event sent so far.
func (g *gateLanes) sync(t *testing.T) {
	t.Helper()
	for _, r := range []*lane.Runner{g.in, g.out} {
		if err := r.Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// evacuating checks both lanes and the status against want: the exit lane
// held open, the entry lane closed.
func (g *gateLanes) evacuating(t *testing.T, want bool) {
	t.Helper()
	g.sync(t)
	out, in := g.out.Snapshot(), g.in.Snapshot()
	if out.Evacuation != want || in.Evacuation != want {
		t.Fatalf("evacuation: exit lane %t, entry lane %t, want %t", out.Evacuation, in.Evacuation, want)
	}
	if want && (out.Phase != lane.PhaseEvacuating || out.BarrierCommanded != lane.CommandUp) {
		t.Fatalf("exit lane %s, barrier %s: want held open", out.Phase, out.BarrierCommanded)
	}
	if in.BarrierCommanded == lane.CommandUp {
		t.Fatal("the entry lane's barrier is up")
	}
	st := g.s.Status()
	if (st.Evacuation != nil) != want {
		t.Fatalf("status evacuation = %+v, want on %t", st.Evacuation, want)
	}
	for _, l := range st.Lanes {
		if l.Evacuation != want {
			t.Fatalf("status lane %s evacuation = %t", l.Lane, l.Evacuation)
		}
	}
}

// The office's evacuation holds the exit lane open and the entry lane
// closed; the kiosk cannot end it; a restart keeps it; the office ends it,
// and the exit lane closes. And the other way round for the kiosk's.
func TestEvacuationEndedOnlyByItsAuthority(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "gate.db")
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { st.Close() }()

	g := newGateLanes(t, st)
	if err := g.s.Evacuate(ctx, true, "alice"); err != nil {
		t.Fatal(err)
	}
	g.evacuating(t, true)
	if got := g.outB.Log(); len(got) != 1 || got[0] != lane.CommandUp {
		t.Fatalf("exit barrier commands %v, want one up", got)
	}
	if s := g.s.Status().Evacuation; s.Authority != store.EvacuationByOffice || s.By != "remote:alice" {
		t.Fatalf("status evacuation %+v", s)
	}
	// A vehicle driving out under the open barrier is recorded; the
	// barrier stays up.
	g.s.Send("out-1", lane.SafetyLoop{Occupied: true})
	g.s.Send("out-1", lane.SafetyLoop{Occupied: false})
	g.evacuating(t, true)
	var passages []lanetest.Passage
	g.outRecorder.Do(func() { passages = append(passages, g.outRecorder.Passages...) })
	if len(passages) != 1 || passages[0].Direction != lane.DirectionOut {
		t.Fatalf("passages recorded %+v, want one out", passages)
	}
	// The entry lane lets nothing in: a pass is held.
	g.s.Send("in-1", lane.VehiclePresent{})
	g.s.Send("in-1", lane.DeadlinePassed{Gen: 1})
	g.sync(t)
	if in := g.in.Snapshot(); in.Phase != lane.PhaseHeld || in.NoteCode != lane.NotePassHeldEvacuation {
		t.Fatalf("entry lane %s %s: want the pass held", in.Phase, in.NoteCode)
	}
	if err := g.s.EvacuateAtKiosk(ctx, false, "operator:chen"); !errors.Is(err, ErrEvacuationAuthority) {
		t.Fatalf("the kiosk ended the office's evacuation: %v", err)
	}
	g.evacuating(t, true)

	// The restart: the store closed and opened again, new lanes over it.
	st.Close()
	if st, err = store.Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	g2 := newGateLanes(t, st)
	if es, err := g2.s.RestoreEvacuation(ctx); err != nil || !es.On || es.Authority != store.EvacuationByOffice {
		t.Fatalf("RestoreEvacuation = %+v, %v", es, err)
	}
	g2.evacuating(t, true)
	if err := g2.s.EvacuateAtKiosk(ctx, false, "operator:chen"); !errors.Is(err, ErrEvacuationAuthority) {
		t.Fatalf("after the restart the kiosk ended the office's evacuation: %v", err)
	}
	if err := g2.s.Evacuate(ctx, false, "alice"); err != nil {
		t.Fatal(err)
	}
	g2.evacuating(t, false)
	if got := g2.outB.Log(); got[len(got)-1] != lane.CommandDown {
		t.Fatalf("exit barrier commands %v: want it closed at the end", got)
	}

	// The kiosk's own: the office cannot end it.
	if err := g2.s.EvacuateAtKiosk(ctx, true, "operator:chen"); err != nil {
		t.Fatal(err)
	}
	g2.evacuating(t, true)
	err = g2.s.Evacuate(ctx, false, "alice")
	if !errors.Is(err, ErrEvacuationAuthority) {
		t.Fatalf("the office ended the kiosk's evacuation: %v", err)
	}
	g2.evacuating(t, true)
	g3 := newGateLanes(t, st)
	if es, err := g3.s.RestoreEvacuation(ctx); err != nil || es.Authority != store.EvacuationByKiosk {
		t.Fatalf("RestoreEvacuation = %+v, %v", es, err)
	}
	if err := g3.s.Evacuate(ctx, false, "alice"); !errors.Is(err, ErrEvacuationAuthority) {
		t.Fatalf("after the restart the office ended the kiosk's evacuation: %v", err)
	}
	if err := g3.s.EvacuateAtKiosk(ctx, false, "operator:chen"); err != nil {
		t.Fatal(err)
	}
	g3.evacuating(t, false)
	g4 := newGateLanes(t, st)
	if es, err := g4.s.RestoreEvacuation(ctx); err != nil || es.On {
		t.Fatalf("RestoreEvacuation after the end = %+v, %v", es, err)
	}
	g4.evacuating(t, false)
}

// brokenEvacuationStore fails every call, as a store on a failing disk.
type brokenEvacuationStore struct{}

func (brokenEvacuationStore) SetEvacuation(context.Context, bool, string, string, time.Time) error {
	return errors.New("disk I/O error")
}

func (brokenEvacuationStore) Evacuation(context.Context) (store.EvacuationState, error) {
	return store.EvacuationState{}, errors.New("disk I/O error")
}

// An evacuation that cannot be recorded still evacuates (people first) and
// says a restart would end it; an end that cannot be recorded is not made;
// an unreadable state starts none.
func TestEvacuationNotRecorded(t *testing.T) {
	ctx := context.Background()
	g := newGateLanes(t, brokenEvacuationStore{})
	if es, err := g.s.RestoreEvacuation(ctx); err == nil || es.On {
		t.Fatalf("RestoreEvacuation of an unreadable state = %+v, %v", es, err)
	}
	g.evacuating(t, false)
	if err := g.s.Evacuate(ctx, true, "alice"); err == nil {
		t.Fatal("an evacuation not recorded reported no error")
	}
	g.evacuating(t, true)
	if err := g.s.Evacuate(ctx, false, "alice"); err == nil {
		t.Fatal("an end not recorded reported no error")
	}
	g.evacuating(t, true)
}
