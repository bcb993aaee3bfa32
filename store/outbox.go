package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Outbox message kinds. Inspections, passages and alarms are events: each
// takes the next event seq. Status and telemetry do not, and are the first
// to be dropped when the outbox is full.
const (
	KindInspection = "inspection"
	KindPassage    = "passage"
	KindAlarm      = "alarm"
	KindStatus     = "status"
	KindTelemetry  = "telemetry"
)

// OutboxMessage is a message for the uplink, written in the transaction that
// creates the record it reports.
type OutboxMessage struct {
	ID      string          // ULID, the same on every redelivery; the store fills it when empty
	Kind    string          // KindInspection, KindPassage, KindAlarm, KindStatus or KindTelemetry
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
	// increasing by one over inspection, passage and alarm messages, so a
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
	return kind == KindInspection || kind == KindPassage || kind == KindAlarm
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
	// outbox_counters moves up.
	qInsertOutbox = `INSERT INTO outbox (seq, id, kind, event_seq, topic, lane, payload, created_at) VALUES (
		(SELECT value + 1 FROM counters WHERE name = 'outbox_seq'), ?1, ?2,
		CASE WHEN ?2 IN ('inspection', 'passage', 'alarm') THEN (SELECT value + 1 FROM counters WHERE name = 'event_seq') END,
		?3, ?4, ?5, ?6)`
	qOutboxPending = `SELECT value FROM counters WHERE name = 'outbox_pending'`
	// The oldest unsent status or telemetry message, through the partial
	// index outbox_droppable. Unsent is at or above the low-water mark:
	// below it, a row whose sent_at is not written yet is sent (see
	// MarkSentRange).
	qDropOldestDroppable = `DELETE FROM outbox WHERE seq =
		(SELECT seq FROM outbox WHERE sent_at IS NULL AND kind IN ('status', 'telemetry')
			AND seq >= (SELECT value FROM counters WHERE name = 'outbox_low') ORDER BY seq LIMIT 1)`
	// outboxLow is the seq from which unsent rows are looked for: every
	// row below it is sent or gone.
	outboxLow = `(SELECT value FROM counters WHERE name = 'outbox_low')`
)

// insertOutbox writes msgs inside tx, filling empty IDs.
func (s *Store) insertOutbox(ctx context.Context, tx *sql.Tx, msgs []OutboxMessage, at time.Time) error {
	depth := -1 // unsent rows, read once, then counted here
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
		if s.limit > 0 {
			keep, err := s.makeRoom(ctx, tx, m.Kind, &depth)
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
		// The ID check (trigger outbox_id_unique) looks through every row
		// above the outbox_ids watermark: in a large batch, through the
		// batch's own rows, quadratically. Catching outbox_ids up every
		// deriveEvery rows keeps that look short; it is the follow-up's
		// own work, done earlier (the follow-up then has less to do).
		if i%deriveEvery == deriveEvery-1 && i+1 < len(msgs) {
			if err := derive(ctx, s.exec, tx, deriveOutbox); err != nil {
				return fmt.Errorf("outbox message %d: outbox ids: %w", i, err)
			}
		}
	}
	return nil
}

// deriveEvery is how many rows of one batch insertOutbox writes before it
// catches outbox_ids up, in the batch's transaction. A gate's commit
// writes one to three, and leaves it to the follow-up.
const deriveEvery = 8

// makeRoom applies the outbox bound for a message of kind: it reports
// whether to keep the message, deleting the oldest unsent status or
// telemetry message to make room for an event. *depth is the number of
// unsent rows (read from the store when negative), counted on as if the
// message is written when it is kept.
func (s *Store) makeRoom(ctx context.Context, tx *sql.Tx, kind string, depth *int) (bool, error) {
	if *depth < 0 {
		if err := s.queryRow(ctx, tx, qOutboxPending).Scan(depth); err != nil {
			return false, err
		}
	}
	if *depth < s.limit {
		*depth++
		return true, nil
	}
	if !isEvent(kind) {
		return false, nil
	}
	res, err := s.exec(ctx, tx, qDropOldestDroppable)
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return false, err
	} else if n == 0 { // nothing to drop: the event goes over the bound
		*depth++
	}
	return true, nil
}

// PendingOutbox returns up to limit unsent messages with seq > afterSeq, in
// seq order. limit <= 0 means 100. Messages become visible in seq order
// (seqs are handed out by the one writer, inside its transactions), so a
// drain may keep the last seq it read as a cursor; after a reconnect it
// starts again from 0 to resend what was not acknowledged. A drain that
// reads often uses an OutboxReader, which does the same with its statement
// prepared once.
func (s *Store) PendingOutbox(ctx context.Context, afterSeq int64, limit int) ([]OutboxRow, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.reader.QueryContext(ctx, qPendingOutbox, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("store: pending outbox: %w", err)
	}
	return scanOutbox(rows, limit)
}

// An OutboxReader reads unsent outbox messages as PendingOutbox does, with
// its statement prepared once (parsing it costs as much as reading a few
// dozen rows). It is safe for concurrent use. Close it when done; it does
// not outlive its Store.
type OutboxReader struct {
	stmt *sql.Stmt
}

// OutboxReader returns a reader of the unsent outbox messages.
func (s *Store) OutboxReader(ctx context.Context) (*OutboxReader, error) {
	st, err := s.reader.PrepareContext(ctx, qPendingOutbox)
	if err != nil {
		return nil, fmt.Errorf("store: pending outbox: %w", err)
	}
	return &OutboxReader{stmt: st}, nil
}

// Pending is PendingOutbox.
func (r *OutboxReader) Pending(ctx context.Context, afterSeq int64, limit int) ([]OutboxRow, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := r.stmt.QueryContext(ctx, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("store: pending outbox: %w", err)
	}
	return scanOutbox(rows, limit)
}

// Close releases the prepared statement.
func (r *OutboxReader) Close() error { return r.stmt.Close() }

// PayloadRoom is the spare capacity of every OutboxRow.Payload that the
// store returns: a caller may append that many bytes (the uplink's "seq"
// and "queued_s") without copying the payload.
const PayloadRoom = 64

const qPendingOutbox = `SELECT seq, coalesce(event_seq, 0), id, kind, topic, lane, payload, created_at
	FROM outbox WHERE seq >= max(?1 + 1, ` + outboxLow + `) AND sent_at IS NULL ORDER BY seq LIMIT ?2`

// scanOutbox reads (and closes) the rows of qPendingOutbox.
func scanOutbox(rows *sql.Rows, limit int) ([]OutboxRow, error) {
	defer rows.Close()
	var out []OutboxRow
	for rows.Next() {
		if out == nil {
			out = make([]OutboxRow, 0, min(limit, 1024))
		}
		var r OutboxRow
		var payload, created string
		if err := rows.Scan(&r.Seq, &r.EventSeq, &r.ID, &r.Kind, &r.Topic, &r.Lane, &payload, &created); err != nil {
			return nil, fmt.Errorf("store: pending outbox: %w", err)
		}
		r.Payload = append(make(json.RawMessage, 0, len(payload)+PayloadRoom), payload...)
		var err error
		if r.CreatedAt, err = parseTime(created); err != nil {
			return nil, fmt.Errorf("store: pending outbox: seq %d: %w", r.Seq, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: pending outbox: %w", err)
	}
	return out, nil
}

// MarkSent marks messages sent (their PUBACK came back), stamped with the
// store's clock. Seqs already sent or unknown are ignored; the order of
// seqs does not matter. Each run of consecutive seqs is marked by one
// range UPDATE: the same rows as one UPDATE per seq, without a statement
// per row. The uplink, whose PUBACKs come in seq order, uses MarkSentRange.
//
// It commits without waiting for the disk (synchronous=NORMAL for this one
// transaction): a mark lost to a power cut only means the message is sent
// again with the same id, and the next durable commit carries it to disk.
// This keeps the drain at one fsync per event, the one that created it.
func (s *Store) MarkSent(ctx context.Context, seqs ...int64) error {
	runs := seqRuns(seqs)
	if len(runs) == 0 {
		return nil
	}
	now := fmtTime(s.clock.Now())
	return s.writeWith(ctx, "mark sent", "synchronous = NORMAL", "synchronous = FULL", func(tx *sql.Tx) error {
		for _, r := range runs {
			if err := s.markRun(ctx, tx, now, r[0], r[1]); err != nil {
				return fmt.Errorf("seqs %d-%d: %w", r[0], r[1], err)
			}
		}
		return nil
	})
}

// markRun writes sent_at on the unsent rows of seqs first..last and moves
// the low-water mark up.
func (s *Store) markRun(ctx context.Context, tx *sql.Tx, now string, first, last int64) error {
	if _, err := s.exec(ctx, tx, qMarkSentRun, now, first, last); err != nil {
		return err
	}
	_, err := s.exec(ctx, tx, qMoveOutboxLow, first, last)
	return err
}

// MarkSentRange marks sent every unsent message with first <= seq <= last:
// the caller had each of them acknowledged (the uplink's PUBACKs come in
// seq order, so what one connection delivered is such a range).
//
// When no unsent message lies below first, that is only a move of the
// low-water mark past last, every row below which is sent or gone
// (migration 0001): the rows themselves are not written, which for
// messages of a kilobyte is most of the cost of marking them. Their
// sent_at is written later by StampSent, which the uplink calls when it is
// idle; until then a row below the mark whose sent_at is NULL is sent, and
// every query for unsent rows looks from the mark up. When an unsent
// message does lie below first (a mark that failed earlier), the rows of
// the range are marked as MarkSent marks them.
//
// It commits without waiting for the disk, as MarkSent does.
func (s *Store) MarkSentRange(ctx context.Context, first, last int64) error {
	if first > last {
		return nil
	}
	now := fmtTime(s.clock.Now())
	return s.writeWith(ctx, "mark sent", "synchronous = NORMAL", "synchronous = FULL", func(tx *sql.Tx) error {
		var low, in int64
		var below bool
		if err := s.queryRow(ctx, tx, qMarkRangeCount, first, last).Scan(&low, &below, &in); err != nil {
			return fmt.Errorf("seqs %d-%d: %w", first, last, err)
		}
		switch {
		case last < low: // sent already
			return nil
		case below:
			if err := s.markRun(ctx, tx, now, first, last); err != nil {
				return fmt.Errorf("seqs %d-%d: %w", first, last, err)
			}
			return nil
		}
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{qStampedFrom, nil},
			{qPendingAdd, []any{-in}},
			{qMoveOutboxLowPast, []any{last}},
		} {
			if _, err := s.exec(ctx, tx, q.sql, q.args...); err != nil {
				return fmt.Errorf("seqs %d-%d: %w", first, last, err)
			}
		}
		return nil
	})
}

// StampSent writes sent_at, with the store's clock, on up to limit rows
// that MarkSentRange marked sent without writing them, oldest first. It
// reports whether more are left. Its transaction is short (limit rows), so
// that the records the barrier waits for are not held up behind it.
func (s *Store) StampSent(ctx context.Context, limit int) (more bool, err error) {
	if limit <= 0 {
		limit = 256
	}
	now := fmtTime(s.clock.Now())
	err = s.writeWith(ctx, "stamp sent", "synchronous = NORMAL", "synchronous = FULL", func(tx *sql.Tx) error {
		var from sql.NullInt64
		var low int64
		if err := s.queryRow(ctx, tx, qStampRange).Scan(&from, &low); err != nil {
			return err
		}
		if !from.Valid || from.Int64 >= low {
			return nil
		}
		to := min(low, from.Int64+int64(limit))
		res, err := s.exec(ctx, tx, qStamp, now, from.Int64, to)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		// The trigger outbox_pending_sent took each of them off the
		// pending count, which MarkSentRange already had.
		if _, err := s.exec(ctx, tx, qPendingAdd, n); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, qStamped, to); err != nil {
			return err
		}
		more = to < low
		return nil
	})
	return more, err
}

const (
	// qMarkSentRun marks the unsent rows of seqs ?2..?3 sent at ?1. Rows
	// below the low-water mark are sent (or their sent_at is due from
	// StampSent): marking them again would count them twice.
	qMarkSentRun = `UPDATE outbox SET sent_at = ?1
		WHERE seq BETWEEN max(?2, ` + outboxLow + `) AND ?3 AND sent_at IS NULL`
	// qMoveOutboxLow moves the low-water mark up once every row of seqs
	// ?1..?2 is sent. A mark above the run stays. A mark in the run or
	// below it moves to the first unsent row from it up to the run, or
	// else to the first unsent row after the run: the rows of the run are
	// not scanned (the mark usually is the run's first seq, and the row
	// after the run is unsent, in flight).
	qMoveOutboxLow = `UPDATE counters SET value = coalesce(
			(SELECT seq FROM outbox WHERE seq >= counters.value AND seq < ?1 AND sent_at IS NULL ORDER BY seq LIMIT 1),
			(SELECT seq FROM outbox WHERE seq > ?2 AND sent_at IS NULL ORDER BY seq LIMIT 1),
			(SELECT value + 1 FROM counters WHERE name = 'outbox_seq'))
		WHERE name = 'outbox_low' AND value <= ?2`
	// qMarkRangeCount returns the low-water mark, whether an unsent row
	// lies from it to below ?1 (usually no row is looked at: the mark is
	// ?1; else the scan stops at the first unsent row, which the mark
	// points at) and the number of unsent rows from ?1 (or the mark) to ?2.
	qMarkRangeCount = `SELECT l.value,
			EXISTS (SELECT 1 FROM outbox WHERE seq >= l.value AND seq < ?1 AND sent_at IS NULL),
			(SELECT count(*) FROM outbox WHERE seq >= max(?1, l.value) AND seq <= ?2 AND sent_at IS NULL)
		FROM counters l WHERE l.name = 'outbox_low'`
	// qStampedFrom makes outbox_stamped (every row below it has its
	// sent_at, or is gone), at the low-water mark, the first time the mark
	// moves without writing the rows: until then every row below the mark
	// had its sent_at.
	qStampedFrom = `INSERT OR IGNORE INTO counters (name, value)
		SELECT 'outbox_stamped', value FROM counters WHERE name = 'outbox_low'`
	// qMoveOutboxLowPast moves the low-water mark past ?1, to the first
	// unsent row after it.
	qMoveOutboxLowPast = `UPDATE counters SET value = coalesce(
			(SELECT seq FROM outbox WHERE seq > ?1 AND sent_at IS NULL ORDER BY seq LIMIT 1),
			(SELECT value + 1 FROM counters WHERE name = 'outbox_seq'))
		WHERE name = 'outbox_low' AND value <= ?1`
	// qPendingAdd adds ?1 to the pending count.
	qPendingAdd = `UPDATE counters SET value = value + ?1 WHERE name = 'outbox_pending'`
	// qStampRange returns outbox_stamped (NULL before the first
	// MarkSentRange) and the low-water mark: the rows between are sent,
	// and some have no sent_at yet.
	qStampRange = `SELECT (SELECT value FROM counters WHERE name = 'outbox_stamped'), ` + outboxLow
	// qStamp writes sent_at ?1 on the rows of seqs ?2 to below ?3 that
	// have none.
	qStamp   = `UPDATE outbox SET sent_at = ?1 WHERE seq >= ?2 AND seq < ?3 AND sent_at IS NULL`
	qStamped = `UPDATE counters SET value = ?1 WHERE name = 'outbox_stamped'`
)

// The statements of the marks, prepared once on the writer with the
// write paths' own (store.go): parsing them was 40 % of the marks' time.
func init() {
	writeQueries = append(writeQueries,
		qMarkSentRun, qMoveOutboxLow, qMarkRangeCount, qStampedFrom, qMoveOutboxLowPast,
		qPendingAdd, qStampRange, qStamp, qStamped)
}

// seqRuns returns the runs of consecutive values in seqs, as [first,
// last] pairs, in order, duplicates folded. seqs is not changed.
func seqRuns(seqs []int64) [][2]int64 {
	if len(seqs) == 0 {
		return nil
	}
	if !slices.IsSorted(seqs) {
		seqs = slices.Sorted(slices.Values(seqs))
	}
	runs := [][2]int64{{seqs[0], seqs[0]}}
	for _, q := range seqs[1:] {
		last := &runs[len(runs)-1]
		switch {
		case q <= last[1]: // a duplicate
		case q == last[1]+1:
			last[1] = q
		default:
			runs = append(runs, [2]int64{q, q})
		}
	}
	return runs
}

// OutboxStats returns the number of unsent messages and when the oldest of
// them was created (zero when there is none).
func (s *Store) OutboxStats(ctx context.Context) (depth int, oldest time.Time, err error) {
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("store: outbox stats: %w", err)
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, `SELECT value FROM counters WHERE name = 'outbox_pending'`).Scan(&depth); err != nil {
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
// how many. Seqs are never reused. A message whose sent_at StampSent has
// not written yet is kept.
func (s *Store) PruneOutbox(ctx context.Context, before time.Time) (n int, err error) {
	err = s.write(ctx, "prune outbox", func(tx *sql.Tx) error {
		// Every row below the low-water mark is sent.
		res, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE seq < `+outboxLow+` AND sent_at < ?`, fmtTime(before))
		if err != nil {
			return err
		}
		m, err := res.RowsAffected()
		n = int(m)
		return err
	})
	return n, err
}
