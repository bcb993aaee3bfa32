package gpio

import (
	"sync"
	"time"

	"github.com/hazgate/hazgate/clock"
)

// debouncer reports a boolean input once it has held a new value for a
// whole window on the clock; a bounce back within the window is ignored.
type debouncer struct {
	clk      clock.Clock
	window   time.Duration
	onChange func(bool)

	mu     sync.Mutex
	stable bool // the value last reported
	cand   bool // the value last observed
	gen    int
	timer  clock.Timer
}

func newDebouncer(clk clock.Clock, window time.Duration, initial bool, onChange func(bool)) *debouncer {
	return &debouncer{clk: clk, window: window, onChange: onChange, stable: initial, cand: initial}
}

// observe feeds the input's current value.
func (d *debouncer) observe(v bool) {
	d.mu.Lock()
	if v == d.cand {
		d.mu.Unlock()
		return
	}
	d.cand = v
	d.gen++
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	if v == d.stable {
		d.mu.Unlock()
		return
	}
	if d.window <= 0 {
		d.stable = v
		d.mu.Unlock()
		d.onChange(v)
		return
	}
	gen := d.gen
	d.timer = d.clk.AfterFunc(d.window, func() {
		d.mu.Lock()
		if d.gen != gen || d.cand == d.stable {
			d.mu.Unlock()
			return
		}
		d.stable = d.cand
		v := d.stable
		d.mu.Unlock()
		d.onChange(v)
	})
	d.mu.Unlock()
}

// value returns the debounced value.
func (d *debouncer) value() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stable
}

// stop cancels a pending change.
func (d *debouncer) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gen++
	if d.timer != nil {
		d.timer.Stop()
	}
}
