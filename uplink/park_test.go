package uplink

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/lane"
)

// Three gates of one park on a real Mosquitto: an entry at east-1 is known
// at west-1, which links its exit to that entry (entry_id, stay_s); the
// park's count goes up and down at both; north-1, started later on an empty
// store, learns who is inside from the retained presence views; an entry at
// west-1 by a vehicle inside raises double_entry; the status carries the
// count and the list.
func TestParkPresenceAcrossGates(t *testing.T) {
	m := startMosquitto(t)
	ctx := context.Background()
	platform := subscribe(t, m.url(), "platform", nil, "hazgate/ningbo-chem/#")
	gateCfg := func(name string) Config {
		c := testConfig(m.url())
		c.Gate = name
		return c
	}
	gate := func(name string) *rig {
		r := newRig(t, "", gateCfg(name))
		r.g.OnRecord = r.u.Kick // as gate.Assemble wires it
		waitConn(t, r.u, "subscribed", func(c ConnState) bool { return c.Subscribed })
		return r
	}
	east, west := gate("east-1"), gate("west-1")
	enter := func(r *rig, plate string) string {
		t.Helper()
		now := time.Now()
		id, _, err := r.g.Decide(ctx, "in-1", checks.Evidence{Plate: plate}, now)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.g.RecordPassage(ctx, "in-1", id, lane.DirectionIn, now); err != nil {
			t.Fatal(err)
		}
		return id
	}
	waitInside := func(r *rig, what string, want ...string) {
		t.Helper()
		deadline := time.Now().Add(wait)
		for {
			in, err := r.st.ParkInside(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range in {
				got = append(got, p.Plate)
			}
			if slices.Equal(got, want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: inside %v, want %v", what, got, want)
			}
			select {
			case <-r.u.statusDue:
			case <-time.After(20 * time.Millisecond):
			}
		}
	}

	entry := enter(east, "浙B10001")
	waitInside(east, "east-1 after its entry", "浙B10001")
	waitInside(west, "west-1 hears east-1's entry", "浙B10001")

	// The exit at west-1 is linked to the entry at east-1.
	entryID, stay, err := west.g.RecordExit(ctx, "out-1", "浙B10001", time.Now())
	if err != nil || entryID != entry || stay <= 0 {
		t.Fatalf("exit at west-1 linked to %q (stay %v, %v), want east-1's entry %q", entryID, stay, err, entry)
	}
	if err := west.g.RecordPassage(ctx, "out-1", "", lane.DirectionOut, time.Now()); err != nil {
		t.Fatal(err)
	}
	waitInside(west, "west-1 after its exit")
	waitInside(east, "east-1 hears west-1's exit")
	got := platform.waitFor(t, "west-1's exit passage", func(ms []msg) bool { return len(on(ms, "/west-1/events/passage")) == 1 })
	var exit struct {
		EntryID string   `json:"entry_id"`
		StayS   *float64 `json:"stay_s"`
	}
	json.Unmarshal(on(got, "/west-1/events/passage")[0].payload, &exit)
	if exit.EntryID != entry || exit.StayS == nil {
		t.Fatalf("west-1's exit event: entry %q stay %v, want east-1's entry %q", exit.EntryID, exit.StayS, entry)
	}

	// A gate started later learns who is inside from the others' retained
	// presence views.
	enter(east, "浙B10002")
	waitInside(west, "west-1 hears the second entry", "浙B10002")
	north := gate("north-1")
	waitInside(north, "north-1 from the retained presence views", "浙B10002")

	// Anti-passback: an entry by a vehicle inside.
	enter(west, "浙B10002")
	platform.waitFor(t, "a double_entry alarm from west-1", func(ms []msg) bool {
		for _, a := range on(ms, "/west-1/events/alarm") {
			var ev struct{ Kind string }
			if json.Unmarshal(a.payload, &ev) == nil && ev.Kind == "double_entry" {
				return true
			}
		}
		return false
	})
	platform.waitFor(t, "east-1's status with one vehicle inside", func(ms []msg) bool {
		st := on(ms, "/east-1/status")
		if len(st) == 0 {
			return false
		}
		var rep StatusReport
		json.Unmarshal(st[len(st)-1].payload, &rep)
		return rep.Presence != nil && rep.Presence.Inside == 1 && len(rep.Presence.Vehicles) == 1 && rep.Presence.Vehicles[0].Plate == "浙B10002"
	})
}

// A sibling's passage that is not its own (another gate's name in the
// payload), or of another schema, is not kept.
func TestParkPassageFromAnotherGateRefused(t *testing.T) {
	u := &Uplink{cfg: Config{Root: "hazgate/p1/east-1", RegistryTopic: "hazgate/p1/registry"}}
	for topic, want := range map[string]string{
		"hazgate/p1/west-1/events/passage":   "west-1",
		"hazgate/p1/east-1/events/passage":   "",
		"hazgate/p1/registry/events/passage": "",
		"hazgate/p2/west-1/events/passage":   "",
	} {
		if got := u.siblingOf(topic); got != want {
			t.Errorf("siblingOf(%s) = %q, want %q", topic, got, want)
		}
	}
}
