package gpio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/lane"
)

var _ lane.Barrier = (*Barrier)(nil)

// ErrSafetyOccupied is returned by Close while the safety loop under the
// barrier reads occupied: the driver refuses, beside the lane's own
// interlock, to bring the boom down on a vehicle.
var ErrSafetyOccupied = errors.New("gpio: barrier not closed: the safety loop is occupied")

// ErrRelay is returned when a relay output cannot be set: the barrier may be
// anywhere.
var ErrRelay = errors.New("gpio: relay output failed")

// Barrier modes.
const (
	// ModePulse: a pulse on the open relay opens, a pulse on the close relay
	// closes; between pulses both relays are off.
	ModePulse = "pulse"
	// ModeLevel: the open relay held on keeps the barrier up; off lets it
	// down. The close relay, if any, is kept off.
	ModeLevel = "level"
)

// Occupancy is what the barrier asks of the safety loop (a *Loop).
type Occupancy interface {
	Occupied() bool
}

// BarrierConfig configures a barrier.
type BarrierConfig struct {
	// Name is the barrier's name in logs ("in-1/barrier").
	Name string
	// Mode is ModePulse (default) or ModeLevel.
	Mode string
	// OpenRelay is required; CloseRelay is required in pulse mode.
	OpenRelay, CloseRelay gpio.PinOut
	// RelayActiveLow: the relay board energises a relay on a low output
	// (common on opto-isolated boards).
	RelayActiveLow bool
	// Pulse is the pulse length (default 500 ms).
	Pulse time.Duration
	// OpenLimit and ClosedLimit are the optional limit switches.
	OpenLimit, ClosedLimit gpio.PinIn
	// LimitActiveLow: a limit switch pulls its line low when reached.
	LimitActiveLow bool
	// LimitPull is the limit lines' bias (default gpio.PullNoChange).
	LimitPull gpio.Pull
	// FeedbackTimeout is how long the barrier may take to reach its limit
	// after a command (default 10 s); past it the state is unknown or fault.
	FeedbackTimeout time.Duration
	// Safety is the safety loop under the barrier (strongly recommended).
	Safety Occupancy
	// Poll bounds each wait for a limit-switch edge (default 100 ms).
	Poll  time.Duration
	Clock clock.Clock
	Log   *slog.Logger
	// OnState receives each new state (lane.BarrierClosed ... Unknown).
	OnState func(state lane.BarrierState)
}

// Barrier drives a barrier's relays and reads its limit switches. Its
// states are lane.BarrierClosed, Opening, Open, Closing, Fault and Unknown;
// anything not known closed is possibly open. Without limit switches the
// state only follows the commands (opening, closing).
type Barrier struct {
	cfg BarrierConfig

	mu        sync.Mutex
	commanded lane.BarrierCommand // lane.CommandUp, CommandDown or ""
	state     lane.BarrierState
	pulse     clock.Timer
	feedback  clock.Timer
	gen       int
	stuck     lane.BarrierState // the state the feedback timeout left, until a new command or the target
}

// NewBarrier sets the relays off (the fail-secure position) and the limit
// switches up as inputs, and reads the initial state.
func NewBarrier(cfg BarrierConfig) (*Barrier, error) {
	if cfg.Mode == "" {
		cfg.Mode = ModePulse
	}
	if cfg.Mode != ModePulse && cfg.Mode != ModeLevel {
		return nil, fmt.Errorf("gpio: barrier %s: mode %q is not pulse or level", cfg.Name, cfg.Mode)
	}
	if cfg.OpenRelay == nil || (cfg.Mode == ModePulse && cfg.CloseRelay == nil) {
		return nil, fmt.Errorf("gpio: barrier %s: %s mode needs an open relay%s", cfg.Name, cfg.Mode, map[bool]string{true: " and a close relay", false: ""}[cfg.Mode == ModePulse])
	}
	if cfg.Pulse <= 0 {
		cfg.Pulse = 500 * time.Millisecond
	}
	if cfg.FeedbackTimeout <= 0 {
		cfg.FeedbackTimeout = 10 * time.Second
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 100 * time.Millisecond
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.OnState == nil {
		cfg.OnState = func(lane.BarrierState) {}
	}
	b := &Barrier{cfg: cfg, state: lane.BarrierUnknown}
	if err := b.Halt(); err != nil {
		return nil, err
	}
	for _, p := range []gpio.PinIn{cfg.OpenLimit, cfg.ClosedLimit} {
		if p != nil {
			if err := p.In(cfg.LimitPull, gpio.BothEdges); err != nil {
				return nil, fmt.Errorf("gpio: barrier %s: set up limit switch %s: %w", cfg.Name, p, err)
			}
		}
	}
	b.mu.Lock()
	b.state = b.derivedLocked()
	b.mu.Unlock()
	return b, nil
}

// State returns the barrier's state now.
func (b *Barrier) State() lane.BarrierState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}

// Open commands the barrier up.
func (b *Barrier) Open() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stopPulseLocked()
	if b.cfg.CloseRelay != nil {
		if err := b.relayLocked(b.cfg.CloseRelay, false); err != nil {
			return err
		}
	}
	if err := b.relayLocked(b.cfg.OpenRelay, true); err != nil {
		return err
	}
	if b.cfg.Mode == ModePulse {
		b.pulseEndLocked(b.cfg.OpenRelay)
	}
	b.commandedLocked(lane.CommandUp)
	return nil
}

// Close commands the barrier down, unless the safety loop reads occupied
// (ErrSafetyOccupied: nothing is done).
func (b *Barrier) Close() error {
	if s := b.cfg.Safety; s != nil && s.Occupied() {
		return ErrSafetyOccupied
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stopPulseLocked()
	if err := b.relayLocked(b.cfg.OpenRelay, false); err != nil {
		return err
	}
	if b.cfg.Mode == ModePulse {
		if err := b.relayLocked(b.cfg.CloseRelay, true); err != nil {
			return err
		}
		b.pulseEndLocked(b.cfg.CloseRelay)
	}
	b.commandedLocked(lane.CommandDown)
	return nil
}

// Halt de-energises every relay: the fail-secure position. In level mode
// that lets the barrier down (the barrier controller's own loop input must
// hold it over a vehicle); in pulse mode nothing more is commanded.
func (b *Barrier) Halt() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stopPulseLocked()
	var errs []error
	for _, p := range []gpio.PinOut{b.cfg.OpenRelay, b.cfg.CloseRelay} {
		if p != nil {
			if err := b.relayLocked(p, false); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func (b *Barrier) relayLocked(p gpio.PinOut, on bool) error {
	if err := p.Out(level(on, b.cfg.RelayActiveLow)); err != nil {
		return fmt.Errorf("%w: barrier %s relay %s: %v", ErrRelay, b.cfg.Name, p, err)
	}
	return nil
}

// pulseEndLocked turns p off after the pulse.
func (b *Barrier) pulseEndLocked(p gpio.PinOut) {
	b.pulse = b.cfg.Clock.AfterFunc(b.cfg.Pulse, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if err := b.relayLocked(p, false); err != nil {
			b.cfg.Log.Error("gpio: relay stuck on after its pulse", "device", b.cfg.Name, "err", err)
		}
	})
}

func (b *Barrier) stopPulseLocked() {
	if b.pulse != nil {
		b.pulse.Stop()
		b.pulse = nil
	}
}

// hasLimits reports whether any limit switch is wired.
func (b *Barrier) hasLimits() bool { return b.cfg.OpenLimit != nil || b.cfg.ClosedLimit != nil }

// commandedLocked records a command, reports the movement it starts and
// arms the feedback timeout.
func (b *Barrier) commandedLocked(cmd lane.BarrierCommand) {
	b.commanded = cmd
	b.stuck = ""
	b.gen++
	if b.feedback != nil {
		b.feedback.Stop()
		b.feedback = nil
	}
	moving := lane.BarrierOpening
	if cmd == lane.CommandDown {
		moving = lane.BarrierClosing
	}
	if !b.hasLimits() {
		b.setLocked(moving)
		return
	}
	gen := b.gen
	b.feedback = b.cfg.Clock.AfterFunc(b.cfg.FeedbackTimeout, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.gen == gen {
			b.feedback = nil
			b.timedOutLocked()
		}
	})
	b.settleLocked()
}

// targetLocked is the state the last command should reach.
func (b *Barrier) targetLocked() lane.BarrierState {
	switch b.commanded {
	case lane.CommandUp:
		return lane.BarrierOpen
	case lane.CommandDown:
		return lane.BarrierClosed
	}
	return ""
}

// derivedLocked reads the state from the limit switches: at a limit, or
// moving towards the commanded one while the feedback time runs.
func (b *Barrier) derivedLocked() lane.BarrierState {
	if !b.hasLimits() {
		return b.state
	}
	atOpen := b.cfg.OpenLimit != nil && active(b.cfg.OpenLimit.Read(), b.cfg.LimitActiveLow)
	atClosed := b.cfg.ClosedLimit != nil && active(b.cfg.ClosedLimit.Read(), b.cfg.LimitActiveLow)
	switch {
	case atOpen && atClosed:
		return lane.BarrierFault
	case atOpen:
		return lane.BarrierOpen
	case atClosed:
		return lane.BarrierClosed
	case b.feedback != nil && b.commanded == lane.CommandUp:
		return lane.BarrierOpening
	case b.feedback != nil && b.commanded == lane.CommandDown:
		return lane.BarrierClosing
	case b.commanded == lane.CommandUp && b.cfg.OpenLimit == nil:
		// One limit switch only: having left it for the whole travel
		// time counts as having reached the other end.
		return lane.BarrierOpen
	case b.commanded == lane.CommandDown && b.cfg.ClosedLimit == nil:
		return lane.BarrierClosed
	}
	// Between the limits with no movement under way: nobody knows.
	return lane.BarrierUnknown
}

// timedOutLocked judges the state when the feedback time is up: the target
// reached is fine; the opposite end still (or again) reached is a fault;
// in between is unknown.
func (b *Barrier) timedOutLocked() {
	s := b.derivedLocked()
	target := b.targetLocked()
	if (s == lane.BarrierOpen || s == lane.BarrierClosed) && s != target {
		s = lane.BarrierFault
	}
	if s != target {
		b.cfg.Log.Warn("gpio: barrier did not reach its limit in time", "device", b.cfg.Name, "state", s, "want", target)
		b.stuck = s
	}
	b.setLocked(s)
}

// Sample reads the limit switches now. Run calls it after every edge; the
// simulator calls it when it moves a limit switch.
func (b *Barrier) Sample() {
	if !b.hasLimits() {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.settleLocked()
}

// settleLocked sets the state the limits give, ending the feedback wait
// once the target is reached.
func (b *Barrier) settleLocked() {
	s := b.derivedLocked()
	switch {
	case s == b.targetLocked():
		b.stuck = ""
		if b.feedback != nil {
			b.feedback.Stop()
			b.feedback = nil
		}
	case b.stuck != "" && s != lane.BarrierFault:
		s = b.stuck // a timed-out command stays unknown or a fault
	}
	b.setLocked(s)
}

// setLocked records s and reports it when it changed.
func (b *Barrier) setLocked(s lane.BarrierState) {
	if s == b.state {
		return
	}
	b.state = s
	// Reported under the lock so that states arrive in order; the callback
	// must not block nor call the barrier (the lane's Send never blocks).
	b.cfg.OnState(s)
}

// Run reports the state, then watches the limit switches with bounded waits
// until ctx is done, and returns ctx's error.
func (b *Barrier) Run(ctx context.Context) error {
	b.mu.Lock()
	b.cfg.OnState(b.state)
	b.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range []gpio.PinIn{b.cfg.OpenLimit, b.cfg.ClosedLimit} {
		if p != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				watch(ctx, p, b.cfg.Poll, b.Sample)
			}()
		}
	}
	<-ctx.Done()
	wg.Wait()
	return ctx.Err()
}
