package sim

import (
	"context"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/config"
)

// The simulated gate's clock is synchronised unless the scenario has a
// clock fault, `{device: clock, kind: unsynced, at, for}`: from at (to
// at+for, or the end) the gate's clock is not known to be right, so its
// date checks are unknown (clock_unsynced) and the clock_unsynced alarm is
// on. The gate's clock monitor looks once when the gate starts and again
// at each clock fault's start and end, on the scenario's clock: no
// periodic look adds events to the run.

// simClock is the simulated gate's clock section: the scenario's source,
// no floor, and no periodic look.
func simClock() config.Clock {
	c := config.DefaultClock()
	c.Sync = clock.SourceSim
	c.CheckEvery = 0 // looked at when a clock fault starts or ends (setClockSynced)
	return c
}

// setClockSynced sets whether the simulated clock is synchronised, and has
// the gate look at it now. A device step (inject).
func (e *Engine) setClockSynced(on bool) {
	e.clockSrc.SetSynced(on)
	if m := e.gate.ClockMonitor; m != nil {
		m.Check(context.Background())
	}
}

// gateWide reports whether a fault's kind of device is the gate's own (the
// face service, the clock) rather than a lane's.
func gateWide(kind string) bool { return kind == FaceDevice || kind == ClockDevice }
