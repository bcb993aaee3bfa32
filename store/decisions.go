package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Operator actions on an inspection.
const (
	ActionRelease = "release"
	ActionRefuse  = "refuse"
)

// Decision is an operator's decision on an inspection (usually a review):
// release the vehicle by hand, or refuse it. A reason is required.
type Decision struct {
	InspectionID string
	Operator     string // the operator's name; the audit actor is "operator:<name>"
	Action       string // ActionRelease or ActionRefuse
	Reason       string
	At           time.Time
}

// RecordDecision durably records an operator's decision with a
// "decision.<action>" audit entry about the inspection and msgs in the
// outbox, stamped at d.At, in one transaction. The inspection must exist.
func (s *Store) RecordDecision(ctx context.Context, d Decision, msgs ...OutboxMessage) error {
	var bad []string
	if d.InspectionID == "" {
		bad = append(bad, "no inspection")
	}
	if strings.TrimSpace(d.Operator) == "" {
		bad = append(bad, "no operator")
	}
	if d.Action != ActionRelease && d.Action != ActionRefuse {
		bad = append(bad, fmt.Sprintf("action %q is not release or refuse", d.Action))
	}
	if strings.TrimSpace(d.Reason) == "" {
		bad = append(bad, "no reason")
	}
	if d.At.IsZero() {
		bad = append(bad, "at is zero")
	}
	if len(bad) > 0 {
		return fmt.Errorf("store: record decision: %w: %s", ErrInvalid, strings.Join(bad, "; "))
	}
	return s.write(ctx, "record decision on "+d.InspectionID, func(tx *sql.Tx) error {
		if _, err := s.exec(ctx, tx, qInsertDecision, d.InspectionID, d.Operator, d.Action, d.Reason, fmtTime(d.At)); err != nil {
			return err
		}
		detail := map[string]any{"action": d.Action, "reason": d.Reason}
		if err := s.appendAudit(ctx, tx, "operator:"+d.Operator, "decision."+d.Action, d.InspectionID, detail, d.At); err != nil {
			return err
		}
		return s.insertOutbox(ctx, tx, msgs, d.At)
	})
}

const (
	qInsertDecision = `INSERT INTO decisions (inspection_id, operator, action, reason, at) VALUES (?, ?, ?, ?, ?)`
	qInsertAlarm    = `INSERT INTO alarms (id, gate, lane, kind, detail, at) VALUES (?, ?, ?, ?, ?, ?)`
)

// Decisions returns the operator decisions on an inspection, oldest first.
func (s *Store) Decisions(ctx context.Context, inspectionID string) ([]Decision, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT inspection_id, operator, action, reason, at FROM decisions
		WHERE inspection_id = ? ORDER BY at, id`, inspectionID)
	if err != nil {
		return nil, fmt.Errorf("store: decisions on %s: %w", inspectionID, err)
	}
	defer rows.Close()
	var out []Decision
	for rows.Next() {
		var d Decision
		var at string
		if err := rows.Scan(&d.InspectionID, &d.Operator, &d.Action, &d.Reason, &at); err != nil {
			return nil, fmt.Errorf("store: decisions on %s: %w", inspectionID, err)
		}
		if d.At, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("store: decisions on %s: %w", inspectionID, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: decisions on %s: %w", inspectionID, err)
	}
	return out, nil
}

// Alarm is something the safety office must see: a rejection, an operator
// override, a device fault, a forced barrier, tampering.
type Alarm struct {
	ID         string // ULID; the store fills it when empty (set it beforehand to know it)
	Gate, Lane string
	Kind       string // e.g. "rejection", "override", "device_fault", "barrier_forced", "tamper"
	Detail     string
	At         time.Time
}

// RecordAlarm durably records an alarm with an "alarm.raised" audit entry
// about it and msgs in the outbox, stamped at a.At, in one transaction.
func (s *Store) RecordAlarm(ctx context.Context, a Alarm, msgs ...OutboxMessage) error {
	if a.Kind == "" || a.At.IsZero() {
		return fmt.Errorf("store: record alarm: %w: kind and at are required", ErrInvalid)
	}
	if a.ID == "" {
		a.ID = newID(a.At)
	}
	return s.write(ctx, "record alarm "+a.ID, func(tx *sql.Tx) error {
		if _, err := s.exec(ctx, tx, qInsertAlarm, a.ID, a.Gate, a.Lane, a.Kind, a.Detail, fmtTime(a.At)); err != nil {
			return err
		}
		detail := map[string]any{"lane": a.Lane, "kind": a.Kind, "detail": a.Detail}
		if err := s.appendAudit(ctx, tx, ActorSystem, "alarm.raised", a.ID, detail, a.At); err != nil {
			return err
		}
		return s.insertOutbox(ctx, tx, msgs, a.At)
	})
}
