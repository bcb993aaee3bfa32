package record

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/store"
)

// alarmsOf are the alarm events in the outbox, by kind and state.
func alarmsOf(t *testing.T, g *Keeper, kind string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, m := range pending(t, g) {
		if m["_topic"] == "events/alarm" && m["kind"] == kind {
			out = append(out, m)
		}
	}
	return out
}

// A vehicle that came in here and stays longer than the park allows raises
// one overstay alarm, not one per look, which its exit clears; a vehicle
// that came in at a sibling gate is that gate's to alarm on; an entry by a
// vehicle inside (heard from a sibling) raises double_entry; an exit here is
// linked to the sibling's entry.
func TestOverstayAndDoubleEntry(t *testing.T) {
	g, fleet, t0 := newGate(t)
	ctx := context.Background()
	id, _, err := g.Decide(ctx, "in-1", evidenceFor(fleet[0], t0), t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.RecordPassage(ctx, "in-1", id, lane.DirectionIn, t0); err != nil {
		t.Fatal(err)
	}
	// Heard from west-1: another vehicle came in there.
	if _, err := g.Store.RecordParkPassage(ctx, store.ParkPassage{ID: "01JWEST0000000000000000001", Gate: "west-1", Lane: "in-1",
		Direction: lane.DirectionIn, Plate: fleet[1].plate, At: t0, InspectionID: "01JWESTINSPECTION000000001"}, t0); err != nil {
		t.Fatal(err)
	}
	for _, h := range []time.Duration{5 * time.Hour, 7 * time.Hour, 8 * time.Hour} {
		if err := g.CheckOverstays(ctx, t0.Add(h), DefaultMaxStay); err != nil {
			t.Fatal(err)
		}
	}
	over := alarmsOf(t, g, AlarmOverstay)
	if len(over) != 1 || over[0]["state"] != StateRaised {
		t.Fatalf("overstay alarms %v, want one raised (for %s only)", over, fleet[0].plate)
	}
	text, _ := over[0]["text"].(map[string]any)
	if en, _ := text["en"].(string); en == "" || !strings.Contains(en, fleet[0].plate) {
		t.Fatalf("overstay text %v does not name the plate", text)
	}

	// It leaves: the alarm clears at once.
	if _, _, err := g.RecordExit(ctx, "out-1", fleet[0].plate, t0.Add(9*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := g.RecordPassage(ctx, "out-1", "", lane.DirectionOut, t0.Add(9*time.Hour)); err != nil {
		t.Fatal(err)
	}
	over = alarmsOf(t, g, AlarmOverstay)
	if len(over) != 2 || over[1]["state"] != StateCleared || over[1]["alarm_id"] != over[0]["alarm_id"] {
		t.Fatalf("overstay alarms after the exit %v, want the raised one cleared", over)
	}

	// The vehicle that came in at west-1 comes in again here.
	id2, _, err := g.Decide(ctx, "in-1", evidenceFor(fleet[1], t0.Add(10*time.Hour)), t0.Add(10*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := g.RecordPassage(ctx, "in-1", id2, lane.DirectionIn, t0.Add(10*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if d := alarmsOf(t, g, AlarmDoubleEntry); len(d) != 1 {
		t.Fatalf("double_entry alarms %v, want one", d)
	}

	// A third vehicle came in at west-1 and leaves here: linked to it.
	if _, err := g.Store.RecordParkPassage(ctx, store.ParkPassage{ID: "01JWEST0000000000000000002", Gate: "west-1", Lane: "in-1",
		Direction: lane.DirectionIn, Plate: fleet[2].plate, At: t0, InspectionID: "01JWESTINSPECTION000000002"}, t0); err != nil {
		t.Fatal(err)
	}
	entry, stay, err := g.RecordExit(ctx, "out-1", fleet[2].plate, t0.Add(2*time.Hour))
	if err != nil || entry != "01JWESTINSPECTION000000002" || stay != 2*time.Hour {
		t.Fatalf("exit linked to %q after %v (%v), want west-1's entry after 2h", entry, stay, err)
	}
	if err := g.RecordPassage(ctx, "out-1", "", lane.DirectionOut, t0.Add(2*time.Hour)); err != nil {
		t.Fatalf("the exit of a vehicle that came in at a sibling gate is not recorded: %v", err)
	}
	in, err := g.Store.ParkInside(ctx)
	if err != nil || len(in) != 1 || in[0].Plate != fleet[1].plate || in[0].Gate != g.Name {
		t.Fatalf("inside %+v (%v), want only %s, by its entry here", in, err, fleet[1].plate)
	}
}
