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
