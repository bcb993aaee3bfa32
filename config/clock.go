package config

import (
	"fmt"
	"strings"
	"time"
)

// Clock is how the gate decides whether its wall clock can be trusted
// (docs/design.md "The clock").
type Clock struct {
	// Sync is what vouches for the clock: kernel (the kernel's adjtimex
	// status: a time service has synchronised it) or none (nothing is
	// asked: the clock is trusted from TrustedAfter on; for a board whose
	// battery-backed clock is its only time, and TrustedAfter is then
	// required).
	Sync string `yaml:"sync"`
	// TrustedAfter is a date (YYYY-MM-DD, from the start of that day in the
	// park's zone) or a timestamp with an offset: a wall clock that reads
	// before it is never trusted. Empty: no floor.
	TrustedAfter string `yaml:"trusted_after"`
	// MaxBackwardJump: a step of the wall clock backwards larger than this
	// raises a clock_jumped alarm (0: never).
	MaxBackwardJump Duration `yaml:"max_backward_jump"`
	// CheckEvery is how often the clock is looked at.
	CheckEvery Duration `yaml:"check_every"`
}

// The values of clock.sync.
const (
	ClockSyncKernel = "kernel"
	ClockSyncNone   = "none"
)

// DefaultClock is the clock section's defaults.
func DefaultClock() Clock {
	return Clock{Sync: ClockSyncKernel, MaxBackwardJump: Duration(2 * time.Minute), CheckEvery: Duration(10 * time.Second)}
}

// TrustedAfterTime is clock.trusted_after as an instant, a date taken at
// the start of its day in loc; zero when it is empty.
func (c Clock) TrustedAfterTime(loc *time.Location) (time.Time, error) {
	s := strings.TrimSpace(c.TrustedAfter)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date such as 2026-01-01 or a timestamp with an offset such as 2026-01-01T00:00:00+08:00", c.TrustedAfter)
}

// validate checks the clock section.
func (c Clock) validate(bad func(field, format string, args ...any), loc *time.Location) {
	switch c.Sync {
	case ClockSyncKernel:
	case ClockSyncNone:
		if strings.TrimSpace(c.TrustedAfter) == "" {
			bad("clock.trusted_after", "missing: with clock.sync none nothing vouches for the clock but this date (a board back in 1970 would be trusted)")
		}
	default:
		bad("clock.sync", "%q is not kernel or none", c.Sync)
	}
	if _, err := c.TrustedAfterTime(loc); err != nil {
		bad("clock.trusted_after", "%v", err)
	}
	if c.MaxBackwardJump < 0 {
		bad("clock.max_backward_jump", "%v is negative (0 turns the alarm off)", c.MaxBackwardJump.D())
	}
	if c.CheckEvery <= 0 {
		bad("clock.check_every", "%v: must be more than 0", c.CheckEvery.D())
	}
}
