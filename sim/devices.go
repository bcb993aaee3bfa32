package sim

import (
	"fmt"
	"sync"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/device/facematch"
	devgpio "github.com/hazgate/hazgate/device/gpio"
	"github.com/hazgate/hazgate/gate"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/sim/simgpio"
	"github.com/hazgate/hazgate/sim/simhttp"
)

// vehicle is one arrival as it goes through its lane.
type vehicle struct {
	index     int
	a         Arrival
	arrived   time.Time
	decidedAt time.Time
	outcome   *checks.Outcome
	// waybill is the waybill judged and how it was found
	// (checks.Evidence.WaybillSource), from the inspection recorded.
	waybill, waybillSource string
	opened                 bool // drove through the barrier
	onLoop                 bool // on the safety loop under a barrier held open by the evacuation
	operated               bool
	finished               bool
	leave                  clock.Timer
	alarms                 []string    // kinds committed on the lane while it was there
	rejected               []Rejection // scans, cards and plate reads refused while it was there

	// When it pulled up and when the barrier was commanded up for it, on
	// the wall clock (Engine.Transits) and on the scenario's.
	wallArrived, wallCommanded time.Time
	commandedAt                time.Time
}

// simLane is a lane with its runner, its simulated devices and the queue of
// vehicles waiting to pull up.
type simLane struct {
	sim  *Engine
	name string
	exit bool
	gl   *gate.Lane // the lane as the gate assembled it: its runner and device adapters

	// Its hardware (hardware.go): pins and their drivers on every lane;
	// readers, scanner, camera and face service on entry lanes.
	gpio            *simgpio.Lane
	arrival, safety *devgpio.Loop
	barrier         *devgpio.Barrier
	readers         []*cardReader // the driver's, then the escort's
	scanner         *waybillScanner
	scale           *weighbridge // nil: the lane weighs nothing (scale.go)
	camera          *simhttp.Camera
	face            *simhttp.Face
	matcher         *facematch.Matcher
	parked          parked      // the face service's requests waiting on the fake clock
	voice           *voiceBoard // every lane's (voice.go)

	mu      sync.Mutex
	cur     *vehicle
	waiting []*vehicle
	phase   lane.Phase
	shown   []string // what the display showed (voice.go)
}

func (l *simLane) current() *vehicle {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cur
}

// arrive puts v at the back of the lane's queue and pulls it up if the lane
// is free. Runs on the clock goroutine.
func (l *simLane) arrive(v *vehicle) {
	l.mu.Lock()
	l.waiting = append(l.waiting, v)
	free := l.cur == nil
	l.mu.Unlock()
	if free {
		l.pullUp()
	}
}

// pullUp starts the next waiting vehicle's inspection: it rolls onto the
// arrival loop; the plate camera pushes its read; the driver and the escort
// hold their cards to their readers and the waybill under the scanner in the
// scenario's timings (their faces are captured by the lane's faces).
func (l *simLane) pullUp() {
	l.mu.Lock()
	if l.cur != nil || len(l.waiting) == 0 {
		l.mu.Unlock()
		return
	}
	v := l.waiting[0]
	l.waiting = l.waiting[1:]
	l.cur = v
	l.mu.Unlock()

	s := l.sim
	t := s.timings
	l.mu.Lock()
	v.arrived, v.wallArrived = s.clk.Now(), time.Now()
	l.mu.Unlock()
	l.gpio.SetArrival(true)
	if l.scale != nil {
		l.scale.load(grossKg(v.a))
	}
	if v.a.Plate != "" {
		s.clk.AfterFunc(t.Plate.D(), func() { l.pushPlate(v) })
	}
	if l.exit {
		return
	}
	step := func(d time.Duration, f func()) { s.clk.AfterFunc(d, func() { s.act(f) }) }
	driverAt := t.DriverCard.D()
	escortAt := driverAt + t.Face.D() + t.EscortCard.D()
	waybillAt := escortAt + t.Face.D() + t.Waybill.D()
	if t.WaybillAt != nil {
		waybillAt = t.WaybillAt.D() // scanned while the cards are presented
	}
	if p := v.a.Driver; p != nil {
		step(driverAt, func() { l.readers[0].present(p) })
	}
	if p := v.a.Escort; p != nil {
		step(escortAt, func() { l.readers[1].present(p) })
	}
	if v.a.Waybill != "" {
		step(waybillAt, func() { l.scanner.scan(v.a.Waybill) })
	}
}

// vehicleDrivesThrough moves the vehicle from the arrival loop onto the loop
// under the open barrier, and off it after the clear time.
func (l *simLane) vehicleDrivesThrough() {
	l.mu.Lock()
	v := l.cur
	if v == nil || v.opened {
		l.mu.Unlock()
		return
	}
	v.opened = true
	l.mu.Unlock()
	if v.leave != nil {
		v.leave.Stop()
	}
	l.gpio.SetSafety(true)
	l.gpio.SetArrival(false)
	l.sim.clk.AfterFunc(max(l.sim.timings.Clear.D(), minOnLoop), func() { l.gpio.SetSafety(false) })
}

// changed follows the lane's phase: a held vehicle gets its operator step or
// turns away; an idle lane has finished its vehicle and takes the next. It
// runs on the lane goroutine, so it only schedules work on the clock.
func (l *simLane) changed(snap lane.Snapshot) {
	l.mu.Lock()
	prev := l.phase
	l.phase = snap.Phase
	v := l.cur
	if v != nil && snap.BarrierCommanded == lane.CommandUp && v.wallCommanded.IsZero() {
		v.wallCommanded, v.commandedAt = time.Now(), l.sim.clk.Now()
	}
	l.mu.Unlock()
	l.evacuating(v, snap) // evacuation.go
	if v == nil || prev == snap.Phase {
		return
	}
	s := l.sim
	switch snap.Phase {
	case lane.PhaseHeld:
		s.clk.AfterFunc(0, func() { l.held(v, snap) })
	case lane.PhaseIdle:
		s.clk.AfterFunc(0, func() { l.finish(v) })
	}
}

// held schedules the operator's step, if the scenario gives one, and the
// vehicle turning away unless it is released.
func (l *simLane) held(v *vehicle, snap lane.Snapshot) {
	if v.finished || v.opened {
		return
	}
	s := l.sim
	wait := time.Duration(0)
	if op := v.a.Operator; op != nil && snap.InspectionID != "" && !v.operated {
		v.operated = true
		wait = op.After.D()
		name := op.Name
		if name == "" {
			name = "sim-operator"
		}
		var e lane.Event = lane.OperatorRefuse{Operator: name, Reason: op.Reason, InspectionID: snap.InspectionID}
		if op.Action == "release" {
			e = lane.OperatorRelease{Operator: name, Reason: op.Reason, InspectionID: snap.InspectionID}
		}
		s.clk.AfterFunc(wait, func() {
			s.note(v, fmt.Sprintf("operator %s: %s (%s)", name, op.Action, op.Reason))
			l.gl.Runner.Send(e)
		})
		if op.Action == "release" {
			// If the release does not open (lock-down, a failed record),
			// the vehicle still turns away in the end.
			wait += s.timings.Leave.D()
		}
	}
	if v.leave == nil {
		v.leave = s.clk.AfterFunc(wait+s.timings.Leave.D(), func() {
			if !v.opened {
				l.gpio.SetArrival(false) // it drives off the arrival loop
			}
		})
	}
}

// finish closes the vehicle's story and pulls up the next one.
func (l *simLane) finish(v *vehicle) {
	l.mu.Lock()
	if l.cur != v || v.finished {
		l.mu.Unlock()
		return
	}
	v.finished = true
	l.cur = nil
	l.mu.Unlock()
	if v.leave != nil {
		v.leave.Stop()
	}
	if l.scale != nil {
		l.scale.unload()
	}
	if !l.exit {
		// The people take back what they still held to a device.
		l.sim.act(func() {
			for _, r := range l.readers {
				r.takeAway()
			}
			l.scanner.takeAway()
		})
	}
	l.sim.finished(v)
	l.pullUp()
}

// alarm notes an alarm committed on the lane, for its current vehicle.
func (l *simLane) alarm(kind string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if v := l.cur; v != nil {
		v.alarms = append(v.alarms, kind)
	}
}
