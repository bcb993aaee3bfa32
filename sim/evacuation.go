package sim

import (
	"context"
	"errors"
	"fmt"

	"github.com/hazgate/hazgate/lane"
)

// Evacuation is the scenario's `evacuation: {at, for, by}`: the gate's
// evacuation (issue 13 part 5) started at `at` from the scenario start by
// the office's signed command (by: office, the default) or a supervisor at
// the kiosk (by: kiosk), and ended by the same authority after `for`
// (absent: it lasts to the end of the run). While it lasts every exit lane
// holds its barrier open and vehicles there drive straight through; entry
// lanes let nothing in.
type Evacuation struct {
	At  *Offset `yaml:"at"`
	For *Offset `yaml:"for"`
	By  string  `yaml:"by"`
}

// The authorities an evacuation may be started by.
const (
	EvacuationByOffice = "office"
	EvacuationByKiosk  = "kiosk"
)

func (s *Scenario) validateEvacuation(bad func(field, format string, args ...any)) {
	ev := s.Evacuation
	if ev == nil {
		return
	}
	if ev.At == nil {
		bad("evacuation.at", "missing: when the evacuation starts, from the scenario start")
	}
	if ev.For != nil && ev.For.D() <= 0 {
		bad("evacuation.for", "must be more than 0")
	}
	if ev.By != "" && ev.By != EvacuationByOffice && ev.By != EvacuationByKiosk {
		bad("evacuation.by", "%q is not office or kiosk", ev.By)
	}
}

// scheduleEvacuation puts the scenario's evacuation on the fake clock.
func (e *Engine) scheduleEvacuation() {
	ev := e.sc.Evacuation
	if ev == nil {
		return
	}
	switchIt := func(on bool) {
		ctx := context.Background()
		state := "starts"
		if !on {
			state = "ends"
		}
		var err error
		if ev.By == EvacuationByKiosk {
			e.printf("[%s] gate   evacuation %s (a supervisor at the kiosk)\n", e.offset(e.clk.Now()), state)
			err = e.gate.Lanes.EvacuateAtKiosk(ctx, on, "operator:sim-supervisor")
		} else {
			e.printf("[%s] gate   evacuation %s (the office's signed command)\n", e.offset(e.clk.Now()), state)
			err = e.gate.Lanes.Evacuate(ctx, on, "sim-office")
		}
		if err != nil {
			e.faultErr = errors.Join(e.faultErr, fmt.Errorf("sim: evacuation %s: %w", state, err))
		}
	}
	e.clk.AfterFunc(ev.At.D(), func() { e.act(func() { switchIt(true) }) })
	if ev.For != nil {
		e.clk.AfterFunc(ev.At.D()+ev.For.D(), func() { e.act(func() { switchIt(false) }) })
	}
}

// evacuating follows an exit lane held open by the evacuation: a vehicle
// that pulls up drives straight through the open barrier, and has finished
// once it cleared the safety loop (the lane stays open, never idle). It
// runs on the lane goroutine, so it only schedules work on the clock.
func (l *simLane) evacuating(v *vehicle, snap lane.Snapshot) {
	if !l.exit || v == nil || snap.Phase != lane.PhaseEvacuating {
		return
	}
	s := l.sim
	l.mu.Lock()
	opened, onLoop := v.opened, v.onLoop
	if opened && snap.SafetyOccupied {
		v.onLoop = true
	}
	l.mu.Unlock()
	switch {
	case !opened && snap.BarrierReported == lane.BarrierOpen:
		s.clk.AfterFunc(0, l.vehicleDrivesThrough)
	case opened && onLoop && !snap.SafetyOccupied:
		s.clk.AfterFunc(0, func() { l.finish(v) })
	}
}
