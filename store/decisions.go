package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Operator actions on an inspection.
const (
	ActionRelease = "release"
	ActionRefuse  = "refuse"
)

// ErrDecided is returned for a second decision on an inspection: an
// operator's release or refusal closes the case.
var ErrDecided = errors.New("already decided")

// Outcomes of an inspection, for the history's filter (Filter.Outcome).
const (
	OutcomePassed   = "passed"   // a pass verdict: the barrier opened by itself
	OutcomePending  = "pending"  // a review or a reject no operator has decided
	OutcomeReleased = "released" // an operator released the vehicle
	OutcomeRefused  = "refused"  // an operator refused it
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
// outbox, stamped at d.At, in one transaction. The inspection must exist,
// and have no decision yet: a second one is refused with an error matching
// ErrDecided (checked in the same transaction, and again by the trigger
// decisions_once), and nothing of it is written.
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
		var prev Decision
		err := s.queryRow(ctx, tx, qFirstDecision, d.InspectionID).Scan(&prev.Operator, &prev.Action)
		switch {
		case err == nil:
			return fmt.Errorf("%w: inspection %s was %s by %s", ErrDecided, d.InspectionID, pastTense(prev.Action), prev.Operator)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
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

// pastTense is "released" or "refused".
func pastTense(action string) string {
	if action == ActionRelease {
		return OutcomeReleased
	}
	return OutcomeRefused
}

// Outcome says how an inspection with this verdict and these decisions
// ended: OutcomeReleased or OutcomeRefused after an operator's decision (the
// first; there is only one since schema 12), else OutcomePassed for a pass
// and OutcomePending for a review or a reject.
func Outcome(verdict string, decisions []Decision) string {
	switch {
	case len(decisions) > 0:
		return pastTense(decisions[0].Action)
	case verdict == "pass":
		return OutcomePassed
	}
	return OutcomePending
}

// outcomeWhere is the condition on inspection_search (columns id, verdict)
// that selects the inspections with this outcome, with its arguments.
func outcomeWhere(outcome string) (string, []any, error) {
	switch outcome {
	case OutcomeReleased, OutcomeRefused:
		action := ActionRelease
		if outcome == OutcomeRefused {
			action = ActionRefuse
		}
		return `id IN (SELECT inspection_id FROM decisions WHERE action = ?)`, []any{action}, nil
	case OutcomePassed:
		return `(verdict = 'pass' AND id NOT IN (SELECT inspection_id FROM decisions))`, nil, nil
	case OutcomePending:
		return `(verdict <> 'pass' AND id NOT IN (SELECT inspection_id FROM decisions))`, nil, nil
	}
	return "", nil, fmt.Errorf("store: %w: outcome %q is not passed, pending, released or refused", ErrInvalid, outcome)
}

const (
	qFirstDecision  = `SELECT operator, action FROM decisions WHERE inspection_id = ? ORDER BY at, id LIMIT 1`
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
