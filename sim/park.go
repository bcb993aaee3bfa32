package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"

	"github.com/hazgate/hazgate/store"
)

// The park demo (`hazgate sim -park`): two gates of one park on one broker,
// each with its own store, lanes and simulated devices, as two controllers
// at two gates would be (docs/uplink.md, "Who is inside the park"). A
// tanker comes in through the east gate; the west gate learns it is inside
// from the east gate's passage; it leaves through the west gate, whose exit
// is linked to the entry at the east gate, and the east gate learns it has
// left. Each gate's count of vehicles inside is printed as it changes.

// ParkGates are the park demo's two gates.
var ParkGates = [2]string{"east", "west"}

// ParkDemo is the park demo's outcome: each gate's report and the counts
// of vehicles inside seen at each step.
type ParkDemo struct {
	Reports [2]*Report
	// Steps are what each gate knew at each step, in order.
	Steps []ParkStep
	// Entry is the east gate's inspection that let the tanker in, and
	// ExitEntry the entry the west gate's exit event names.
	Entry, ExitEntry string
}

// ParkStep is what the two gates knew after one step of the demo.
type ParkStep struct {
	What   string
	Inside [2]int // at east, at west
}

// parkScenarios are the demo's two halves: at the east gate the first
// tanker's entry, at the west gate its exit (the built-in demo's).
func parkScenarios() (east, west *Scenario, err error) {
	if east, err = Parse(DemoYAML, "demo.yaml"); err != nil {
		return nil, nil, err
	}
	if west, err = Parse(DemoYAML, "demo.yaml"); err != nil {
		return nil, nil, err
	}
	in := slices.IndexFunc(east.Arrivals, func(a Arrival) bool { return !IsExit(a.Lane) && a.Expect != nil && a.Expect.Verdict == "pass" })
	if in < 0 {
		return nil, nil, fmt.Errorf("sim: park demo: the demo has no passing entry")
	}
	out := slices.IndexFunc(west.Arrivals, func(a Arrival) bool { return IsExit(a.Lane) && a.Plate == east.Arrivals[in].Plate })
	if out < 0 {
		return nil, nil, fmt.Errorf("sim: park demo: the demo has no exit of %s", east.Arrivals[in].Plate)
	}
	east.Name = "park demo, east gate: a tanker comes in"
	east.Arrivals = east.Arrivals[in : in+1]
	west.Name = "park demo, west gate: it leaves"
	west.Arrivals = west.Arrivals[out : out+1]
	west.Arrivals[0].At = Offset(2 * time.Hour) // on the west gate's own clock
	return east, west, nil
}

// RunParkDemo runs the park demo on the broker at brokerURL (the park
// "demo", gates east and west), printing its progress and each gate's
// count to w. Each gate records into a store of its own in dir.
func RunParkDemo(ctx context.Context, w io.Writer, brokerURL, clientID, dir string, opt Options) (*ParkDemo, error) {
	scs := [2]*Scenario{}
	var err error
	if scs[0], scs[1], err = parkScenarios(); err != nil {
		return nil, err
	}
	var engs [2]*Engine
	defer func() {
		for _, e := range engs {
			if e != nil {
				e.Close()
			}
		}
	}()
	for i, name := range ParkGates {
		o := opt
		o.Park, o.Gate, o.Broker, o.ClientID = "demo", name, brokerURL, clientID+"-"+name
		o.DB, o.Store, o.Clock = filepath.Join(dir, name+".db"), nil, nil
		if engs[i], err = New(ctx, scs[i], o); err != nil {
			return nil, fmt.Errorf("sim: park demo: the %s gate: %w", name, err)
		}
	}
	demo := &ParkDemo{}
	step := func(what string, want [2]int) error {
		got, err := waitInside(ctx, engs, want, 30*time.Second)
		demo.Steps = append(demo.Steps, ParkStep{What: what, Inside: got})
		fmt.Fprintf(w, "park: %s — vehicles inside known at east: %d, at west: %d\n", what, got[0], got[1])
		if err != nil {
			return fmt.Errorf("sim: park demo: %s: %w", what, err)
		}
		return nil
	}
	for i := range engs {
		if err := waitConnected(ctx, engs[i], 30*time.Second); err != nil {
			return nil, fmt.Errorf("sim: park demo: the %s gate: %w", ParkGates[i], err)
		}
	}
	if demo.Reports[0], err = engs[0].Run(ctx); err != nil {
		return nil, err
	}
	if err := step("the tanker came in through the east gate", [2]int{1, 1}); err != nil {
		return demo, err
	}
	if demo.Reports[1], err = engs[1].Run(ctx); err != nil {
		return nil, err
	}
	if err := step("it left through the west gate", [2]int{0, 0}); err != nil {
		return demo, err
	}
	ins, err := engs[0].Store().ListInspections(ctx, store.Filter{Limit: 2})
	if err != nil {
		return demo, err
	}
	if len(ins) == 1 {
		demo.Entry = ins[0].ID
	}
	if demo.ExitEntry, err = exitEntry(ctx, engs[1]); err != nil {
		return demo, err
	}
	fmt.Fprintf(w, "park: the west gate's exit names the east gate's entry inspection %s\n", demo.ExitEntry)
	return demo, nil
}

// exitEntry is the entry_id of the gate's exit passage event.
func exitEntry(ctx context.Context, e *Engine) (string, error) {
	st := e.Store()
	rows, err := st.PendingOutbox(ctx, 0, 1000)
	if err != nil {
		return "", err
	}
	sent, err := st.SentEvents(ctx, 1, 1000, 1000)
	if err != nil {
		return "", err
	}
	for _, r := range append(rows, sent...) {
		if r.Kind != store.KindPassage {
			continue
		}
		var p struct {
			Direction string `json:"direction"`
			EntryID   string `json:"entry_id"`
		}
		if json.Unmarshal(r.Payload, &p) == nil && p.Direction == "out" {
			return p.EntryID, nil
		}
	}
	return "", fmt.Errorf("sim: park demo: the west gate recorded no exit")
}

// waitInside waits until each gate knows want vehicles inside, or for at
// most limit (the passages travel over MQTT); it returns what they knew.
func waitInside(ctx context.Context, engs [2]*Engine, want [2]int, limit time.Duration) ([2]int, error) {
	deadline := time.Now().Add(limit)
	for {
		var got [2]int
		for i, e := range engs {
			in, err := e.Store().ParkInside(ctx)
			if err != nil {
				return got, err
			}
			got[i] = len(in)
		}
		if got == want {
			return got, nil
		}
		if time.Now().After(deadline) {
			return got, fmt.Errorf("the gates knew %v vehicles inside after %v, want %v", got, limit, want)
		}
		select {
		case <-ctx.Done():
			return got, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitConnected waits until the gate's uplink is connected and subscribed
// (it hears its sibling's passages only from then on, and their retained
// presence views at that moment).
func waitConnected(ctx context.Context, e *Engine, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		if up := e.Gate().Uplink; up == nil || up.Connection().Subscribed {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not connected to the broker after %v", limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
