// Package simgpio is a simulated lane's wiring on periph's gpiotest pins,
// registered by name in periph's registry exactly as the gate's real lines
// are: two loop detectors, the barrier's two relays and two limit switches,
// and a model of the barrier itself that moves when its relays are pulsed
// and reaches its limits after a travel time on the clock.
//
// The gate's own drivers (device/gpio) open these pins by name. Drivers that
// debounce or watch inputs run in their own goroutines; to keep a simulation
// on a fake clock exact, give each input pin the driver's Sample with Watch,
// and the pin calls it the instant it changes.
//
// Only sim and tests import it.
package simgpio

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/lane"
)

var nextNum atomic.Int32

func init() { nextNum.Store(9000) }

// Pin is a gpiotest pin that also tells the simulation when the driver sets
// it (OnOut) and tells the driver when the simulation drives it (Watch).
type Pin struct {
	gpiotest.Pin

	hooks    sync.Mutex
	onOut    []func(gpio.Level)
	watchers []func()
}

// NewPin returns an unregistered pin called name, low, with room for 64
// pending edges.
func NewPin(name string) *Pin {
	return &Pin{Pin: gpiotest.Pin{N: name, Num: int(nextNum.Add(1)), Fn: "GPIO", EdgesChan: make(chan gpio.Level, 64)}}
}

// In sets the pin up as an input. Unlike gpiotest's, a pull does not move a
// line that the simulation drives.
func (p *Pin) In(pull gpio.Pull, edge gpio.Edge) error {
	p.Pin.Lock()
	defer p.Pin.Unlock()
	p.P = pull
	for {
		select {
		case <-p.EdgesChan:
		default:
			return nil
		}
	}
}

// WaitForEdge waits up to timeout for the simulation to drive the pin. Like
// the kernel's character device, a negative timeout returns false at once:
// drivers must wait with a bound.
func (p *Pin) WaitForEdge(timeout time.Duration) bool {
	if timeout < 0 {
		return false
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.EdgesChan:
		return true
	case <-t.C:
		return false
	}
}

// Out is the driver setting an output; the OnOut functions are told.
func (p *Pin) Out(l gpio.Level) error {
	if err := p.Pin.Out(l); err != nil {
		return err
	}
	p.hooks.Lock()
	fs := append([]func(gpio.Level){}, p.onOut...)
	p.hooks.Unlock()
	for _, f := range fs {
		f(l)
	}
	return nil
}

// OnOut adds f, called with the level each time the driver sets the pin.
// f runs in the driver's goroutine (often under its lock): it must not call
// the driver.
func (p *Pin) OnOut(f func(gpio.Level)) {
	p.hooks.Lock()
	defer p.hooks.Unlock()
	p.onOut = append(p.onOut, f)
}

// Watch adds f (a driver's Sample), called each time the simulation drives
// the pin.
func (p *Pin) Watch(f func()) {
	p.hooks.Lock()
	defer p.hooks.Unlock()
	p.watchers = append(p.watchers, f)
}

// Drive is the outside world setting an input: the level changes, an edge
// is queued for WaitForEdge (dropped if 64 are pending), and the watchers are
// called.
func (p *Pin) Drive(l gpio.Level) {
	p.Pin.Lock()
	changed := p.L != l
	p.L = l
	p.Pin.Unlock()
	if changed {
		select {
		case p.EdgesChan <- l:
		default:
		}
	}
	p.hooks.Lock()
	ws := append([]func(){}, p.watchers...)
	p.hooks.Unlock()
	for _, f := range ws {
		f()
	}
}

// LaneConfig describes a simulated lane's wiring.
type LaneConfig struct {
	// Name prefixes the pin names: "in-1" gives SIM_in-1_ARRIVAL etc.
	Name string
	// Clock moves the barrier (the scenario's fake clock).
	Clock clock.Clock
	// Mode is the barrier's relay mode, "pulse" (default) or "level".
	Mode string
	// Travel is the barrier's travel time (default 3 s).
	Travel time.Duration
	// NoLimits leaves the limit switches unwired.
	NoLimits bool
	// LoopActiveLow, RelayActiveLow and LimitActiveLow are the electrical
	// polarities, as in the configuration.
	LoopActiveLow, RelayActiveLow, LimitActiveLow bool
}

// Lane is a simulated lane's pins and barrier.
type Lane struct {
	cfg                    LaneConfig
	Arrival, Safety        *Pin
	OpenRelay, CloseRelay  *Pin
	OpenLimit, ClosedLimit *Pin // nil with NoLimits
	Barrier                *BarrierModel
	names                  []string
}

// NewLane creates the pins, registers them in periph's registry and puts
// the barrier down with the loops clear.
func NewLane(cfg LaneConfig) (*Lane, error) {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Mode == "" {
		cfg.Mode = "pulse"
	}
	if cfg.Travel <= 0 {
		cfg.Travel = 3 * time.Second
	}
	name := func(s string) string { return "SIM_" + cfg.Name + "_" + s }
	l := &Lane{cfg: cfg,
		Arrival: NewPin(name("ARRIVAL")), Safety: NewPin(name("SAFETY")),
		OpenRelay: NewPin(name("OPEN")), CloseRelay: NewPin(name("CLOSE")),
	}
	pins := []*Pin{l.Arrival, l.Safety, l.OpenRelay, l.CloseRelay}
	if !cfg.NoLimits {
		l.OpenLimit, l.ClosedLimit = NewPin(name("OPEN_LIMIT")), NewPin(name("CLOSED_LIMIT"))
		pins = append(pins, l.OpenLimit, l.ClosedLimit)
	}
	for _, p := range pins {
		if err := gpioreg.Register(p); err != nil {
			l.Close()
			return nil, fmt.Errorf("simgpio: register %s: %w", p.N, err)
		}
		l.names = append(l.names, p.N)
	}
	off := gpio.Level(cfg.RelayActiveLow)
	l.OpenRelay.Pin.Out(off)
	l.CloseRelay.Pin.Out(off)
	l.Arrival.Drive(gpio.Level(cfg.LoopActiveLow))
	l.Safety.Drive(gpio.Level(cfg.LoopActiveLow))
	l.Barrier = newBarrierModel(l)
	return l, nil
}

// PinNames returns the pin names as the configuration names them
// (arrival_loop, safety_loop, open_pin, close_pin, open_limit_pin,
// closed_limit_pin).
func (l *Lane) PinNames() map[string]string {
	m := map[string]string{"arrival_loop": l.Arrival.N, "safety_loop": l.Safety.N, "open_pin": l.OpenRelay.N, "close_pin": l.CloseRelay.N}
	if l.OpenLimit != nil {
		m["open_limit_pin"], m["closed_limit_pin"] = l.OpenLimit.N, l.ClosedLimit.N
	}
	return m
}

// SetArrival puts a vehicle on the arrival loop or takes it off.
func (l *Lane) SetArrival(occupied bool) {
	l.Arrival.Drive(gpio.Level(occupied != l.cfg.LoopActiveLow))
}

// SetSafety puts a vehicle on the loop under the barrier or takes it off.
func (l *Lane) SetSafety(occupied bool) { l.Safety.Drive(gpio.Level(occupied != l.cfg.LoopActiveLow)) }

// Close unregisters the pins.
func (l *Lane) Close() error {
	for _, n := range l.names {
		gpioreg.Unregister(n)
	}
	l.names = nil
	return nil
}

// BarrierModel is the physical barrier: it starts moving when a relay
// commands it and reaches the other end after the travel time, moving its
// limit switches.
type BarrierModel struct {
	l *Lane

	mu       sync.Mutex
	state    lane.BarrierState // closed, opening, open or closing
	gen      int
	jammed   bool
	onChange func(lane.BarrierState)
}

func newBarrierModel(l *Lane) *BarrierModel {
	b := &BarrierModel{l: l, state: lane.BarrierClosed}
	b.setLimits(false, true)
	energised := func(v gpio.Level) bool { return bool(v) != l.cfg.RelayActiveLow }
	l.OpenRelay.OnOut(func(v gpio.Level) {
		switch {
		case energised(v):
			b.command(true)
		case l.cfg.Mode == "level":
			b.command(false)
		}
	})
	l.CloseRelay.OnOut(func(v gpio.Level) {
		if energised(v) && l.cfg.Mode != "level" {
			b.command(false)
		}
	})
	return b
}

// State returns where the barrier is: closed, opening, open or closing.
func (b *BarrierModel) State() lane.BarrierState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}

// OnChange sets f, called (on the clock) each time the barrier starts
// moving or reaches an end: the simulator lets the vehicle through on open.
func (b *BarrierModel) OnChange(f func(state lane.BarrierState)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.onChange = f
}

// Jam makes the barrier ignore its relays (on) or obey them again (off),
// for fault scenarios.
func (b *BarrierModel) Jam(on bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.jammed = on
}

// command starts a movement up or down. It runs inside the driver's Out, so
// the movement itself starts on the clock, outside the driver's call.
func (b *BarrierModel) command(up bool) {
	b.l.cfg.Clock.AfterFunc(0, func() { b.move(up) })
}

func (b *BarrierModel) move(up bool) {
	b.mu.Lock()
	if b.jammed {
		b.mu.Unlock()
		return
	}
	moving, end := lane.BarrierOpening, lane.BarrierOpen
	if !up {
		moving, end = lane.BarrierClosing, lane.BarrierClosed
	}
	if b.state == moving || b.state == end {
		b.mu.Unlock()
		return
	}
	b.gen++
	gen := b.gen
	b.state = moving
	f := b.onChange
	b.mu.Unlock()
	b.setLimits(false, false)
	if f != nil {
		f(moving)
	}
	b.l.cfg.Clock.AfterFunc(b.l.cfg.Travel, func() {
		b.mu.Lock()
		if b.gen != gen || b.jammed {
			b.mu.Unlock()
			return
		}
		b.state = end
		f := b.onChange
		b.mu.Unlock()
		b.setLimits(up, !up)
		if f != nil {
			f(end)
		}
	})
}

// setLimits drives the limit switches (when wired).
func (b *BarrierModel) setLimits(atOpen, atClosed bool) {
	if b.l.OpenLimit == nil {
		return
	}
	low := b.l.cfg.LimitActiveLow
	b.l.OpenLimit.Drive(gpio.Level(atOpen != low))
	b.l.ClosedLimit.Drive(gpio.Level(atClosed != low))
}
