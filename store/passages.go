package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/registry"
)

// Passage is a vehicle crossing the barrier, in or out.
type Passage struct {
	ID           string // ULID; the store fills it when empty
	InspectionID string // the inspection that let it through; "" when none (a forced barrier)
	Gate, Lane   string
	Direction    lane.Direction
	Plate        string
	At           time.Time
	EntryID      string        // on the way out: the entry inspection (see LastEntry)
	Stay         time.Duration // on the way out: how long it stayed
	// EntryRemote: the entry was at a sibling gate of the park (see
	// ParkEntry); its inspection is not in this store.
	EntryRemote bool
}

// RecordPassage durably records a passage with a "passage.recorded" audit
// entry (about the inspection, or the passage when it has none) and msgs in
// the outbox, stamped at p.At, in one transaction. An empty p.ID is filled
// with a new ULID (set it beforehand to know it).
func (s *Store) RecordPassage(ctx context.Context, p Passage, msgs ...OutboxMessage) error {
	if p.Direction != lane.DirectionIn && p.Direction != lane.DirectionOut {
		return fmt.Errorf("store: record passage: %w: direction %q is not in or out", ErrInvalid, p.Direction)
	}
	if p.At.IsZero() {
		return fmt.Errorf("store: record passage: %w: at is zero", ErrInvalid)
	}
	if p.ID == "" {
		p.ID = newID(p.At)
	}
	subject := p.InspectionID
	if subject == "" {
		subject = p.ID
	}
	return s.write(ctx, "record passage "+p.ID, func(tx *sql.Tx) error {
		inspection, entry := nullString(p.InspectionID), nullString(p.EntryID)
		if p.EntryRemote {
			// The entry was at a sibling gate: its inspection is not in
			// this store (the event carries it).
			entry = nil
			if p.InspectionID == p.EntryID {
				inspection = nil
			}
		}
		if _, err := s.exec(ctx, tx, qInsertPassage, p.ID, inspection, p.Gate, p.Lane, p.Direction, p.Plate, registry.NormalizePlate(p.Plate),
			fmtTime(p.At), entry, int64(p.Stay)); err != nil {
			return err
		}
		if err := s.noteLatest(ctx, tx, p.ID, p.Gate, p.Lane, p.Direction, p.Plate, p.At, p.InspectionID); err != nil {
			return err
		}
		detail := map[string]any{"passage": p.ID, "lane": p.Lane, "direction": p.Direction, "plate": p.Plate}
		if p.EntryID != "" {
			detail["entry"] = p.EntryID
			detail["stay_s"] = p.Stay.Seconds()
		}
		if err := s.appendAudit(ctx, tx, ActorSystem, "passage.recorded", subject, detail, p.At); err != nil {
			return err
		}
		return s.insertOutbox(ctx, tx, msgs, p.At)
	})
}

const qInsertPassage = `INSERT INTO passages (id, inspection_id, gate, lane, direction, plate, plate_norm, at, entry_id, stay_ns)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// LastEntry finds the vehicle with this plate (compared normalised) on the
// premises: the inspection of its latest "in" passage that has one, and
// when that passage was, provided no "out" passage of the plate came after
// it. ok is false when the vehicle is not known to be inside.
func (s *Store) LastEntry(ctx context.Context, plate string) (inspectionID string, at time.Time, ok bool, err error) {
	var ts string
	err = s.reader.QueryRowContext(ctx, `SELECT i.inspection_id, i.at FROM
		(SELECT rowid, inspection_id, at FROM passages
		  WHERE plate_norm = ?1 AND direction = 'in' AND inspection_id IS NOT NULL
		  ORDER BY at DESC, rowid DESC LIMIT 1) i
		WHERE NOT EXISTS (SELECT 1 FROM passages o
		  WHERE o.plate_norm = ?1 AND o.direction = 'out' AND (o.at > i.at OR (o.at = i.at AND o.rowid > i.rowid)))`,
		registry.NormalizePlate(plate)).Scan(&inspectionID, &ts)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", time.Time{}, false, nil
	case err != nil:
		return "", time.Time{}, false, fmt.Errorf("store: last entry of %s: %w", plate, err)
	}
	if at, err = parseTime(ts); err != nil {
		return "", time.Time{}, false, fmt.Errorf("store: last entry of %s: %w", plate, err)
	}
	return inspectionID, at, true, nil
}
