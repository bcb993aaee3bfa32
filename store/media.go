package store

import (
	"context"
	"database/sql"
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
func (s *Store) PutMedia(ctx context.Context, m Media) error {
	if m.InspectionID == "" || m.Kind == "" || m.CreatedAt.IsZero() {
		return fmt.Errorf("store: put media: %w: inspection, kind and created_at are required", ErrInvalid)
	}
	data := m.Data
	if data == nil {
		data = []byte{}
	}
	return s.write(ctx, "put media", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO media (inspection_id, kind, data, created_at) VALUES (?, ?, ?, ?)`,
			m.InspectionID, m.Kind, data, fmtTime(m.CreatedAt))
		return err
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
// retention setting), audits the purge when it deleted any, and returns how
// many it deleted. The freed pages are overwritten with zeros
// (secure_delete), so the faces do not linger in the file; the space is
// reused by later images.
func (s *Store) PurgeMedia(ctx context.Context, before time.Time) (n int, err error) {
	err = s.writeWith(ctx, "purge media", "secure_delete = ON", "secure_delete = OFF", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM media WHERE created_at < ?`, fmtTime(before))
		if err != nil {
			return err
		}
		m, err := res.RowsAffected()
		if err != nil {
			return err
		}
		n = int(m)
		if n == 0 {
			return nil
		}
		return s.appendAudit(ctx, tx, ActorSystem, "media.purged", "media",
			map[string]any{"before": fmtTime(before), "deleted": n}, s.clock.Now())
	})
	return n, err
}
