package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Media is a stored image (a live face capture, a card photo) of an
// inspection, kept only for the retention period.
type Media struct {
	InspectionID string
	Kind         string // e.g. "face_driver", "face_escort"
	Data         []byte
	CreatedAt    time.Time
}

// PutMedia stores an image. The inspection need not be committed yet; keep
// this off the decision path (store images after the barrier command).
func (s *Store) PutMedia(ctx context.Context, m Media) error { return s.PutMediaAll(ctx, m) }

// PutMediaAll stores images in one transaction: a reader sees all of them
// or none.
func (s *Store) PutMediaAll(ctx context.Context, ms ...Media) error {
	for _, m := range ms {
		if m.InspectionID == "" || m.Kind == "" || m.CreatedAt.IsZero() {
			return fmt.Errorf("store: put media: %w: inspection, kind and created_at are required", ErrInvalid)
		}
	}
	return s.write(ctx, "put media", func(tx *sql.Tx) error {
		for _, m := range ms {
			data := m.Data
			if data == nil {
				data = []byte{}
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO media (inspection_id, kind, data, created_at) VALUES (?, ?, ?, ?)`,
				m.InspectionID, m.Kind, data, fmtTime(m.CreatedAt)); err != nil {
				return err
			}
		}
		return nil
	})
}

// MediaFor returns the images stored for an inspection, in the order they
// were stored.
func (s *Store) MediaFor(ctx context.Context, inspectionID string) ([]Media, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT inspection_id, kind, data, created_at FROM media
		WHERE inspection_id = ? ORDER BY id`, inspectionID)
	if err != nil {
		return nil, fmt.Errorf("store: media for %s: %w", inspectionID, err)
	}
	defer rows.Close()
	var out []Media
	for rows.Next() {
		var m Media
		var created string
		if err := rows.Scan(&m.InspectionID, &m.Kind, &m.Data, &created); err != nil {
			return nil, fmt.Errorf("store: media for %s: %w", inspectionID, err)
		}
		if m.CreatedAt, err = parseTime(created); err != nil {
			return nil, fmt.Errorf("store: media for %s: %w", inspectionID, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: media for %s: %w", inspectionID, err)
	}
	return out, nil
}

// PurgeMedia deletes the images created before before (now minus the
// retention setting), audits each batch that deleted any, and returns how
// many it deleted: Purge with only Retention.MediaBefore. The freed pages
// are overwritten with zeros (secure_delete), so the faces do not linger
// in the file.
func (s *Store) PurgeMedia(ctx context.Context, before time.Time) (n int, err error) {
	r, err := s.Purge(ctx, Retention{MediaBefore: before})
	return r.Media, err
}

// MediaKinds returns the kinds of the images stored for an inspection (the
// latest of each kind counts), without their bytes.
func (s *Store) MediaKinds(ctx context.Context, inspectionID string) ([]string, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT kind FROM media WHERE inspection_id = ? GROUP BY kind ORDER BY MIN(id)`, inspectionID)
	if err != nil {
		return nil, fmt.Errorf("store: media kinds for %s: %w", inspectionID, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("store: media kinds for %s: %w", inspectionID, err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: media kinds for %s: %w", inspectionID, err)
	}
	return out, nil
}

// MediaOne returns the latest image of a kind stored for an inspection, or
// an error matching ErrNotFound.
func (s *Store) MediaOne(ctx context.Context, inspectionID, kind string) (Media, error) {
	m := Media{InspectionID: inspectionID, Kind: kind}
	var created string
	err := s.reader.QueryRowContext(ctx, `SELECT data, created_at FROM media WHERE inspection_id = ? AND kind = ? ORDER BY id DESC LIMIT 1`,
		inspectionID, kind).Scan(&m.Data, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Media{}, fmt.Errorf("store: %s image of %s: %w", kind, inspectionID, ErrNotFound)
	}
	if err != nil {
		return Media{}, fmt.Errorf("store: %s image of %s: %w", kind, inspectionID, err)
	}
	if m.CreatedAt, err = parseTime(created); err != nil {
		return Media{}, fmt.Errorf("store: %s image of %s: %w", kind, inspectionID, err)
	}
	return m, nil
}

// MediaPurgedBefore returns the latest "before" of the face-image purges
// that deleted images (the media.purged audit entries): an image created
// before it is gone. It is zero when no purge deleted any.
func (s *Store) MediaPurgedBefore(ctx context.Context) (time.Time, error) {
	var before sql.NullString
	err := s.reader.QueryRowContext(ctx, `SELECT MAX(json_extract(detail, '$.before')) FROM audit WHERE action = 'media.purged'`).Scan(&before)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: last media purge: %w", err)
	}
	if !before.Valid || before.String == "" {
		return time.Time{}, nil
	}
	t, err := parseTime(before.String)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: last media purge: %w", err)
	}
	return t, nil
}
