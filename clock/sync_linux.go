package clock

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// Kernel is the kernel's word on the wall clock: adjtimex(2) read without
// changing anything. The clock is synchronised when adjtimex does not
// return TIME_ERROR and STA_UNSYNC is clear: a time service (chrony,
// ntpd, systemd-timesyncd) has disciplined it, and nobody has set it by
// hand since (settimeofday sets STA_UNSYNC again). This is what
// timedatectl shows as "System clock synchronized".
type Kernel struct{}

var _ SyncSource = Kernel{}

// Read asks the kernel.
func (Kernel) Read() (Reading, error) {
	var tx unix.Timex // Modes 0: read only
	state, err := unix.Adjtimex(&tx)
	now := time.Now().Round(0)
	if err != nil {
		return Reading{Wall: now}, fmt.Errorf("clock: the kernel's sync status cannot be read (adjtimex): %w", err)
	}
	synced := state != unix.TIME_ERROR && tx.Status&unix.STA_UNSYNC == 0
	detail := fmt.Sprintf("estimated maximum error %v", time.Duration(int64(tx.Maxerror))*time.Microsecond)
	return Reading{Wall: now, Synced: synced, Detail: detail}, nil
}
