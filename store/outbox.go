package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Outbox message kinds. Inspections, passages, alarms and operator
// decisions are events: each takes the next event seq. Status and telemetry do not, and are the first
// to be dropped when the outbox is full.
const (
	KindInspection = "inspection"
	KindPassage    = "passage"
	KindAlarm      = "alarm"
	KindDecision   = "decision"
	KindStatus     = "status"
	KindTelemetry  = "telemetry"
)

// OutboxMessage is a message for the uplink, written in the transaction that
// creates the record it reports.
type OutboxMessage struct {
	ID      string          // ULID, the same on every redelivery; the store fills it when empty
	Kind    string          // KindInspection, KindPassage, KindAlarm, KindDecision, KindStatus or KindTelemetry
	Topic   string          // suffix under the gate's root, e.g. "events/inspection"
	Payload json.RawMessage // JSON, without seq (the uplink adds it from the row)
	Lane    string
}

// OutboxRow is a stored outbox message.
type OutboxRow struct {
	// Seq is the outbox's delivery order: strictly increasing by one from
	// message to message, never reused.
	Seq int64
	// EventSeq is the gate's event seq, the payload's "seq": strictly
	// increasing by one over inspection, passage, alarm and decision messages, so a
	// consumer of the event topics sees a gap. 0 for status and telemetry.
	EventSeq  int64
	ID        string
	Kind      string
	Topic     string
	Lane      string
	Payload   json.RawMessage
	CreatedAt time.Time // the time of the record it reports
}

func isEvent(kind string) bool {
	return kind == KindInspection || kind == KindPassage || kind == KindAlarm || kind == KindDecision || kind == KindPreclearance
}

// Enqueue writes messages that report no record of their own (status,
// telemetry) to the outbox, stamped at.
func (s *Store) Enqueue(ctx context.Context, at time.Time, msgs ...OutboxMessage) error {
	if len(msgs) == 0 {
		return nil
	}
	return s.write(ctx, "enqueue", func(tx *sql.Tx) error {
		return s.insertOutbox(ctx, tx, msgs, at)
	})
}

const (
	// seq and event_seq follow their counters, which the trigger
	// outbox_counters moves up (and outbox_pending with them).
	qInsertOutbox = `INSERT INTO outbox (seq, id, kind, event_seq, topic, lane, payload, created_at) VALUES (
		(SELECT value + 1 FROM counters WHERE name = 'outbox_seq'), ?1, ?2,
		CASE WHEN ?2 IN ('inspection', 'passage', 'alarm', 'decision', 'preclearance') THEN (SELECT value + 1 FROM counters WHERE name = 'event_seq') END,
		?3, ?4, ?5, ?6)`
	// The number of unsent rows, which the outbox triggers keep.
	qOutboxPending = `SELECT value FROM counters WHERE name = 'outbox_pending'`
	// The oldest unsent status or telemetry message, through the partial
	// index outbox_droppable.
	qDropOldestDroppable = `DELETE FROM outbox WHERE seq =
		(SELECT seq FROM outbox WHERE sent_at IS NULL AND kind IN ('status', 'telemetry') ORDER BY seq LIMIT 1)`
	// outboxLow is the low-water mark: every row below it is sent or
	// gone, so unsent rows are looked for from it up, not through the
	// sent rows the outbox keeps until they are pruned.
	outboxLow = `(SELECT value FROM counters WHERE name = 'outbox_low')`
)

// insertOutbox writes msgs inside tx, filling empty IDs.
func (s *Store) insertOutbox(ctx context.Context, tx *sql.Tx, msgs []OutboxMessage, at time.Time) error {
	for i := range msgs {
		m := &msgs[i]
		switch {
		case !isEvent(m.Kind) && m.Kind != KindStatus && m.Kind != KindTelemetry:
			return fmt.Errorf("outbox message %d: %w: kind %q", i, ErrInvalid, m.Kind)
		case m.Topic == "":
			return fmt.Errorf("outbox message %d: %w: no topic", i, ErrInvalid)
		case !json.Valid(m.Payload):
			return fmt.Errorf("outbox message %d: %w: payload is not JSON", i, ErrInvalid)
		}
		if m.ID == "" {
			m.ID = newID(at)
		}
		if !isEvent(m.Kind) && s.diskLow.Load() {
			continue // the room left is for records (SetDiskLow)
		}
		if s.limit > 0 {
			keep, err := s.makeRoom(ctx, tx, m.Kind)
			if err != nil {
				return fmt.Errorf("outbox message %d: %w", i, err)
			}
			if !keep {
				continue
			}
		}
		if _, err := s.exec(ctx, tx, qInsertOutbox, m.ID, m.Kind, m.Topic, m.Lane, string(m.Payload), fmtTime(at)); err != nil {
			return fmt.Errorf("outbox message %d (%s): %w", i, m.ID, err)
		}
		s.deriv.added(deriveOutbox)
	}
	return nil
}

// makeRoom applies the outbox bound to a message of kind, and reports
// whether to write it. Below the bound every message is written. At it, a
// status or telemetry message is dropped, and an event is written all the
// same, displacing the oldest unsent status or telemetry message when
// there is one (when there is none, the event goes over the bound).
func (s *Store) makeRoom(ctx context.Context, tx *sql.Tx, kind string) (bool, error) {
	var depth int
	if err := s.queryRow(ctx, tx, qOutboxPending).Scan(&depth); err != nil {
		return false, err
	}
	if depth < s.limit {
		return true, nil
	}
	if !isEvent(kind) {
		return false, nil
	}
	if _, err := s.exec(ctx, tx, qDropOldestDroppable); err != nil {
		return false, err
	}
	return true, nil
}

// PendingOutbox returns up to limit unsent messages with seq > afterSeq, in
// seq order. limit <= 0 means 100. Messages become visible in seq order
// (seqs are handed out by the one writer, inside its transactions), so a
// drain may keep the last seq it read as a cursor; after a reconnect it
// starts again from 0 to resend what was not acknowledged.
func (s *Store) PendingOutbox(ctx context.Context, afterSeq int64, limit int) ([]OutboxRow, error) {
	if limit <= 0 {
		limit = 100
	}
	return s.outboxRows(ctx, "pending outbox", qPendingOutbox, afterSeq, limit)
}

// outboxRows reads outbox rows (seq, event_seq, id, kind, topic, lane,
// payload, created_at) that query selects.
func (s *Store) outboxRows(ctx context.Context, what, query string, args ...any) ([]OutboxRow, error) {
	rows, err := s.reader.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	defer rows.Close()
	var out []OutboxRow
	for rows.Next() {
		var r OutboxRow
		var payload []byte
		var created string
		if err := rows.Scan(&r.Seq, &r.EventSeq, &r.ID, &r.Kind, &r.Topic, &r.Lane, &payload, &created); err != nil {
			return nil, fmt.Errorf("store: %s: %w", what, err)
		}
		r.Payload = payload
		if r.CreatedAt, err = parseTime(created); err != nil {
			return nil, fmt.Errorf("store: %s: seq %d: %w", what, r.Seq, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	return out, nil
}

const qPendingOutbox = `SELECT seq, coalesce(event_seq, 0), id, kind, topic, lane, payload, created_at
	FROM outbox WHERE seq >= max(?1 + 1, ` + outboxLow + `) AND sent_at IS NULL ORDER BY seq LIMIT ?2`

// MarkSent marks messages sent (their PUBACK came back), stamped with the
// store's clock, and moves the low-water mark up to the first unsent
// message. Seqs already sent or unknown are ignored; their order does not
// matter.
//
// It commits without waiting for the disk (synchronous=NORMAL for this one
// transaction): a mark lost to a power cut only means the message is sent
// again with the same id, and the next durable commit carries it to disk.
// This keeps the drain at one fsync per event, the one that created it.
func (s *Store) MarkSent(ctx context.Context, seqs ...int64) error {
	if len(seqs) == 0 {
		return nil
	}
	now := fmtTime(s.clock.Now())
	return s.writeWith(ctx, "mark sent", "synchronous = NORMAL", "synchronous = FULL", func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, qMarkSent)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, seq := range seqs {
			if _, err := st.ExecContext(ctx, now, seq); err != nil {
				return fmt.Errorf("seq %d: %w", seq, err)
			}
		}
		_, err = tx.ExecContext(ctx, qMoveOutboxLow)
		return err
	})
}

const (
	// qMarkSent marks seq ?2 sent at ?1 (the trigger
	// outbox_pending_sent takes it off the pending count).
	qMarkSent = `UPDATE outbox SET sent_at = ?1 WHERE seq = ?2 AND sent_at IS NULL`
	// qMoveOutboxLow moves the low-water mark up to the first unsent row,
	// or past the last seq handed out when none is. It reads the rows
	// from the mark to that first unsent one: usually the ones just
	// marked, once.
	qMoveOutboxLow = `UPDATE counters SET value = coalesce(
			(SELECT seq FROM outbox WHERE seq >= counters.value AND sent_at IS NULL ORDER BY seq LIMIT 1),
			(SELECT value + 1 FROM counters WHERE name = 'outbox_seq'))
		WHERE name = 'outbox_low'`
)

// OutboxStats returns the number of unsent messages and when the oldest of
// them was created (zero when there is none).
func (s *Store) OutboxStats(ctx context.Context) (depth int, oldest time.Time, err error) {
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("store: outbox stats: %w", err)
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, qOutboxPending).Scan(&depth); err != nil {
		return 0, time.Time{}, fmt.Errorf("store: outbox stats: %w", err)
	}
	var created string
	err = tx.QueryRowContext(ctx, `SELECT created_at FROM outbox WHERE seq >= `+outboxLow+` AND sent_at IS NULL ORDER BY seq LIMIT 1`).Scan(&created)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return depth, time.Time{}, nil
	case err != nil:
		return 0, time.Time{}, fmt.Errorf("store: outbox stats: %w", err)
	}
	if oldest, err = parseTime(created); err != nil {
		return 0, time.Time{}, fmt.Errorf("store: outbox stats: %w", err)
	}
	return depth, oldest, nil
}

// PruneOutbox deletes messages that were sent before before, and returns
// how many. Seqs are never reused.
func (s *Store) PruneOutbox(ctx context.Context, before time.Time) (n int, err error) {
	err = s.write(ctx, "prune outbox", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE sent_at < ?`, fmtTime(before))
		if err != nil {
			return err
		}
		m, err := res.RowsAffected()
		n = int(m)
		return err
	})
	return n, err
}

// SentEvents returns the events with a seq from from to to (inclusive)
// that were sent and are still kept (PruneOutbox), in seq order, at most
// limit of them; for a platform's replay.
func (s *Store) SentEvents(ctx context.Context, from, to int64, limit int) ([]OutboxRow, error) {
	return s.outboxRows(ctx, "sent events", `SELECT seq, event_seq, id, kind, topic, lane, payload, created_at
		FROM outbox WHERE event_seq BETWEEN ?1 AND ?2 AND sent_at IS NOT NULL ORDER BY event_seq LIMIT ?3`, from, to, limit)
}
