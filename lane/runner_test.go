package lane_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/lane/lanetest"
)

// bound is how long a test waits for the lane before it gives up: generous,
// since nothing in these tests waits on wall-clock time.
const bound = 30 * time.Second

// rig is one lane runner on a fake clock with fakes for every dependency.
type rig struct {
	t     *testing.T
	ctx   context.Context
	clk   *clock.Fake
	bar   *lanetest.Barrier
	dec   *lanetest.Decider
	faces *lanetest.FaceMatcher
	rec   *lanetest.Recorder
	r     *lane.Runner

	mu     sync.Mutex
	phases []lane.Phase // every distinct phase OnChange saw, in order
}

func newRig(t *testing.T, cfg lane.Config) *rig {
	t.Helper()
	clk := clock.NewFake(t0)
	g := &rig{
		t:     t,
		clk:   clk,
		bar:   &lanetest.Barrier{},
		dec:   &lanetest.Decider{Outcome: lanetest.Outcome(checks.VerdictPass)},
		faces: &lanetest.FaceMatcher{Scores: map[string]float64{"D1": 0.93, "E1": 0.91}, Clock: clk, Delay: time.Second},
		rec:   &lanetest.Recorder{EntryID: "in-1-7", Stay: 3 * time.Hour},
	}
	g.start(cfg, lane.Deps{Clock: clk, Barrier: g.bar, Decider: g.dec, Faces: g.faces, Recorder: g.rec})
	return g
}

func (g *rig) start(cfg lane.Config, deps lane.Deps) {
	deps.OnChange = func(s lane.Snapshot) {
		g.mu.Lock()
		defer g.mu.Unlock()
		if n := len(g.phases); n == 0 || g.phases[n-1] != s.Phase {
			g.phases = append(g.phases, s.Phase)
		}
	}
	g.r = lane.NewRunner(cfg, deps)
	runCtx, stop := context.WithCancel(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	g.ctx = ctx
	done := make(chan error, 1)
	go func() { done <- g.r.Run(runCtx) }()
	g.t.Cleanup(func() {
		stop()
		select {
		case err := <-done:
			if err != nil {
				g.t.Errorf("Run = %v", err)
			}
		case <-ctx.Done():
			g.t.Error("Run did not return")
		}
		cancel()
	})
}

// at moves the fake clock to t0+d, firing due timers, then sends events and
// waits until the lane has handled them.
func (g *rig) at(d time.Duration, events ...lane.Event) {
	g.t.Helper()
	if err := lanetest.AdvanceTo(g.ctx, g.clk, t0.Add(d), g.r); err != nil {
		g.t.Fatalf("advance to +%v: %v", d, err)
	}
	for _, e := range events {
		g.r.Send(e)
	}
	if err := g.r.Sync(g.ctx); err != nil {
		g.t.Fatalf("sync at +%v: %v", d, err)
	}
}

func (g *rig) wantPhase(p lane.Phase) {
	g.t.Helper()
	if s := g.r.Snapshot(); s.Phase != p {
		g.t.Fatalf("phase = %s, want %s (note %q)", s.Phase, p, s.Note)
	}
}

func (g *rig) wantBarrier(cmds ...lane.BarrierCommand) {
	g.t.Helper()
	if got := g.bar.Log(); !slices.Equal(got, cmds) {
		g.t.Fatalf("barrier commands = %v, want %v", got, cmds)
	}
}

func TestRunnerCompliantEntry(t *testing.T) {
	g := newRig(t, lane.Config{Name: "in-1"})
	// The design's default timings.
	g.at(0, lane.VehiclePresent{})
	g.at(1*time.Second, plate)
	g.at(8*time.Second, driver)
	g.at(14*time.Second, escort)
	g.wantPhase(lane.PhaseCollecting)
	if s := g.r.Snapshot(); !slices.Equal(s.Missing, []string{lane.MissingEscortFace, lane.MissingWaybill}) {
		t.Fatalf("missing = %v", s.Missing)
	}
	g.at(20*time.Second, waybill)
	g.wantPhase(lane.PhaseOpen)
	g.wantBarrier(lane.CommandDown, lane.CommandUp)

	calls := g.dec.Evidence()
	if len(calls) != 1 {
		t.Fatalf("%d decisions, want 1", len(calls))
	}
	ev := calls[0]
	if !ev.Arrived.Equal(t0) || ev.Plate != "浙B12345" || ev.Waybill != waybill.Number || ev.DeadlineExceeded ||
		ev.Driver == nil || ev.Driver.Face == nil || *ev.Driver.Face != 0.93 || ev.Escort == nil || ev.Escort.Face == nil {
		t.Fatalf("decided on %+v", ev)
	}
	s := g.r.Snapshot()
	if s.InspectionID != "in-1-1" || s.Outcome == nil || s.Outcome.Verdict != checks.VerdictPass || s.BarrierCommanded != lane.CommandUp {
		t.Fatalf("snapshot %+v", s)
	}

	g.at(23*time.Second, lane.BarrierFeedback{State: lane.BarrierOpen})
	g.at(25*time.Second, lane.VehicleGone{}, occ)
	g.at(29*time.Second, clear)
	g.wantPhase(lane.PhaseIdle)
	g.wantBarrier(lane.CommandDown, lane.CommandUp, lane.CommandDown)
	g.rec.Do(func() {
		want := lanetest.Passage{Lane: "in-1", InspectionID: "in-1-1", Direction: lane.DirectionIn, At: t0.Add(29 * time.Second)}
		if len(g.rec.Passages) != 1 || g.rec.Passages[0] != want {
			t.Fatalf("passages = %+v, want %+v", g.rec.Passages, want)
		}
		if len(g.rec.Alarms) != 0 {
			t.Fatalf("alarms = %+v", g.rec.Alarms)
		}
	})
	g.mu.Lock()
	defer g.mu.Unlock()
	want := []lane.Phase{lane.PhaseCollecting, lane.PhaseDeciding, lane.PhaseOpen, lane.PhaseIdle}
	if !slices.Equal(g.phases, want) {
		t.Fatalf("OnChange phases = %v, want %v", g.phases, want)
	}
}

func TestRunnerDeadlineAndRelease(t *testing.T) {
	g := newRig(t, lane.Config{Name: "in-1"})
	var decidedAt time.Time
	g.dec.Do(func() {
		g.dec.Func = func(ev checks.Evidence, now time.Time) (checks.Outcome, error) {
			decidedAt = now
			return lanetest.Outcome(checks.VerdictReview), nil
		}
	})
	g.at(0, lane.VehiclePresent{})
	g.at(time.Second, plate, driver)
	if s := g.r.Snapshot(); !s.Deadline.Equal(t0.Add(2 * time.Minute)) {
		t.Fatalf("deadline = %v", s.Deadline)
	}
	g.at(119 * time.Second)
	g.wantPhase(lane.PhaseCollecting)
	g.at(2 * time.Minute)
	g.wantPhase(lane.PhaseHeld)
	ev := g.dec.Evidence()
	if len(ev) != 1 || !ev[0].DeadlineExceeded || ev[0].Escort != nil || !decidedAt.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("decided at %v on %+v", decidedAt, ev)
	}
	g.wantBarrier(lane.CommandDown)

	g.at(3*time.Minute, lane.OperatorRelease{Operator: "王五"})
	g.wantPhase(lane.PhaseHeld)
	g.wantBarrier(lane.CommandDown)
	if s := g.r.Snapshot(); s.Note == "" {
		t.Fatal("a release without a reason left no note")
	}
	g.at(4*time.Minute, lane.OperatorRelease{Operator: "王五", Reason: "escort confirmed by phone", InspectionID: "in-1-1"})
	g.wantPhase(lane.PhaseOpen)
	g.wantBarrier(lane.CommandDown, lane.CommandUp)
	g.rec.Do(func() {
		want := lanetest.Decision{Lane: "in-1", InspectionID: "in-1-1", Operator: "王五", Action: lane.ActionRelease,
			Reason: "escort confirmed by phone", At: t0.Add(4 * time.Minute)}
		if len(g.rec.Decisions) != 1 || g.rec.Decisions[0] != want {
			t.Fatalf("decisions = %+v", g.rec.Decisions)
		}
	})
	if got := g.rec.AlarmKinds(); len(got) != 0 {
		t.Fatalf("alarms = %v, want none: the override alarm is the Recorder's, with the decision", got)
	}
	// Nobody crosses: the barrier closes after the open timeout.
	g.at(4*time.Minute + lane.DefaultOpenTimeout)
	g.wantPhase(lane.PhaseHeld)
	g.wantBarrier(lane.CommandDown, lane.CommandUp, lane.CommandDown)
}

func TestRunnerRecordBeforeAct(t *testing.T) {
	g := newRig(t, lane.Config{Name: "in-1"})
	g.dec.Do(func() { g.dec.Err = errors.New("store: database is locked") })
	g.at(0, lane.VehiclePresent{}, plate, driver, escort, waybill)
	g.at(2 * time.Second)
	g.wantPhase(lane.PhaseHeld)
	g.at(3*time.Second, release, lane.Lockdown{On: true}, lane.Lockdown{On: false}, release)
	g.at(5 * time.Minute)
	g.wantBarrier(lane.CommandDown)
	if got := g.rec.AlarmKinds(); !slices.Equal(got, []string{lane.AlarmDecideFailed}) {
		t.Fatalf("alarms = %v", got)
	}
	if s := g.r.Snapshot(); s.InspectionID != "" || s.BarrierCommanded != lane.CommandDown {
		t.Fatalf("snapshot %+v", s)
	}
	g.at(6*time.Minute, lane.VehicleGone{})
	g.wantPhase(lane.PhaseIdle)
}

func TestRunnerBarrierErrors(t *testing.T) {
	g := newRig(t, lane.Config{Name: "in-1"})
	g.bar.Do(func() { g.bar.OpenErr = errors.New("gpio: relay") })
	g.at(0, lane.VehiclePresent{}, plate, driver, escort, waybill)
	g.at(2 * time.Second)
	g.wantPhase(lane.PhaseHeld)
	g.wantBarrier(lane.CommandDown, lane.CommandUp, lane.CommandDown)
	if got := g.rec.AlarmKinds(); !slices.Equal(got, []string{lane.AlarmBarrierCommand}) {
		t.Fatalf("alarms = %v", got)
	}

	g.bar.Do(func() { g.bar.OpenErr, g.bar.CloseErr = nil, errors.New("gpio: relay") })
	g.at(3*time.Second, release)
	g.at(4*time.Second, lane.VehicleGone{}, occ)
	g.at(5*time.Second, clear)
	if s := g.r.Snapshot(); s.BarrierCommanded != lane.CommandUnknown {
		t.Fatalf("after a failed close the barrier is %q, want %q", s.BarrierCommanded, lane.CommandUnknown)
	}
	g.bar.Do(func() { g.bar.CloseErr = nil })
	g.at(6*time.Second, lane.VehiclePresent{})
	if s := g.r.Snapshot(); s.BarrierCommanded != lane.CommandDown {
		t.Fatalf("barrier %q, want it closed again at the next arrival", s.BarrierCommanded)
	}
}

func TestRunnerExitLane(t *testing.T) {
	g := newRig(t, exitCfg)
	g.at(0, lane.VehiclePresent{})
	g.at(time.Second, plate)
	g.wantPhase(lane.PhaseOpen)
	g.wantBarrier(lane.CommandDown, lane.CommandUp)
	if s := g.r.Snapshot(); s.EntryID != "in-1-7" || s.Stay != 3*time.Hour {
		t.Fatalf("snapshot entry %q stay %v", s.EntryID, s.Stay)
	}
	g.at(5*time.Second, lane.VehicleGone{}, occ)
	g.at(8*time.Second, clear)
	g.wantPhase(lane.PhaseIdle)
	g.rec.Do(func() {
		if len(g.rec.Exits) != 1 || g.rec.Exits[0].Plate != "浙B12345" || !g.rec.Exits[0].At.Equal(t0.Add(time.Second)) {
			t.Fatalf("exits = %+v", g.rec.Exits)
		}
		if len(g.rec.Passages) != 1 || g.rec.Passages[0].InspectionID != "in-1-7" || g.rec.Passages[0].Direction != lane.DirectionOut {
			t.Fatalf("passages = %+v", g.rec.Passages)
		}
	})
	if n := len(g.dec.Evidence()); n != 0 {
		t.Fatalf("exit lane ran %d decisions", n)
	}

	// No plate: held at the deadline, released by the operator.
	g.at(time.Minute, lane.VehiclePresent{})
	g.at(3 * time.Minute)
	g.wantPhase(lane.PhaseHeld)
	g.at(4*time.Minute, release)
	g.wantPhase(lane.PhaseOpen)
	g.wantBarrier(lane.CommandDown, lane.CommandUp, lane.CommandDown, lane.CommandUp)
}

// TestRunnerSendNeverBlocksNorDrops queues many events before the lane runs
// and checks every one was handled.
func TestRunnerSendNeverBlocksNorDrops(t *testing.T) {
	clk := clock.NewFake(t0)
	rec := &lanetest.Recorder{}
	r := lane.NewRunner(exitCfg, lane.Deps{Clock: clk, Barrier: &lanetest.Barrier{}, Recorder: rec})
	const n = 5000
	for i := range n {
		s := lane.BarrierFault
		if i%2 == 1 {
			s = lane.BarrierClosed
		}
		r.Send(lane.BarrierFeedback{State: s})
	}
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(runCtx) }()
	if err := r.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(rec.AlarmKinds()); got != n/2 {
		t.Fatalf("%d alarms, want %d: events were dropped", got, n/2)
	}
	if err := r.Run(ctx); err == nil {
		t.Fatal("a second Run was accepted")
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	r.Send(lane.VehiclePresent{})
	if err := r.Sync(ctx); !errors.Is(err, lane.ErrStopped) {
		t.Fatalf("Sync after Run returned = %v, want ErrStopped", err)
	}
}

// TestRunnerFaceAnswerFromAnotherGoroutine: a face matcher that answers from
// its own goroutine, as the HTTP one does.
func TestRunnerFaceAnswerFromAnotherGoroutine(t *testing.T) {
	clk := clock.NewFake(t0)
	bar := &lanetest.Barrier{}
	g := &rig{t: t, clk: clk, bar: bar, dec: &lanetest.Decider{Outcome: lanetest.Outcome(checks.VerdictPass)}, rec: &lanetest.Recorder{}}
	answered := make(chan struct{}, 2)
	faces := faceFunc(func(p checks.PersonEvidence, done func(*float64)) {
		go func() {
			done(score(0.9))
			answered <- struct{}{}
		}()
	})
	g.start(lane.Config{Name: "in-1"}, lane.Deps{Clock: clk, Barrier: bar, Decider: g.dec, Faces: faces, Recorder: g.rec})
	g.at(0, lane.VehiclePresent{}, plate, waybill, driver, escort)
	for range 2 {
		select {
		case <-answered:
		case <-g.ctx.Done():
			t.Fatal("face matcher never answered")
		}
	}
	g.at(time.Second)
	g.wantPhase(lane.PhaseOpen)
}

type faceFunc func(p checks.PersonEvidence, done func(*float64))

func (f faceFunc) Match(_ context.Context, _ string, p checks.PersonEvidence, done func(*float64)) {
	f(p, done)
}

// TestRunnerLogsAnUnhandledEvent: an event Step rejects is logged as an
// error, and the lane goes on with the next one.
func TestRunnerLogsAnUnhandledEvent(t *testing.T) {
	clk := clock.NewFake(t0)
	logs := &errorLog{}
	g := &rig{t: t, clk: clk, bar: &lanetest.Barrier{}, dec: &lanetest.Decider{Outcome: lanetest.Outcome(checks.VerdictPass)}, rec: &lanetest.Recorder{}}
	g.start(lane.Config{Name: "in-1"}, lane.Deps{Clock: clk, Barrier: g.bar, Decider: g.dec, Recorder: g.rec, Log: slog.New(logs)})
	g.at(0, lane.VehiclePresent{}, lane.Unhandled{}, plate)
	if got, want := logs.lines(), []string{"event not handled: Unhandled"}; !slices.Equal(got, want) {
		t.Fatalf("errors logged %q, want %q", got, want)
	}
	g.wantPhase(lane.PhaseCollecting)
	if s := g.r.Snapshot(); s.Evidence.Plate != plate.Plate {
		t.Fatalf("plate %q: the event after the unhandled one was not handled", s.Evidence.Plate)
	}
}

// errorLog is a slog handler keeping the message and the "event" of every
// record at Error level.
type errorLog struct {
	mu  sync.Mutex
	got []string
}

func (h *errorLog) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }

func (h *errorLog) Handle(_ context.Context, r slog.Record) error {
	var ev string
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "event" {
			ev = a.Value.String()
		}
		return true
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	h.got = append(h.got, r.Message+": "+ev)
	return nil
}

func (h *errorLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *errorLog) WithGroup(string) slog.Handler      { return h }

func (h *errorLog) lines() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.got)
}
