package record

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/store"
)

// An operator's decision goes out as its own event, events/decision, with
// the inspection, the action, the operator, the reason and the outcome; a
// second decision on the inspection is refused and sends nothing.
func TestDecisionEvent(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		action, operator, outcome string
	}{
		{store.ActionRelease, "op1", store.OutcomeReleased},
		{store.ActionRefuse, "remote:safety-office", store.OutcomeRefused},
	} {
		t.Run(tt.action, func(t *testing.T) {
			g, fleet, now := newGate(t)
			ev := evidenceFor(fleet[1], now)
			ev.Escort = nil
			ev.DeadlineExceeded = true
			id, out, err := g.Decide(ctx, "in-1", ev, now.Add(120*time.Second))
			if err != nil || out.Verdict != checks.VerdictReview {
				t.Fatalf("verdict %s, %v", out.Verdict, err)
			}
			at := now.Add(150 * time.Second)
			if err := g.RecordDecision(ctx, "in-1", id, tt.operator, tt.action, "押运员当面核验", at); err != nil {
				t.Fatal(err)
			}
			err = g.RecordDecision(ctx, "in-1", id, "op2", store.ActionRelease, "again", at.Add(time.Second))
			if !errors.Is(err, store.ErrDecided) {
				t.Fatalf("second decision: %v, want ErrDecided", err)
			}
			var decisions []map[string]any
			var inspections int
			for _, m := range pending(t, g) {
				switch m["_topic"] {
				case "events/decision":
					decisions = append(decisions, m)
				case "events/inspection":
					inspections++
				}
			}
			if len(decisions) != 1 || inspections != 1 {
				t.Fatalf("%d decision events and %d inspection events, want 1 and 1", len(decisions), inspections)
			}
			d := decisions[0]
			want := map[string]any{
				"schema": SchemaDecision, "gate": "east-1", "lane": "in-1", "inspection_id": id, "plate": fleet[1].plate,
				"verdict": "review", "action": tt.action, "operator": tt.operator, "reason": "押运员当面核验", "outcome": tt.outcome,
				"ts": at.Format(time.RFC3339Nano),
			}
			for k, v := range want {
				if d[k] != v {
					t.Errorf("decision event %s = %v, want %v", k, d[k], v)
				}
			}
			if str(d["id"]) == "" || d["id"] == id {
				t.Errorf("decision event id %v: want its own", d["id"])
			}
		})
	}
}

// An exit lane's release has no inspection: its decision event goes out
// all the same.
func TestExitDecisionEvent(t *testing.T) {
	ctx := context.Background()
	g, _, now := newGate(t)
	if err := g.RecordDecision(ctx, "out-1", "", "op1", store.ActionRelease, "plate unreadable, checked by hand", now); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range pending(t, g) {
		got = append(got, str(m["_topic"]))
		if m["_topic"] == "events/decision" && (m["outcome"] != store.OutcomeReleased || m["lane"] != "out-1" || m["inspection_id"] != nil) {
			t.Fatalf("exit decision event %v", m)
		}
	}
	if len(got) != 2 || got[1] != "events/decision" {
		t.Fatalf("outbox %v, want the override alarm and the decision", got)
	}
}
