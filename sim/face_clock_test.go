package sim

import (
	"testing"
	"time"

	"github.com/hazgate/hazgate/clock"
)

// A slow face answer is parked on the fake clock; when the matcher's
// attempt times out first (always: faceSlow > faceTimeout), the parked
// timer is dropped on the fake clock, so that the answer is never counted
// as work even if the service has not yet seen the cancelled request (a
// busy machine): the loop then never waits for an answer nobody wants.
func TestParkedFaceAnswerDroppedAtTimeout(t *testing.T) {
	start := time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC)
	e := &Engine{clk: clock.NewFake(start), devChanged: make(chan struct{})}
	l := &simLane{sim: e}
	busy := func() int {
		e.dev.Lock()
		defer e.dev.Unlock()
		return e.faceBusy
	}

	e.faceWork(1) // the capture starts a match
	answered := false
	parked := parkClock{e, l}.AfterFunc(faceSlow, func() { answered = true })
	if busy() != 0 {
		t.Fatalf("a parked request counts as work: %d", busy())
	}
	wakeClock{e, l}.AfterFunc(faceTimeout, func() {})
	e.clk.AdvanceTo(start.Add(faceTimeout))
	if busy() != 1 {
		t.Fatalf("after the timeout: %d at work, want the matcher's 1", busy())
	}
	e.faceWork(-1) // the matcher gives up: no score
	// The service has not noticed the cancelled request yet: its timer
	// would fire here.
	e.clk.AdvanceTo(start.Add(faceSlow))
	if answered || busy() != 0 {
		t.Fatalf("the dropped answer ran (%v) or counts as work (%d)", answered, busy())
	}
	if parked.Stop() {
		t.Fatal("the dropped timer was still pending")
	}

	// A parked answer the matcher still waits for does go out.
	e.faceWork(1)
	answered = false
	parkClock{e, l}.AfterFunc(faceSlow, func() { answered = true })
	e.clk.AdvanceTo(start.Add(2 * faceSlow))
	if !answered || busy() != 1 {
		t.Fatalf("a live parked answer: ran %v, %d at work, want true and 1", answered, busy())
	}
}
