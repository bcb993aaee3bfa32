package record

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/lane"
)

func TestDecideOnAnUnsyncedClock(t *testing.T) {
	ctx := context.Background()
	g, fleet, now := newGate(t)
	synced := false
	g.ClockSynced = func() bool { return synced }
	id, out, err := g.Decide(ctx, "in-1", evidenceFor(fleet[0], now), now.Add(21*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if out.Verdict != checks.VerdictReview {
		t.Fatalf("verdict %s on an unsynced clock, want review", out.Verdict)
	}
	c, _ := out.Check(checks.VehicleDocuments)
	if c.Result != checks.Unknown || !slices.Contains(c.Codes(), checks.ReasonClockUnsynced) {
		t.Fatalf("vehicle_documents %s %v, want unknown clock_unsynced", c.Result, c.Codes())
	}
	ins, err := g.Store.GetInspection(ctx, id)
	if err != nil || ins.Outcome.ClockSynced == nil || *ins.Outcome.ClockSynced {
		t.Fatalf("stored inspection's clock_synced %v (%v), want false", ins.Outcome.ClockSynced, err)
	}
	// The operator releases it once the clock is back: its events say so.
	synced = true
	if err := g.RecordDecision(ctx, "in-1", id, "op1", "release", "documents checked by hand", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := g.RecordPassage(ctx, "in-1", id, lane.DirectionIn, now.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	msgs := pending(t, g)
	want := map[string]bool{"events/inspection": false, "events/alarm": true, "events/decision": true, "events/passage": true}
	if len(msgs) != 4 {
		t.Fatalf("%d messages, want inspection, alarm, decision, passage", len(msgs))
	}
	for _, m := range msgs {
		topic := m["_topic"].(string)
		if got, ok := m["clock_synced"].(bool); !ok || got != want[topic] {
			t.Errorf("%s: clock_synced %v, want %v", topic, m["clock_synced"], want[topic])
		}
	}
}

func TestClockAlarms(t *testing.T) {
	ctx := context.Background()
	g, _, now := newGate(t)
	id, raised, err := g.Raise(ctx, ClockUnsyncedCondition(clock.ReasonUnsynced), now)
	if err != nil || !raised {
		t.Fatalf("raise: %v %v", raised, err)
	}
	if _, again, _ := g.Raise(ctx, ClockUnsyncedCondition(clock.ReasonUnsynced), now.Add(time.Second)); again {
		t.Fatal("clock_unsynced raised twice")
	}
	cleared, err := g.Clear(ctx, AlarmClockUnsynced, ClockSyncedText, now.Add(time.Minute))
	if err != nil || !cleared {
		t.Fatalf("clear: %v %v", cleared, err)
	}
	from := now.Add(2 * time.Minute)
	if err := g.ClockJumped(ctx, from, from.Add(-time.Hour), from.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	msgs := pending(t, g)
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want raised, cleared, jumped", len(msgs))
	}
	r, c, j := msgs[0], msgs[1], msgs[2]
	if r["kind"] != AlarmClockUnsynced || r["state"] != StateRaised || r["alarm_id"] != id || r["code"] != clock.ReasonUnsynced {
		t.Fatalf("raised %v", r)
	}
	if c["kind"] != AlarmClockUnsynced || c["state"] != StateCleared || c["alarm_id"] != id {
		t.Fatalf("cleared %v", c)
	}
	text := j["text"].(map[string]any)
	if j["kind"] != AlarmClockJumped || j["code"] != AlarmClockJumped || !strings.Contains(text["en"].(string), "stepped back 1h0m0s") || text["zh"] == "" {
		t.Fatalf("jumped %v", j)
	}
	for _, reason := range []string{clock.ReasonUnsynced, clock.ReasonBeforeFloor, clock.ReasonSourceFailed} {
		tx := ClockUnsyncedCondition(reason).Text
		if tx.ZH == "" || tx.EN == "" {
			t.Errorf("%s: no text", reason)
		}
	}
	if ClockUnsyncedCondition(clock.ReasonBeforeFloor).Text == ClockUnsyncedCondition(clock.ReasonUnsynced).Text {
		t.Error("before_trusted_after says the same as kernel_unsynced")
	}
}
