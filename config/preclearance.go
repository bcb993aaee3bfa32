package config

import "time"

// Preclearance is when the gate pre-clears the appointments
// (docs/design.md, "Pre-clearance"): as each arrives or changes in the
// registry, again Lead before its window opens, and from then every
// Recheck until its window ends; a result is published only when it changed.
type Preclearance struct {
	// Off: no pre-clearance.
	Off bool `yaml:"off"`
	// Lead is how long before an appointment's window opens it is judged
	// again (2h).
	Lead Duration `yaml:"lead"`
	// Recheck is how often an appointment is judged again from Lead
	// before its window opens until it ends (15m): documents expire and
	// waybills are issued.
	Recheck Duration `yaml:"recheck"`
}

// DefaultPreclearance are the preclearance section's defaults.
func DefaultPreclearance() Preclearance {
	return Preclearance{Lead: Duration(2 * time.Hour), Recheck: Duration(15 * time.Minute)}
}

func (c *Config) validatePreclearance(bad func(field, format string, args ...any)) {
	if c.Preclearance.Lead < 0 {
		bad("preclearance.lead", "%v is negative", c.Preclearance.Lead.D())
	}
	if c.Preclearance.Recheck < Duration(time.Minute) {
		bad("preclearance.recheck", "%v: must be at least 1m", c.Preclearance.Recheck.D())
	}
}
