package appliance

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/sim/simgpio"
)

// Halt, for a process that ends without Run having returned, puts a barrier
// held open (level mode: its open relay energised) in the fail-secure
// position at once; Running names what Run has running, each lane's
// devices among them.
func TestHaltDeEnergisesTheBarrier(t *testing.T) {
	dir := t.TempDir()
	g, err := simgpio.NewLane(simgpio.LaneConfig{Name: fmt.Sprintf("halt-%d", time.Now().UnixNano()), Mode: "level", Travel: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	p := g.PinNames()
	yml := fmt.Sprintf(`park: p1
gate: g1
database: %s
kiosk: {listen: "127.0.0.1:0"}
lanes:
  - name: in-1
    direction: in
    idcard: {port: %s}
    scanner: {port: %s}
    arrival_loop: {pin: %s}
    safety_loop: {pin: %s}
    barrier: {mode: level, open_pin: %s, open_limit_pin: %s, closed_limit_pin: %s, feedback_timeout: 10m}
`, filepath.Join(dir, "gate.db"), filepath.Join(dir, "no-reader"), filepath.Join(dir, "no-scanner"),
		p["arrival_loop"], p["safety_loop"], p["open_pin"], p["open_limit_pin"], p["closed_limit_pin"])
	a, w := startAppliance(t, yml, nil)
	w.wait(t, "in-1", "the barrier reported closed", func(s lane.Snapshot) bool { return s.BarrierReported == lane.BarrierClosed })

	running := a.Running()
	for _, want := range []string{"in-1/gpio", "in-1/idcard", "in-1/scanner", "the gate (lanes and MQTT uplink)"} {
		if !slices.Contains(running, want) {
			t.Fatalf("Running() = %q, without %q", running, want)
		}
	}
	if slices.ContainsFunc(running, func(s string) bool { return strings.Contains(s, "database") }) {
		t.Fatalf("Running() = %q: the database is not being closed yet", running)
	}

	bs := a.hw.barriers()
	if len(bs) != 1 {
		t.Fatalf("%d barriers with their lines open, want 1", len(bs))
	}
	if err := bs[0].Open(); err != nil {
		t.Fatal(err)
	}
	if g.OpenRelay.Read() != gpio.High {
		t.Fatal("the open relay is not energised after Open")
	}
	a.Halt()
	if g.OpenRelay.Read() != gpio.Low {
		t.Fatal("the open relay is still energised after Halt")
	}
}
