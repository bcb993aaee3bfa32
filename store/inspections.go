package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/registry"
)

// Inspection is one decided inspection of a vehicle at a lane.
type Inspection struct {
	ID         string // ULID; the store fills it when empty
	Gate, Lane string
	Direction  lane.Direction
	Evidence   checks.Evidence
	Outcome    checks.Outcome
	DecidedBy  string // ActorSystem or "operator:<name>"
	ArrivedAt  time.Time
	DecidedAt  time.Time
	Timings    map[string]time.Duration // step name -> offset from arrival
}

// CommitInspection durably records a decided inspection in one transaction:
// the inspection with its evidence, outcome (every check result) and
// timings, an "inspection.decided" audit entry and msgs in the outbox
// (stamped at DecidedAt). It fills an empty ins.ID (a ULID), ins.Lane (from
// the evidence) and ins.ArrivedAt (likewise), and the empty IDs of msgs,
// before it writes: a retry of the same values keeps the same IDs. When it
// returns nil the record is on disk; only then may the barrier move.
//
// What is derived from the record, one check_results row per check and the
// inspection's search entry, is written by the follow-up transaction right
// after (see derived.go); ListInspections waits for it, and Open rebuilds it
// after a crash.
//
// The transaction touches, besides the pages its rows fill, one leaf of
// each of these B-trees and no others: inspections, its primary-key index
// (inspection IDs are what passages, decisions and check_results refer to,
// and what GetInspection looks up), audit, outbox, its event_seq index, and
// the counters page (the audit and outbox sequences, which must move in the
// same transaction as the rows they number). IDs are ULIDs and seqs
// increase, so each of them appends to its rightmost leaf.
func (s *Store) CommitInspection(ctx context.Context, ins *Inspection, msgs ...OutboxMessage) error {
	if err := ins.check(); err != nil {
		return fmt.Errorf("store: commit inspection: %w", err)
	}
	if ins.ID == "" {
		ins.ID = newID(ins.DecidedAt)
	}
	if ins.Lane == "" {
		ins.Lane = ins.Evidence.Lane
	}
	if ins.ArrivedAt.IsZero() {
		ins.ArrivedAt = ins.Evidence.Arrived
	}
	doc, err := ins.encode()
	if err != nil {
		return fmt.Errorf("store: commit inspection %s: %w", ins.ID, err)
	}
	e := ins.Evidence
	return s.write(ctx, "commit inspection "+ins.ID, func(tx *sql.Tx) error {
		if _, err := s.exec(ctx, tx, qInsertInspection, ins.ID, ins.Gate, ins.Lane, ins.Direction,
			e.Plate, registry.NormalizePlate(e.Plate), e.Trailer, registry.NormalizePlate(e.Trailer),
			personID(e.Driver), personID(e.Escort), e.Waybill, string(ins.Outcome.Verdict), ins.DecidedBy,
			fmtTime(ins.ArrivedAt), fmtTime(ins.DecidedAt), doc.evidence, doc.outcome, doc.timings); err != nil {
			return err
		}
		s.deriv.added(deriveInspections)
		detail := map[string]any{"lane": ins.Lane, "direction": ins.Direction, "plate": e.Plate,
			"verdict": ins.Outcome.Verdict, "failed": ins.Outcome.Failed()}
		if err := s.appendAudit(ctx, tx, ins.DecidedBy, "inspection.decided", ins.ID, detail, ins.DecidedAt); err != nil {
			return err
		}
		return s.insertOutbox(ctx, tx, msgs, ins.DecidedAt)
	})
}

// inspectionDoc is an inspection's JSON columns.
type inspectionDoc struct {
	evidence, outcome, timings string
}

func (ins *Inspection) encode() (inspectionDoc, error) {
	var d inspectionDoc
	timings := ins.Timings
	if timings == nil {
		timings = map[string]time.Duration{}
	}
	for _, f := range []struct {
		dst  *string
		name string
		v    any
	}{
		{&d.evidence, "evidence", ins.Evidence},
		{&d.outcome, "outcome", ins.Outcome},
		{&d.timings, "timings", timings},
	} {
		b, err := json.Marshal(f.v)
		if err != nil {
			return d, fmt.Errorf("%s: %w", f.name, err)
		}
		*f.dst = string(b)
	}
	return d, nil
}

const (
	qInsertInspection = `INSERT INTO inspections (id, gate, lane, direction, plate, plate_norm, trailer, trailer_norm,
		driver_id, escort_id, waybill, verdict, decided_by, arrived_at, decided_at, evidence, outcome, timings)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

func (ins *Inspection) check() error {
	var missing []string
	if ins.Direction != lane.DirectionIn && ins.Direction != lane.DirectionOut {
		missing = append(missing, fmt.Sprintf("direction %q is not in or out", ins.Direction))
	}
	switch ins.Outcome.Verdict {
	case checks.VerdictPass, checks.VerdictReject, checks.VerdictReview:
	default:
		missing = append(missing, fmt.Sprintf("verdict %q is not pass, reject or review", ins.Outcome.Verdict))
	}
	if ins.DecidedBy == "" {
		missing = append(missing, "decided_by is empty")
	}
	if ins.DecidedAt.IsZero() {
		missing = append(missing, "decided_at is zero")
	}
	// What check_results would refuse, refused now: its rows are written
	// after the commit, and must not fail there.
	seen := make(map[string]bool, len(ins.Outcome.Checks))
	for i, c := range ins.Outcome.Checks {
		switch c.Result {
		case checks.Pass, checks.Fail, checks.Unknown:
		default:
			missing = append(missing, fmt.Sprintf("check %d (%s): result %q is not pass, fail or unknown", i, c.ID, c.Result))
		}
		if seen[c.ID] {
			missing = append(missing, fmt.Sprintf("check %d: %s appears twice", i, c.ID))
		}
		seen[c.ID] = true
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(missing, "; "))
	}
	return nil
}

func personID(p *checks.PersonEvidence) string {
	if p == nil {
		return ""
	}
	return normalizeID(p.IDNumber)
}

const inspectionColumns = `id, gate, lane, direction, decided_by, arrived_at, decided_at, evidence, outcome, timings`

func scanInspection(sc interface{ Scan(...any) error }) (*Inspection, error) {
	var ins Inspection
	var arrived, decided, ev, out, tm string
	if err := sc.Scan(&ins.ID, &ins.Gate, &ins.Lane, &ins.Direction, &ins.DecidedBy, &arrived, &decided, &ev, &out, &tm); err != nil {
		return nil, err
	}
	var err error
	if ins.ArrivedAt, err = parseTime(arrived); err != nil {
		return nil, err
	}
	if ins.DecidedAt, err = parseTime(decided); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(ev), &ins.Evidence); err != nil {
		return nil, fmt.Errorf("inspection %s: evidence: %w", ins.ID, err)
	}
	if err := json.Unmarshal([]byte(out), &ins.Outcome); err != nil {
		return nil, fmt.Errorf("inspection %s: outcome: %w", ins.ID, err)
	}
	if err := json.Unmarshal([]byte(tm), &ins.Timings); err != nil {
		return nil, fmt.Errorf("inspection %s: timings: %w", ins.ID, err)
	}
	return &ins, nil
}

// GetInspection returns the inspection with this ID, or an error matching
// ErrNotFound.
func (s *Store) GetInspection(ctx context.Context, id string) (*Inspection, error) {
	ins, err := scanInspection(s.reader.QueryRowContext(ctx, `SELECT `+inspectionColumns+` FROM inspections WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: inspection %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: inspection %s: %w", id, err)
	}
	return ins, nil
}

// Filter selects inspections; zero fields select everything.
type Filter struct {
	Plate    string         // tractor or trailer plate, compared normalised
	IDNumber string         // the driver's or the escort's ID number
	Waybill  string         // waybill number
	Verdict  checks.Verdict // pass, reject or review
	Outcome  string         // OutcomePassed, OutcomePending, OutcomeReleased or OutcomeRefused
	From, To time.Time      // decided in [From, To)
	Limit    int            // at most this many, newest first; <= 0 means 100
}

// ListInspections returns the inspections that f selects, newest decision
// first.
func (s *Store) ListInspections(ctx context.Context, f Filter) ([]Inspection, error) {
	var where []string
	var args []any
	if f.Plate != "" {
		p := registry.NormalizePlate(f.Plate)
		where = append(where, `(plate_norm = ? OR trailer_norm = ?)`)
		args = append(args, p, p)
	}
	if f.IDNumber != "" {
		id := normalizeID(f.IDNumber)
		where = append(where, `(driver_id = ? OR escort_id = ?)`)
		args = append(args, id, id)
	}
	if f.Waybill != "" {
		where = append(where, `waybill = ?`)
		args = append(args, f.Waybill)
	}
	if f.Verdict != "" {
		where = append(where, `verdict = ?`)
		args = append(args, string(f.Verdict))
	}
	if f.Outcome != "" {
		w, a, err := outcomeWhere(f.Outcome)
		if err != nil {
			return nil, err
		}
		where, args = append(where, w), append(args, a...)
	}
	if !f.From.IsZero() {
		where = append(where, `decided_at >= ?`)
		args = append(args, fmtTime(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, `decided_at < ?`)
		args = append(args, fmtTime(f.To))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	// The filter runs on the small table inspection_search, in decision
	// order, newest first; only the rows it selects are read. It is
	// derived: catch it up with what was just committed first.
	if err := s.flushDerived(ctx); err != nil {
		return nil, fmt.Errorf("store: list inspections: %w", err)
	}
	sub := `SELECT id FROM inspection_search`
	if len(where) > 0 {
		sub += ` WHERE ` + strings.Join(where, ` AND `)
	}
	sub += ` ORDER BY decided_at DESC, id DESC LIMIT ?`
	q := `SELECT ` + inspectionColumns + ` FROM inspections WHERE id IN (` + sub + `) ORDER BY decided_at DESC, id DESC`
	args = append(args, limit)

	rows, err := s.reader.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list inspections: %w", err)
	}
	defer rows.Close()
	var out []Inspection
	for rows.Next() {
		ins, err := scanInspection(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list inspections: %w", err)
		}
		out = append(out, *ins)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list inspections: %w", err)
	}
	return out, nil
}
