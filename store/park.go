package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/registry"
)

// Who is inside the park (migration 0023): every gate keeps its sibling
// gates' passages as it hears them (RecordParkPassage) beside its own
// (RecordPassage), and for every plate the latest passage of either. A
// vehicle whose latest passage is an entry is inside.

// ParkPassage is a passage at a sibling gate of the park, as its event
// told it.
type ParkPassage struct {
	ID           string // the sibling's passage id (its event id)
	Gate, Lane   string
	Direction    lane.Direction
	Plate        string
	At           time.Time
	InspectionID string // the sibling's inspection: not in this store
}

// Present is a vehicle inside the park: its latest passage, an entry.
type Present struct {
	Plate        string    `json:"plate"`
	Since        time.Time `json:"since"`
	Gate         string    `json:"gate"`
	Lane         string    `json:"lane"`
	PassageID    string    `json:"passage_id"`
	InspectionID string    `json:"inspection_id,omitempty"`
}

// RecordParkPassage keeps a sibling gate's passage. It reports false when
// the passage was known already (heard twice: from its event and from a
// presence view, or after a restart), and then changes nothing.
func (s *Store) RecordParkPassage(ctx context.Context, p ParkPassage, now time.Time) (bool, error) {
	if p.Direction != lane.DirectionIn && p.Direction != lane.DirectionOut {
		return false, fmt.Errorf("store: park passage: %w: direction %q is not in or out", ErrInvalid, p.Direction)
	}
	if p.ID == "" || p.Gate == "" || p.At.IsZero() || registry.NormalizePlate(p.Plate) == "" {
		return false, fmt.Errorf("store: park passage: %w: id, gate, plate and time are required", ErrInvalid)
	}
	var added bool
	err := s.write(ctx, "record park passage "+p.ID, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, `INSERT INTO park_passages (id, gate, lane, direction, plate, plate_norm, at, inspection_id, received_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			p.ID, p.Gate, p.Lane, p.Direction, p.Plate, registry.NormalizePlate(p.Plate), fmtTime(p.At), nullString(p.InspectionID), fmtTime(now))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		added = true
		return s.noteLatest(ctx, tx, p.ID, p.Gate, p.Lane, p.Direction, p.Plate, p.At, p.InspectionID)
	})
	return added, err
}

// noteLatest makes a passage the plate's latest if it is later than the
// one held.
func (s *Store) noteLatest(ctx context.Context, tx *sql.Tx, id, gate, laneName string, dir lane.Direction, plate string, at time.Time, inspectionID string) error {
	norm := registry.NormalizePlate(plate)
	if norm == "" {
		return nil // an exit of a vehicle whose plate was never read
	}
	_, err := s.exec(ctx, tx, `INSERT INTO park_latest (plate_norm, plate, passage_id, gate, lane, direction, at, inspection_id)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
		ON CONFLICT (plate_norm) DO UPDATE SET plate = ?2, passage_id = ?3, gate = ?4, lane = ?5, direction = ?6, at = ?7, inspection_id = ?8
		WHERE ?7 > park_latest.at OR (?7 = park_latest.at AND ?3 > park_latest.passage_id)`,
		norm, plate, id, gate, laneName, dir, fmtTime(at), nullString(inspectionID))
	return err
}

// ParkInside lists the vehicles inside the park, longest there first.
func (s *Store) ParkInside(ctx context.Context) ([]Present, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT plate, at, gate, lane, passage_id, coalesce(inspection_id, '')
		FROM park_latest WHERE direction = 'in' ORDER BY at, passage_id`)
	if err != nil {
		return nil, fmt.Errorf("store: vehicles inside: %w", err)
	}
	defer rows.Close()
	out := []Present{}
	for rows.Next() {
		var p Present
		var at string
		if err := rows.Scan(&p.Plate, &at, &p.Gate, &p.Lane, &p.PassageID, &p.InspectionID); err != nil {
			return nil, fmt.Errorf("store: vehicles inside: %w", err)
		}
		if p.Since, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("store: vehicles inside: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ParkPresent reports whether the vehicle with this plate (compared
// normalised) is inside the park, and its entry.
func (s *Store) ParkPresent(ctx context.Context, plate string) (Present, bool, error) {
	var p Present
	var at string
	err := s.reader.QueryRowContext(ctx, `SELECT plate, at, gate, lane, passage_id, coalesce(inspection_id, '')
		FROM park_latest WHERE plate_norm = ? AND direction = 'in'`, registry.NormalizePlate(plate)).
		Scan(&p.Plate, &at, &p.Gate, &p.Lane, &p.PassageID, &p.InspectionID)
	switch {
	case err == sql.ErrNoRows:
		return Present{}, false, nil
	case err != nil:
		return Present{}, false, fmt.Errorf("store: is %s inside: %w", plate, err)
	}
	if p.Since, err = parseTime(at); err != nil {
		return Present{}, false, fmt.Errorf("store: is %s inside: %w", plate, err)
	}
	return p, true, nil
}

// OwnPassages are the gate's own passages that its siblings need after a
// restart: those since since, and the entries of the vehicles still inside
// that came in through this gate, oldest first, at most limit.
func (s *Store) OwnPassages(ctx context.Context, gate string, since time.Time, limit int) ([]ParkPassage, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT id, lane, direction, plate, at, coalesce(inspection_id, '') FROM passages
		WHERE gate = ?1 AND plate_norm <> '' AND (at >= ?2 OR id IN (SELECT passage_id FROM park_latest WHERE direction = 'in' AND gate = ?1))
		ORDER BY at DESC, id DESC LIMIT ?3`, gate, fmtTime(since), limit)
	if err != nil {
		return nil, fmt.Errorf("store: own passages: %w", err)
	}
	defer rows.Close()
	var out []ParkPassage
	for rows.Next() {
		p := ParkPassage{Gate: gate}
		var at string
		if err := rows.Scan(&p.ID, &p.Lane, &p.Direction, &p.Plate, &at, &p.InspectionID); err != nil {
			return nil, fmt.Errorf("store: own passages: %w", err)
		}
		if p.At, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("store: own passages: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}
