package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SuppressedAlarms is how many alarms of one kind a rate limit held back
// and no later alarm has reported yet, and since when.
type SuppressedAlarms struct {
	Count int
	Since time.Time
}

// AddSuppressedAlarms adds counts (by limiter kind, e.g.
// "command_refused/unsigned") to the persisted counts of alarms held back,
// in one transaction; at is when, for a kind that had none.
func (s *Store) AddSuppressedAlarms(ctx context.Context, counts map[string]int, at time.Time) error {
	for kind, n := range counts {
		if kind == "" || n < 0 {
			return fmt.Errorf("store: suppressed alarms: %w: kind %q, count %d", ErrInvalid, kind, n)
		}
	}
	return s.write(ctx, "add suppressed alarms", func(tx *sql.Tx) error {
		for kind, n := range counts {
			if n == 0 {
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO alarm_suppressed (kind, count, since) VALUES (?, ?, ?)
				ON CONFLICT (kind) DO UPDATE SET count = count + excluded.count`, kind, n, fmtTime(at)); err != nil {
				return err
			}
		}
		return nil
	})
}

// SuppressedAlarmsOf returns the persisted count of kind (zero when none).
func (s *Store) SuppressedAlarmsOf(ctx context.Context, kind string) (SuppressedAlarms, error) {
	var n int
	var since string
	err := s.reader.QueryRowContext(ctx, `SELECT count, since FROM alarm_suppressed WHERE kind = ?`, kind).Scan(&n, &since)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return SuppressedAlarms{}, nil
	case err != nil:
		return SuppressedAlarms{}, fmt.Errorf("store: suppressed alarms of %s: %w", kind, err)
	}
	t, err := parseTime(since)
	if err != nil {
		return SuppressedAlarms{}, fmt.Errorf("store: suppressed alarms of %s: since: %w", kind, err)
	}
	return SuppressedAlarms{Count: n, Since: t}, nil
}

// ReportedSuppressedAlarms takes n off kind's count once an alarm has
// reported them (the row goes at zero). Called after that alarm is
// committed: a crash between the two reports them twice, never not at all.
func (s *Store) ReportedSuppressedAlarms(ctx context.Context, kind string, n int) error {
	if n <= 0 {
		return nil
	}
	return s.write(ctx, "report suppressed alarms", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM alarm_suppressed WHERE kind = ? AND count <= ?`, kind, n); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE alarm_suppressed SET count = count - ? WHERE kind = ?`, n, kind)
		return err
	})
}
