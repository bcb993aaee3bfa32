package record

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/store"
)

// RecordPassage records that the vehicle of an inspection (or, on an exit
// lane, the exit being let out) crossed the barrier, with its event.
func (g *Keeper) RecordPassage(ctx context.Context, laneName, inspectionID string, direction lane.Direction, at time.Time) error {
	p := store.Passage{ID: g.newID(at), InspectionID: inspectionID, Gate: g.Name, Lane: laneName, Direction: direction, At: at}
	if direction == lane.DirectionOut {
		g.mu.Lock()
		x := g.exits[laneName]
		delete(g.exits, laneName)
		g.mu.Unlock()
		p.Plate, p.EntryID, p.Stay, p.EntryRemote = x.plate, x.entryID, x.stay, x.remote
		if p.InspectionID == "" {
			p.InspectionID = x.entryID
		}
	} else if inspectionID != "" {
		ins, err := g.Store.GetInspection(ctx, inspectionID)
		if err != nil {
			return fmt.Errorf("gate: passage of %s: %w", inspectionID, err)
		}
		p.Plate = ins.Evidence.Plate
		g.checkDoubleEntry(ctx, laneName, p.Plate, at)
	}
	ev := PassageEvent{
		header:    header{Schema: SchemaPassage, ID: p.ID, Gate: g.Name, Lane: laneName, TS: ts(at, g.Params.Location), ClockSynced: g.clockSynced()},
		Direction: direction, Plate: p.Plate, InspectionID: p.InspectionID, EntryID: p.EntryID,
	}
	if direction == lane.DirectionOut && p.EntryID != "" {
		s := p.Stay.Seconds()
		ev.StayS = &s
	}
	b, _ := json.Marshal(ev)
	if err := g.recorded(g.Store.RecordPassage(ctx, p, store.OutboxMessage{ID: p.ID, Kind: store.KindPassage, Topic: "events/passage", Lane: laneName, Payload: b})); err != nil {
		return err
	}
	if direction == lane.DirectionOut && p.Plate != "" {
		g.clearOverstay(ctx, p.Plate, at)
	}
	return nil
}

// RecordDecision records an operator's release or refusal of a held vehicle,
// with an alarm that tells the safety office about the override and the
// decision's own event (record/decision.go). A second decision on the same
// inspection is refused (store.ErrDecided).
func (g *Keeper) RecordDecision(ctx context.Context, laneName, inspectionID, operator, action, reason string, at time.Time) error {
	if operator == "" || reason == "" {
		return errors.New("gate: a decision needs an operator and a reason")
	}
	detail := fmt.Sprintf("%s by %s: %s", action, operator, reason)
	msg := g.alarmMessage(laneName, AlarmEvent{Kind: AlarmOverride, Detail: detail, InspectionID: inspectionID,
		Operator: operator, Action: action, Reason: reason}, at)
	dmsg := g.decisionMessage(ctx, laneName, inspectionID, operator, action, reason, at)
	if inspectionID == "" {
		// An exit lane's release has no inspection to attach to: the
		// alarm (audited) is its record.
		return g.recorded(g.Store.RecordAlarm(ctx, store.Alarm{ID: msg.ID, Gate: g.Name, Lane: laneName, Kind: AlarmOverride, Detail: detail, At: at}, msg, dmsg))
	}
	d := store.Decision{InspectionID: inspectionID, Operator: operator, Action: action, Reason: reason, At: at}
	return g.recorded(g.Store.RecordDecision(ctx, d, msg, dmsg))
}

// RecordExit looks up the vehicle's entry for an exit lane: which inspection
// let it in, and how long it stayed. A vehicle with no recorded entry still
// leaves (exits run no checks); its passage says so by having no entry id.
func (g *Keeper) RecordExit(ctx context.Context, laneName, plate string, at time.Time) (string, time.Duration, error) {
	x, err := g.entryOf(ctx, plate, at)
	if err != nil {
		return "", 0, fmt.Errorf("gate: exit of %s: %w", plate, err)
	}
	g.mu.Lock()
	g.exits[laneName] = x
	g.mu.Unlock()
	return x.entryID, x.stay, nil
}

// RaiseAlarm records an alarm that does not end (an event, not a
// condition: see Raise) with its event. detail is for the log: the record
// and the feed get the kind's reason code and text (describe).
func (g *Keeper) RaiseAlarm(ctx context.Context, laneName, kind, detail string, at time.Time) error {
	msg := g.alarmMessage(laneName, AlarmEvent{Kind: kind, Detail: detail}, at)
	plain := AlarmEvent{Kind: kind, Detail: detail}
	describe(&plain)
	return g.recorded(g.Store.RecordAlarm(ctx, store.Alarm{ID: msg.ID, Gate: g.Name, Lane: laneName, Kind: kind, Detail: plain.Detail, At: at}, msg))
}
