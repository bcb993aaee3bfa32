package lane_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/lane/lanetest"
)

// Alive answers while the lane goroutine turns, waits while it is stuck
// inside an event (here OnChange, called from the lane goroutine, blocks),
// answers again once it turns, and says ErrStopped once Run returned.
func TestRunnerAlive(t *testing.T) {
	entered, unblock := make(chan struct{}), make(chan struct{})
	deps := lane.Deps{
		Clock:    clock.NewFake(t0),
		Barrier:  &lanetest.Barrier{},
		Decider:  &lanetest.Decider{Outcome: lanetest.Outcome(checks.VerdictPass)},
		Recorder: &lanetest.Recorder{},
		OnChange: func(s lane.Snapshot) {
			if s.Lockdown {
				close(entered)
				<-unblock
			}
		},
	}
	r := lane.NewRunner(lane.Config{Name: "in-1"}, deps)
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(runCtx) }()

	if err := r.Alive(ctx); err != nil {
		t.Fatalf("Alive on a turning lane = %v", err)
	}
	r.Send(lane.Lockdown{On: true})
	<-entered
	// The lane cannot answer while it is stuck, however long we wait: a
	// short bound proves it without waiting on the clock for anything to
	// happen.
	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	err := r.Alive(short)
	cancelShort()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Alive on a stuck lane = %v, want the deadline", err)
	}
	close(unblock)
	if err := r.Alive(ctx); err != nil {
		t.Fatalf("Alive once the lane turns again = %v", err)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := r.Alive(ctx); !errors.Is(err, lane.ErrStopped) {
		t.Fatalf("Alive after Run returned = %v, want ErrStopped", err)
	}
}
