// Package clock is the time source that every timer in hazgate takes: the real
// clock on the gate, a fake one that tests and the simulator advance by hand.
//
// It imports nothing of ours; any package that waits or stamps times may
// import it.
package clock

import "time"

// Clock tells the time and runs functions later.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f once d has passed. On the fake clock f runs in the
	// goroutine that advances the clock, so f must not block.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc.
type Timer interface {
	// Stop cancels the timer; it reports whether it was still pending.
	Stop() bool
}

// Real is the wall clock.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// AfterFunc is time.AfterFunc.
func (Real) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
