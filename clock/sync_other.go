//go:build !linux

package clock

import (
	"errors"
	"time"
)

// Kernel would be the kernel's word on the wall clock; only Linux gives it
// (adjtimex). Elsewhere Read fails, so the clock is never trusted unless
// clock.sync is none.
type Kernel struct{}

var _ SyncSource = Kernel{}

// Read fails: no sync status on this system.
func (Kernel) Read() (Reading, error) {
	return Reading{Wall: time.Now().Round(0)}, errors.New("clock: no kernel sync status on this system (only Linux has adjtimex)")
}
