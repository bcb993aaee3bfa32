package lane_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/lane/lanetest"
)

// guard watches the real barrier calls a Runner makes. The test sets what it
// tells the lane (safety loop, lock-down) before sending it; the decider and
// recorder grant one opening when they commit a pass, a release or an exit;
// the barrier checks each command against that. Grants last only until the
// lane has handled the event that caused them.
type guard struct {
	mu         sync.Mutex
	safety     bool
	lockdown   bool
	grant      string
	released   bool // a release for the vehicle on the arrival loop is committed: it may open again
	violations []string
	opens      int
}

func (g *guard) set(f func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	f()
}

func (g *guard) violated(format string, args ...any) {
	g.violations = append(g.violations, fmt.Sprintf(format, args...))
}

type guardedBarrier struct {
	*lanetest.Barrier
	g *guard
}

func (b guardedBarrier) Open() error {
	b.g.set(func() {
		if b.g.grant == "" {
			b.g.violated("barrier opened without a committed pass, release or exit")
		}
		if b.g.lockdown {
			b.g.violated("barrier opened in lock-down")
		}
		b.g.grant = ""
		b.g.opens++
	})
	return b.Barrier.Open()
}

func (b guardedBarrier) Close() error {
	b.g.set(func() {
		if b.g.safety {
			b.g.violated("barrier closed on an occupied safety loop")
		}
	})
	return b.Barrier.Close()
}

type grantingRecorder struct {
	*lanetest.Recorder
	g *guard
}

func (r grantingRecorder) RecordDecision(ctx context.Context, laneName, id, operator, action, reason string, at time.Time) error {
	err := r.Recorder.RecordDecision(ctx, laneName, id, operator, action, reason, at)
	if err == nil && action == lane.ActionRelease {
		r.g.set(func() { r.g.grant, r.g.released = lane.WhyRelease, true })
	}
	return err
}

func (r grantingRecorder) RecordPassage(ctx context.Context, laneName, id string, dir lane.Direction, at time.Time) error {
	r.g.set(func() { r.g.released = false }) // the vehicle crossed: its release is spent
	return r.Recorder.RecordPassage(ctx, laneName, id, dir, at)
}

func (r grantingRecorder) RecordExit(ctx context.Context, laneName, plate string, at time.Time) (string, time.Duration, error) {
	id, stay, err := r.Recorder.RecordExit(ctx, laneName, plate, at)
	if err == nil {
		r.g.set(func() { r.g.grant = lane.WhyExit })
	}
	return id, stay, err
}

// TestRunnerInterlockProperty drives runners on a fake clock with random
// device events, operator commands, failing dependencies and clock jumps, and
// checks every real barrier call.
func TestRunnerInterlockProperty(t *testing.T) {
	seqs := 300
	if testing.Short() {
		seqs = 50
	}
	for _, cfg := range []lane.Config{{Name: "in-1"}, exitCfg} {
		t.Run(cfg.Name, func(t *testing.T) {
			opens := 0
			for seed := range uint64(seqs) {
				opens += runnerSequence(t, cfg, seed+1, 80)
			}
			t.Logf("%d sequences: %d openings", seqs, opens)
			if opens < seqs/2 {
				t.Fatalf("only %d openings in %d sequences", opens, seqs)
			}
		})
	}
}

func runnerSequence(t *testing.T, cfg lane.Config, seed uint64, n int) (opens int) {
	r := rand.New(rand.NewPCG(seed, 0x7a11))
	g := &guard{}
	clk := clock.NewFake(t0)
	bar := &lanetest.Barrier{}
	rec := &lanetest.Recorder{EntryID: "in-1-1"}
	dec := &lanetest.Decider{}
	verdicts := make([]checks.Verdict, 0, n)
	for range n {
		verdicts = append(verdicts, verdict(r))
	}
	nextVerdict := 0
	dec.Func = func(checks.Evidence, time.Time) (checks.Outcome, error) {
		v := verdicts[nextVerdict%len(verdicts)]
		nextVerdict++
		if v == "" {
			return checks.Outcome{}, errDisk
		}
		if v == checks.VerdictPass {
			g.set(func() { g.grant = lane.WhyPass })
		}
		return lanetest.Outcome(v), nil
	}
	faces := &lanetest.FaceMatcher{Scores: map[string]float64{"D1": 0.9, "E1": 0.95}, Clock: clk, Delay: time.Second}
	runner := lane.NewRunner(cfg, lane.Deps{Clock: clk, Barrier: guardedBarrier{bar, g}, Decider: dec, Faces: faces,
		Recorder: grantingRecorder{rec, g}})
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- runner.Run(runCtx) }()
	defer func() {
		stop()
		<-done
	}()

	var trace []string
	settle := func() {
		if err := runner.Sync(ctx); err != nil {
			t.Fatalf("seed %d: sync: %v", seed, err)
		}
		g.set(func() { g.grant = "" })
	}
	for i := range n {
		var e lane.Event
		switch k := r.IntN(100); {
		case k < 10:
			e = lane.VehiclePresent{}
		case k < 16:
			g.set(func() { g.released = false })
			e = lane.VehicleGone{}
		case k < 30:
			occupied := r.IntN(2) == 0
			g.set(func() { g.safety = occupied })
			e = lane.SafetyLoop{Occupied: occupied}
		case k < 36:
			e = lane.PlateRead{Plate: pick(r, plates[:2]), Confidence: 1}
		case k < 44:
			e = lane.CardRead{Person: checks.PersonEvidence{IDNumber: pick(r, idNums[:2])}}
		case k < 50:
			e = lane.WaybillScanned{Number: "YD1"}
		case k < 55:
			on := r.IntN(3) == 0
			g.set(func() { g.lockdown = on })
			e = lane.Lockdown{On: on}
		case k < 63:
			g.set(func() {
				if g.released {
					g.grant = lane.WhyRelease // a vehicle held again opens under its committed release
				}
			})
			e = lane.OperatorRelease{Operator: "王五", Reason: pick(r, []string{"ok", ""})}
		case k < 66:
			e = lane.OperatorRefuse{Operator: "王五", Reason: "no"}
		case k < 69:
			e = lane.BarrierFeedback{State: pick(r, reports)}
		case k < 74:
			openErr, closeErr := maybeErr(r), maybeErr(r)
			bar.Do(func() { bar.OpenErr, bar.CloseErr = openErr, closeErr })
			decErr, exitErr := maybeErr(r), maybeErr(r)
			rec.Do(func() { rec.DecisionErr, rec.ExitErr = decErr, exitErr })
			trace = append(trace, fmt.Sprintf("%3d errors open=%v close=%v decision=%v exit=%v", i, openErr, closeErr, decErr, exitErr))
			continue
		default:
			// Let time pass, one timer at a time, settling after each.
			until := clk.Now().Add(time.Duration(500+r.IntN(150_000)) * time.Millisecond)
			for {
				next, ok := clk.Next()
				if !ok || next.After(until) {
					break
				}
				clk.AdvanceTo(next)
				settle()
			}
			clk.AdvanceTo(until)
			trace = append(trace, fmt.Sprintf("%3d advance to +%v -> %s barrier %v", i, until.Sub(t0), runner.Snapshot().Phase, bar.Log()))
		}
		if e != nil {
			runner.Send(e)
			settle()
			trace = append(trace, fmt.Sprintf("%3d %-50s -> %-10s barrier %v", i, e, runner.Snapshot().Phase, bar.Log()))
		}
		g.mu.Lock()
		v := g.violations
		g.mu.Unlock()
		if len(v) > 0 {
			t.Fatalf("seed %d: %s\n%s", seed, strings.Join(v, "; "), strings.Join(trace, "\n"))
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if ups := countOf(bar.Log(), lane.CommandUp); ups != g.opens {
		t.Fatalf("seed %d: barrier saw %d openings, guard %d", seed, ups, g.opens)
	}
	return g.opens
}

func maybeErr(r *rand.Rand) error {
	if r.IntN(4) == 0 {
		return errDisk
	}
	return nil
}

func countOf[T comparable](xs []T, x T) int {
	n := 0
	for _, y := range xs {
		if y == x {
			n++
		}
	}
	return n
}
