package scale

import "time"

// Stable is a stable weight: every reading from Since to At stayed within
// the band; Kg is the last of them.
type Stable struct {
	Kg        float64
	Since, At time.Time
}

// Stabilizer finds stable weights in a stream of readings: the readings
// stay within Band (max − min, kg) for For. It reports one Stable per
// window of For while the weight holds, each window starting where the last
// ended, so a lane that began listening in the middle still hears one
// whose readings all came after it began. Pure: the times come in.
type Stabilizer struct {
	For  time.Duration
	Band float64

	started    bool
	from, last time.Time
	min, max   float64
}

// Add takes a reading at at and reports a Stable when it completes a
// window. A reading that is not a finite number, or that comes more than
// For after the one before (the stream paused), restarts the window.
func (s *Stabilizer) Add(kg float64, at time.Time) (Stable, bool) {
	if kg != kg || kg > 1e12 || kg < -1e12 {
		s.started = false
		return Stable{}, false
	}
	if !s.started || at.Before(s.last) || at.Sub(s.last) > s.For || max(s.max, kg)-min(s.min, kg) > s.Band {
		s.started, s.from, s.last, s.min, s.max = true, at, at, kg, kg
		return Stable{}, false
	}
	s.last = at
	s.min, s.max = min(s.min, kg), max(s.max, kg)
	if at.Sub(s.from) < s.For {
		return Stable{}, false
	}
	st := Stable{Kg: kg, Since: s.from, At: at}
	s.from, s.min, s.max = at, kg, kg
	return st, true
}

// Reset forgets the readings (the stream was broken off).
func (s *Stabilizer) Reset() { s.started = false }
