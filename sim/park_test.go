package sim

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hazgate/hazgate/uplink/broker"
)

// The park demo: two gates of one park on one broker, each with its own
// store. The tanker that came in at the east gate is inside at both; its
// exit at the west gate is linked to that entry, and both then count none.
func TestParkDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two gates")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b, err := broker.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var out bytes.Buffer
	demo, err := RunParkDemo(ctx, &out, b.URL(), "park-test", t.TempDir(), Options{})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(demo.Steps) != 2 || demo.Steps[0].Inside != [2]int{1, 1} || demo.Steps[1].Inside != [2]int{0, 0} {
		t.Fatalf("steps %+v", demo.Steps)
	}
	for i, r := range demo.Reports {
		if r.Failed != 0 || len(r.Inspections) != 1 {
			t.Fatalf("%s gate: %d failed of %d", ParkGates[i], r.Failed, len(r.Inspections))
		}
	}
	if demo.ExitEntry == "" || demo.ExitEntry != demo.Entry {
		t.Fatalf("the west gate's exit names entry %q, the east gate's inspection is %q", demo.ExitEntry, demo.Entry)
	}
	if !strings.Contains(out.String(), "at east: 0, at west: 0") {
		t.Fatalf("output:\n%s", out.String())
	}
}
