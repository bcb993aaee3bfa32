package sim

import (
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"time"

	"github.com/hazgate/hazgate/config"
	"github.com/hazgate/hazgate/device/scale"
	"github.com/hazgate/hazgate/device/serialport"
	"github.com/hazgate/hazgate/gate"
	"github.com/hazgate/hazgate/sim/simscale"
)

// The simulated weighbridge: an XK3190-class indicator on a pty (simscale)
// read by the gate's scale driver. A lane has one when an arrival there
// gives gross_kg or a fault names <lane>/scale. While a vehicle stands on
// the lane the indicator sends a frame of its gross weight every
// scaleFrameEvery of the fake clock, each a device step whose frame the
// loop waits to see read; the driver stamps each frame with the fake
// clock, so a stable weight is found at the same fake instant on any
// machine. Faults: unplug, noise (garbage and a bad frame before each good
// one) and unstable (the weight wanders by more than the band).

const (
	scaleBaud = 9600
	// scaleFrameEvery is the simulated indicator's frame period while a
	// vehicle stands on it (a real one sends 10-50 a second; slower keeps
	// the fake clock's steps few).
	scaleFrameEvery = 500 * time.Millisecond
	// scaleWander is how far the weight swings each frame when unstable:
	// more than the band (config.DefaultScaleBandKg).
	scaleWander = 300
	// scaleSilenceOff is the simulated indicator's timeout: in effect
	// none, since it sends frames only while a vehicle stands on it (a
	// real one sends them always; its silence is device/scale's tests').
	scaleSilenceOff = config.Duration(1000 * time.Hour)
	// MaxGrossKg is the most a scenario's gross_kg may be: six digits on
	// the indicator.
	MaxGrossKg = 999999
)

// hasScale reports whether the scenario weighs vehicles at lane name.
func (s *Scenario) hasScale(name string) bool {
	for _, a := range s.Arrivals {
		if a.Lane == name && a.GrossKg != nil {
			return true
		}
	}
	for _, f := range s.Faults {
		if laneName, kind := splitDevice(f.Device); laneName == name && kind == gate.DeviceScale {
			return true
		}
	}
	return false
}

// scaleConfig is the lane's scale in the simulated gate's configuration.
func (e *Engine) scaleConfig(name string) *config.Scale {
	if IsExit(name) || !e.sc.hasScale(name) {
		return nil
	}
	return &config.Scale{Port: filepath.Join(e.devDir, "hazgate-scale-"+name), Baud: scaleBaud, Unit: "kg",
		StableFor: config.Duration(config.DefaultScaleStableFor), BandKg: config.DefaultScaleBandKg,
		Timeout: scaleSilenceOff}
}

// weighbridge is one simulated indicator and the real driver reading it.
type weighbridge struct {
	e      *Engine
	l      *simLane
	name   string
	sim    *simscale.Indicator
	driver *scale.Reader

	// Guarded by e.dev.
	driverHealth      // unplugged: down
	open         bool // its driver has the port open
	owed         int  // frames written that the driver has not reported yet
	kg           int64
	loaded       bool // a vehicle stands on it: frames go out
	gen          int  // tells a stopped ticker's last tick from a new one's
	n            int  // frames sent for the current vehicle
	noisy        bool
	unstable     bool
	told         bool // the progress said the current vehicle's weight is stable
}

func (e *Engine) wireScale(l *simLane) error {
	sc := l.gl.Config.Scale
	if sc == nil {
		return nil
	}
	ind, err := simscale.New(sc.Port)
	if err != nil {
		return fmt.Errorf("sim: lane %s: %w", l.name, err)
	}
	e.cleanup = append(e.cleanup, func() { ind.Close() })
	w := &weighbridge{e: e, l: l, name: l.gl.DeviceName(gate.DeviceScale), sim: ind}
	l.gl.Health(gate.DeviceScale, gate.KindScale, nil)
	w.driver = l.gl.ScaleReader(func() (io.ReadCloser, error) {
		p, err := serialport.Open(sc.Port, sc.Baud)
		if err != nil {
			return nil, err
		}
		e.dev.Lock()
		w.open = true
		e.changedLocked()
		e.dev.Unlock()
		return p, nil
	}, e.clk)
	l.scale = w
	return nil
}

// load puts a vehicle of kg on the platform and starts the frames. Runs on
// the clock goroutine.
func (w *weighbridge) load(kg int64) {
	w.e.dev.Lock()
	w.kg, w.loaded, w.n, w.told = kg, true, 0, false
	w.gen++
	gen := w.gen
	w.e.dev.Unlock()
	w.tick(gen)
}

// unload: the vehicle is gone; the frames stop. Runs on the clock goroutine.
func (w *weighbridge) unload() {
	w.e.dev.Lock()
	w.loaded = false
	w.gen++
	w.e.dev.Unlock()
}

// tick sends a frame as a device step and schedules the next.
func (w *weighbridge) tick(gen int) {
	w.e.dev.Lock()
	live := w.loaded && w.gen == gen
	w.e.dev.Unlock()
	if !live {
		return
	}
	w.e.act(func() { w.send(gen) })
	w.e.clk.AfterFunc(scaleFrameEvery, func() { w.tick(gen) })
}

// send writes one frame, unless the indicator is unplugged or its driver
// has not opened it (a frame nobody reads is lost, as on the wire). A
// device step.
func (w *weighbridge) send(gen int) {
	e := w.e
	e.dev.Lock()
	if !w.loaded || w.gen != gen || w.down || !w.open {
		e.dev.Unlock()
		return
	}
	kg := w.kg
	if w.unstable && w.n%2 == 1 {
		kg += scaleWander
	}
	w.n++
	noisy := w.noisy
	w.owed++
	e.changedLocked()
	e.dev.Unlock()
	if err := w.sim.Send(kg, noisy); err != nil {
		e.deviceNote(w.l.name, w.name, fmt.Sprintf("frame not sent: %v", err))
		e.dev.Lock()
		w.owed--
		e.changedLocked()
		e.dev.Unlock()
	}
}

func (w *weighbridge) busyLocked() string {
	if why := w.driverHealth.busyLocked(); why != "" {
		return why
	}
	if w.owed > 0 && !w.down {
		return fmt.Sprintf("waiting for the driver to read %d frame(s)", w.owed)
	}
	return ""
}

// event is what the driver reports: it goes to the lane's adapter, and a
// frame read is one less owed.
func (w *weighbridge) event(ev scale.Event) {
	e, l := w.e, w.l
	if e.closing.Load() {
		return
	}
	l.gl.Weigh(ev)
	switch ev.Kind {
	case scale.EventWeight:
		e.dev.Lock()
		w.owed = max(0, w.owed-1)
		e.changedLocked()
		e.dev.Unlock()
	case scale.EventStable:
		e.dev.Lock()
		first := !w.told
		w.told = true
		e.dev.Unlock()
		if first { // once per vehicle: it holds for as long as the vehicle stands
			e.deviceNote(l.name, w.name, fmt.Sprintf("stable at %.0f kg", ev.Stable.Kg))
		}
	case scale.EventFault:
		if !errors.Is(ev.Err, scale.ErrUnplugged) {
			e.deviceNote(l.name, w.name, "fault: "+plainReason(ev.Err))
			return
		}
		// Frames written before the unplug are lost with it.
		e.deviceHealth(l, gate.DeviceScale, gate.KindScale, ev.Err, func() { w.faulted, w.open, w.owed = true, false, 0 })
	case scale.EventRecovered:
		e.deviceHealth(l, gate.DeviceScale, gate.KindScale, nil, func() { w.faulted = false })
	}
}

// inject starts (on) or ends (off) a fault of the indicator. A device step.
func (w *weighbridge) inject(kind string, on bool) error {
	e := w.e
	switch kind {
	case "noise", "unstable":
		e.dev.Lock()
		if kind == "noise" {
			w.noisy = on
		} else {
			w.unstable = on
		}
		e.dev.Unlock()
		return nil
	case "unplug":
	default:
		return fmt.Errorf("sim: %s: unknown fault %q", w.name, kind)
	}
	var err error
	if on {
		err = w.sim.Unplug()
	} else {
		err = w.sim.Plug()
	}
	e.dev.Lock()
	w.down = on
	e.changedLocked()
	e.dev.Unlock()
	return err
}

// grossKg is the weight an arrival puts on the indicator: whole kilograms
// (0 for an arrival that gives none: the platform reads nothing).
func grossKg(a Arrival) int64 {
	if a.GrossKg == nil {
		return 0
	}
	return int64(math.Round(*a.GrossKg))
}
