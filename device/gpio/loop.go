package gpio

import (
	"context"
	"fmt"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/hazgate/hazgate/clock"
)

// LoopConfig configures a loop detector input.
type LoopConfig struct {
	// Name is the loop's name in logs and errors ("in-1/safety_loop").
	Name string
	// Pin is the detector's output.
	Pin gpio.PinIn
	// ActiveLow: the detector pulls the line low when a vehicle is over
	// the loop.
	ActiveLow bool
	// Pull is the line's bias (default gpio.PullNoChange: as the board
	// or the device tree leaves it).
	Pull gpio.Pull
	// Debounce is how long a new state must hold before it is reported
	// (default 200 ms; negative: report at once).
	Debounce time.Duration
	// Poll bounds each wait for an edge (default 100 ms): the line is read
	// at least this often even if an edge is missed.
	Poll time.Duration
	// Clock times the debounce (default: the real clock).
	Clock clock.Clock
	// OnChange receives the debounced state: true when occupied. It is
	// called once with the initial state when Run starts.
	OnChange func(occupied bool)
}

// Loop is a debounced loop detector.
type Loop struct {
	cfg LoopConfig
	deb *debouncer
}

// NewLoop sets the pin up as an input with edge detection and reads its
// initial state.
func NewLoop(cfg LoopConfig) (*Loop, error) {
	if cfg.Pin == nil {
		return nil, fmt.Errorf("gpio: loop %s: no pin", cfg.Name)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Debounce == 0 {
		cfg.Debounce = 200 * time.Millisecond
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 100 * time.Millisecond
	}
	if cfg.OnChange == nil {
		cfg.OnChange = func(bool) {}
	}
	if err := cfg.Pin.In(cfg.Pull, gpio.BothEdges); err != nil {
		return nil, fmt.Errorf("gpio: loop %s: set up %s as input: %w", cfg.Name, cfg.Pin, err)
	}
	l := &Loop{cfg: cfg}
	l.deb = newDebouncer(cfg.Clock, cfg.Debounce, l.Raw(), func(v bool) { l.cfg.OnChange(v) })
	return l, nil
}

// Raw reports whether the pin reads occupied right now (not debounced).
func (l *Loop) Raw() bool { return active(l.cfg.Pin.Read(), l.cfg.ActiveLow) }

// Occupied reports whether the loop is occupied: the debounced state, or
// the pin right now. The barrier asks it before it closes, so a vehicle
// that has just rolled onto the loop counts at once.
func (l *Loop) Occupied() bool { return l.deb.value() || l.Raw() }

// Sample reads the pin now and feeds the debouncer. Run calls it after every
// edge; the simulator calls it when it changes a pin, so that debouncing
// starts at that instant of its clock.
func (l *Loop) Sample() { l.deb.observe(l.Raw()) }

// Run reports the initial state, then watches the pin with bounded waits
// until ctx is done, and returns ctx's error.
func (l *Loop) Run(ctx context.Context) error {
	l.cfg.OnChange(l.deb.value())
	watch(ctx, l.cfg.Pin, l.cfg.Poll, l.Sample)
	l.deb.stop()
	return ctx.Err()
}

// Halt stops a pending report. The input itself needs no inert state.
func (l *Loop) Halt() error {
	l.deb.stop()
	return nil
}

// watch calls sample after every edge of p and at least every poll until ctx
// is done. It never waits without a bound (WaitForEdge(-1) returns at once on
// the character device); a line without edge detection, whose WaitForEdge
// returns false at once, is polled every poll instead of spun on.
func watch(ctx context.Context, p gpio.PinIn, poll time.Duration, sample func()) {
	fast := 0
	for ctx.Err() == nil {
		start := time.Now()
		edge := p.WaitForEdge(poll)
		sample()
		if edge || time.Since(start) >= poll/10 {
			fast = 0
			continue
		}
		if fast++; fast < 3 {
			continue
		}
		// The real clock, as WaitForEdge's timeout.
		clock.Sleep(ctx, clock.Real{}, poll)
	}
}
