package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Who may end an evacuation: the authority that started it.
const (
	EvacuationByOffice = "office" // a signed evacuate command; only a command ends it
	EvacuationByKiosk  = "kiosk"  // a supervisor at the kiosk; only a kiosk supervisor ends it
)

// EvacuationState is the gate's persisted evacuation: whether it is on,
// which authority started it (and so may end it), who switched it last,
// and when.
type EvacuationState struct {
	On        bool
	Authority string // EvacuationByOffice or EvacuationByKiosk while on
	By        string
	At        time.Time
}

// SetEvacuation durably records that the gate evacuates (on, started by
// authority) or not, by whom, at at: a restart must not end an evacuation.
// Why is the caller's to audit; who may end it is the caller's to check.
func (s *Store) SetEvacuation(ctx context.Context, on bool, authority, by string, at time.Time) error {
	if by == "" || at.IsZero() {
		return fmt.Errorf("store: set evacuation: %w: who and when are required", ErrInvalid)
	}
	value := "0"
	if on {
		if authority != EvacuationByOffice && authority != EvacuationByKiosk {
			return fmt.Errorf("store: set evacuation: %w: authority %q is not %s or %s", ErrInvalid, authority, EvacuationByOffice, EvacuationByKiosk)
		}
		value = authority
	}
	return s.write(ctx, "set evacuation", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO gate_state (name, value, by, at) VALUES ('evacuation', ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value, by = excluded.by, at = excluded.at`,
			value, by, fmtTime(at))
		return err
	})
}

// Evacuation returns the persisted evacuation; never set is off.
func (s *Store) Evacuation(ctx context.Context) (EvacuationState, error) {
	var value, by, at string
	err := s.reader.QueryRowContext(ctx, `SELECT value, by, at FROM gate_state WHERE name = 'evacuation'`).Scan(&value, &by, &at)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return EvacuationState{}, nil
	case err != nil:
		return EvacuationState{}, fmt.Errorf("store: evacuation: %w", err)
	}
	t, err := parseTime(at)
	if err != nil {
		return EvacuationState{}, fmt.Errorf("store: evacuation: at: %w", err)
	}
	if value == "0" {
		return EvacuationState{By: by, At: t}, nil
	}
	// A value this build does not know is on, and the office's to end: a
	// restart must not end an evacuation, nor hand it to the kiosk.
	authority := value
	if authority != EvacuationByKiosk {
		authority = EvacuationByOffice
	}
	return EvacuationState{On: true, Authority: authority, By: by, At: t}, nil
}
