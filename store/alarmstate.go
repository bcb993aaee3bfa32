package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ActiveAlarm is an alarm that is still on: raised and not yet cleared.
type ActiveAlarm struct {
	Key      string // the condition: "device_fault/in-1/idcard", "registry_stale"...
	ID       string // the alarm's id, which its cleared event repeats
	Lane     string
	Kind     string
	Code     string // the stable reason code
	RaisedAt time.Time
}

// RaiseActiveAlarm records alarm a, with its audit entry and msgs in the
// outbox, as the alarm of condition key, unless key already has an active
// alarm: then nothing is written and that alarm is returned with raised
// false. One transaction, so a restart between the two cannot raise the
// same condition twice.
func (s *Store) RaiseActiveAlarm(ctx context.Context, key, code string, a Alarm, msgs ...OutboxMessage) (ActiveAlarm, bool, error) {
	if key == "" || a.Kind == "" || a.At.IsZero() {
		return ActiveAlarm{}, false, fmt.Errorf("store: raise alarm: %w: key, kind and at are required", ErrInvalid)
	}
	if a.ID == "" {
		a.ID = newID(a.At)
	}
	var got ActiveAlarm
	raised := false
	err := s.write(ctx, "raise alarm "+key, func(tx *sql.Tx) error {
		old, ok, err := activeAlarm(ctx, tx, key)
		if err != nil || ok {
			got = old
			return err
		}
		if _, err := s.exec(ctx, tx, qInsertAlarm, a.ID, a.Gate, a.Lane, a.Kind, a.Detail, fmtTime(a.At)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO active_alarms (key, id, lane, kind, code, raised_at) VALUES (?, ?, ?, ?, ?, ?)`,
			key, a.ID, a.Lane, a.Kind, code, fmtTime(a.At)); err != nil {
			return err
		}
		detail := map[string]any{"lane": a.Lane, "kind": a.Kind, "code": code, "detail": a.Detail}
		if err := s.appendAudit(ctx, tx, ActorSystem, "alarm.raised", a.ID, detail, a.At); err != nil {
			return err
		}
		got, raised = ActiveAlarm{Key: key, ID: a.ID, Lane: a.Lane, Kind: a.Kind, Code: code, RaisedAt: a.At}, true
		return s.insertOutbox(ctx, tx, msgs, a.At)
	})
	if err != nil {
		return ActiveAlarm{}, false, err
	}
	return got, raised, nil
}

// ClearActiveAlarm ends the active alarm of condition key at at, with an
// "alarm.cleared" audit entry and the messages msgs builds for it in the
// outbox, in one transaction. It reports false (and writes nothing) when
// key has no active alarm.
func (s *Store) ClearActiveAlarm(ctx context.Context, key string, at time.Time, msgs func(ActiveAlarm) []OutboxMessage) (ActiveAlarm, bool, error) {
	if key == "" || at.IsZero() {
		return ActiveAlarm{}, false, fmt.Errorf("store: clear alarm: %w: key and at are required", ErrInvalid)
	}
	var got ActiveAlarm
	cleared := false
	err := s.write(ctx, "clear alarm "+key, func(tx *sql.Tx) error {
		a, ok, err := activeAlarm(ctx, tx, key)
		if err != nil || !ok {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM active_alarms WHERE key = ?`, key); err != nil {
			return err
		}
		detail := map[string]any{"lane": a.Lane, "kind": a.Kind, "code": a.Code, "raised_at": fmtTime(a.RaisedAt)}
		if err := s.appendAudit(ctx, tx, ActorSystem, "alarm.cleared", a.ID, detail, at); err != nil {
			return err
		}
		got, cleared = a, true
		var out []OutboxMessage
		if msgs != nil {
			out = msgs(a)
		}
		return s.insertOutbox(ctx, tx, out, at)
	})
	if err != nil {
		return ActiveAlarm{}, false, err
	}
	return got, cleared, nil
}

// ActiveAlarms lists the alarms still on, oldest first.
func (s *Store) ActiveAlarms(ctx context.Context) ([]ActiveAlarm, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT key, id, lane, kind, code, raised_at FROM active_alarms ORDER BY raised_at, key`)
	if err != nil {
		return nil, fmt.Errorf("store: active alarms: %w", err)
	}
	defer rows.Close()
	var out []ActiveAlarm
	for rows.Next() {
		a, err := scanActive(rows)
		if err != nil {
			return nil, fmt.Errorf("store: active alarms: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: active alarms: %w", err)
	}
	return out, nil
}

func activeAlarm(ctx context.Context, tx *sql.Tx, key string) (ActiveAlarm, bool, error) {
	a, err := scanActive(tx.QueryRowContext(ctx, `SELECT key, id, lane, kind, code, raised_at FROM active_alarms WHERE key = ?`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return ActiveAlarm{}, false, nil
	}
	return a, err == nil, err
}

func scanActive(r interface{ Scan(...any) error }) (ActiveAlarm, error) {
	var a ActiveAlarm
	var at string
	if err := r.Scan(&a.Key, &a.ID, &a.Lane, &a.Kind, &a.Code, &at); err != nil {
		return ActiveAlarm{}, err
	}
	t, err := parseTime(at)
	if err != nil {
		return ActiveAlarm{}, err
	}
	a.RaisedAt = t
	return a, nil
}
