package clock

import (
	"strings"
	"testing"
	"time"
)

// The kernel answers adjtimex on any Linux host; whether its clock is
// synchronised depends on the host, so only the reading is checked.
func TestKernelReads(t *testing.T) {
	before := time.Now()
	r, err := Kernel{}.Read()
	after := time.Now()
	if err != nil {
		t.Fatalf("adjtimex: %v", err)
	}
	if r.Wall.Before(before.Round(0).Add(-time.Second)) || r.Wall.After(after.Round(0).Add(time.Second)) {
		t.Fatalf("wall %v, not between %v and %v", r.Wall, before, after)
	}
	if strings.Contains(r.Wall.String(), "m=") {
		t.Fatalf("wall %v carries a monotonic reading: a step of the clock would not show", r.Wall)
	}
	if !strings.HasPrefix(r.Detail, "estimated maximum error ") {
		t.Fatalf("detail %q", r.Detail)
	}
	t.Logf("this host's clock: synced %v, %s", r.Synced, r.Detail)
}
