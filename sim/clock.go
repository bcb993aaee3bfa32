package sim

import (
	"time"

	"github.com/hazgate/hazgate/clock"
)

// WallTimers is a clock for the parts of a simulated gate that talk to the
// real world (the uplink, the kiosk): it tells the scenario's time, so
// records and payloads carry simulated timestamps, but its timers run on the
// wall clock, so network pacing goes on while the scenario's clock stands
// still between events.
type WallTimers struct{ Fake *clock.Fake }

var _ clock.Clock = WallTimers{}

// Now is the scenario's time.
func (w WallTimers) Now() time.Time { return w.Fake.Now() }

// AfterFunc runs f after d of wall-clock time.
func (WallTimers) AfterFunc(d time.Duration, f func()) clock.Timer { return time.AfterFunc(d, f) }
