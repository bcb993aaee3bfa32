package clock

import (
	"context"
	"time"
)

// Sleep waits d on c, or until ctx is done. It reports whether d passed:
// false when ctx ended first, and then its timer is stopped, so nothing is
// left pending on c. A d of zero or less does not wait (on the fake clock
// it would wait for the next Advance).
func Sleep(ctx context.Context, c Clock, d time.Duration) bool {
	if ctx.Err() != nil {
		return false
	}
	if d <= 0 {
		return true
	}
	done := make(chan struct{})
	t := c.AfterFunc(d, func() { close(done) })
	select {
	case <-done:
		return true
	case <-ctx.Done():
		t.Stop()
		return false
	}
}

// Backoff is the wait between attempts to reopen a device: Min after the
// first failure, doubling with each failure in a row up to Max.
type Backoff struct {
	Min, Max time.Duration
	fails    int
}

// Reset starts again from Min (the device answered).
func (b *Backoff) Reset() { b.fails = 0 }

// Wait waits the next back-off on c, or until ctx is done; it reports
// whether it waited the whole time (as Sleep).
func (b *Backoff) Wait(ctx context.Context, c Clock) bool {
	d := b.Min
	for i := 0; i < b.fails && d < b.Max; i++ {
		d *= 2
	}
	b.fails++
	return Sleep(ctx, c, min(d, b.Max))
}
