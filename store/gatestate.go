package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// LockdownState is the gate's persisted lock-down: whether it is on, who
// switched it last, and when.
type LockdownState struct {
	On bool
	By string
	At time.Time
}

// SetLockdown durably records that the gate is locked down (on) or not, by
// whom, at at: a restart must not lift a lock-down (see Lockdown). Why is
// the caller's to audit.
func (s *Store) SetLockdown(ctx context.Context, on bool, by string, at time.Time) error {
	if by == "" || at.IsZero() {
		return fmt.Errorf("store: set lock-down: %w: who and when are required", ErrInvalid)
	}
	value := "0"
	if on {
		value = "1"
	}
	return s.write(ctx, "set lock-down", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO gate_state (name, value, by, at) VALUES ('lockdown', ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value, by = excluded.by, at = excluded.at`,
			value, by, fmtTime(at))
		return err
	})
}

// Lockdown returns the persisted lock-down; never set is off.
func (s *Store) Lockdown(ctx context.Context) (LockdownState, error) {
	var value, by, at string
	err := s.reader.QueryRowContext(ctx, `SELECT value, by, at FROM gate_state WHERE name = 'lockdown'`).Scan(&value, &by, &at)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return LockdownState{}, nil
	case err != nil:
		return LockdownState{}, fmt.Errorf("store: lock-down: %w", err)
	}
	t, err := parseTime(at)
	if err != nil {
		return LockdownState{}, fmt.Errorf("store: lock-down: at: %w", err)
	}
	// Anything but "0" is on: a value this build does not know must not
	// lift a lock-down.
	return LockdownState{On: value != "0", By: by, At: t}, nil
}
