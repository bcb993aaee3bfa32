package record

import (
	"context"
	"encoding/json"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/store"
)

// SchemaDecision is the schema of <root>/events/decision.
const SchemaDecision = "hazgate.decision/1"

// DecisionEvent is the payload of <root>/events/decision: an operator's
// release or refusal of a held vehicle, from the kiosk or from the safety
// office's signed command, with how the case ended. It goes out once per
// decision, after the inspection's own event (which stays once per
// inspection), so the safety office knows which reviewed vehicles got in.
type DecisionEvent struct {
	header
	InspectionID string         `json:"inspection_id,omitempty"` // empty for an exit lane's release
	Plate        string         `json:"plate"`
	Verdict      checks.Verdict `json:"verdict,omitempty"` // the inspection's verdict, before the decision
	Action       string         `json:"action"`            // store.ActionRelease or store.ActionRefuse
	Operator     string         `json:"operator"`          // a kiosk account, or "remote:<by>" for a signed command
	Reason       string         `json:"reason"`
	// Outcome is the case's final outcome: store.OutcomeReleased or
	// store.OutcomeRefused.
	Outcome string `json:"outcome"`
}

// decisionMessage is the outbox message of an operator's decision. The
// plate and verdict come from the inspection when there is one; a plate
// that cannot be read leaves them empty rather than losing the decision.
func (g *Keeper) decisionMessage(ctx context.Context, laneName, inspectionID, operator, action, reason string, at time.Time) store.OutboxMessage {
	ev := DecisionEvent{InspectionID: inspectionID, Action: action, Operator: operator, Reason: reason, Outcome: store.OutcomeRefused}
	if action == store.ActionRelease {
		ev.Outcome = store.OutcomeReleased
	}
	if inspectionID != "" {
		if ins, err := g.Store.GetInspection(ctx, inspectionID); err == nil {
			ev.Plate, ev.Verdict = ins.Evidence.Plate, ins.Outcome.Verdict
		} else {
			g.Log.Warn("decision event without its plate: the inspection could not be read", "lane", laneName, "inspection", inspectionID, "err", err)
		}
	}
	id := g.newID(at)
	ev.header = header{Schema: SchemaDecision, ID: id, Gate: g.Name, Lane: laneName, TS: ts(at, g.Params.Location), ClockSynced: g.clockSynced()}
	b, _ := json.Marshal(ev) // plain struct: cannot fail
	return store.OutboxMessage{ID: id, Kind: store.KindDecision, Topic: "events/decision", Lane: laneName, Payload: b}
}
