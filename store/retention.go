package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Purge defaults.
const (
	// DefaultPurgeBatch is how many rows of one table a purge transaction
	// deletes at most: small enough that a decision waiting for the
	// writer waits milliseconds, not seconds.
	DefaultPurgeBatch = 100
	// purgeTxBudget is how long one purge transaction should hold the
	// writer: a batch that took longer halves the next one (down to
	// minPurgeBatch), one that took less than a quarter of it doubles it
	// (up to the batch setting). Rows differ in size (an inspection with
	// its evidence is kilobytes, a decision a hundred bytes) and disks in
	// speed; this keeps the wait of a decision that comes during a purge
	// about the same on all of them. It is measured on the wall clock:
	// it is about the disk, not the gate's time.
	purgeTxBudget = 20 * time.Millisecond
	minPurgeBatch = 10
	// DefaultVacuumPages is how many free pages each incremental vacuum
	// step gives back to the file system after a batch.
	DefaultVacuumPages = 128
)

// Retention says what Purge may delete. A zero time deletes nothing of
// its kind.
type Retention struct {
	// RecordsBefore: inspections, passages, operator decisions, alarms,
	// audit entries and sent outbox messages from before it (the
	// retention.records setting: now minus 24 months by default). A record
	// whose outbox message is not yet sent is kept, whatever its age.
	RecordsBefore time.Time
	// MediaBefore: images created before it (retention.faces).
	MediaBefore time.Time
	// Batch bounds the rows of one table that one transaction deletes
	// (DefaultPurgeBatch when 0).
	Batch int
	// VacuumPages is given to PRAGMA incremental_vacuum after each batch
	// (DefaultVacuumPages when 0).
	VacuumPages int
	// OnBatch, when set, is called after each batch's commit with the
	// table and how many of its rows the batch deleted.
	OnBatch func(table string, deleted int)
}

// PurgeResult counts what a purge deleted.
type PurgeResult struct {
	Media, Inspections, Passages, Decisions, Alarms, Outbox, Audit int
	Preclearances                                                  int
	// Batches is the number of delete transactions.
	Batches int
	// HeldBack is the time of the oldest record whose outbox message was
	// still unsent, when it held the records cutoff back; zero otherwise.
	HeldBack time.Time
}

// Total is every row deleted.
func (r PurgeResult) Total() int {
	return r.Media + r.Inspections + r.Passages + r.Decisions + r.Alarms + r.Outbox + r.Audit + r.Preclearances
}

// purgeSnapshot is what one purge works within: the records cutoff (held
// back by undelivered records) and the highest rowid of each table when it
// began. A record committed later, with a time from before the cutoff (a
// clock set back), is left for the next purge, which sees its message.
type purgeSnapshot struct {
	recordsBefore string // "" when no record may go
	mediaBefore   string
	max           map[string]int64
}

// Purge deletes what r says is past its retention, in transactions of at
// most r.Batch rows each, with an incremental vacuum step after each and
// a rest as long as both took, so that a decision's commit never waits
// behind more than one small batch, and finds the writer free half the
// time.
// A record is never deleted before its outbox message was sent: the records
// cutoff is held back to the oldest unsent event. Images are overwritten
// with zeros as they go (secure_delete). The audit log loses its oldest
// entries only: the anchor (audit_anchor) keeps the last purged entry's seq
// and hash, and each audit batch appends an "audit.purged" entry naming
// it, so VerifyAudit still verifies the chain from there. ctx ends the
// purge between batches; what was committed stays deleted.
func (s *Store) Purge(ctx context.Context, r Retention) (PurgeResult, error) {
	if r.Batch <= 0 {
		r.Batch = DefaultPurgeBatch
	}
	if r.VacuumPages <= 0 {
		r.VacuumPages = DefaultVacuumPages
	}
	var res PurgeResult
	snap, held, err := s.purgeSnapshot(ctx, r)
	if err != nil {
		return res, err
	}
	res.HeldBack = held
	steps := []struct {
		table string
		n     *int
		run   func(context.Context, purgeSnapshot, int, *int64) (int, bool, error)
	}{
		{"media", &res.Media, s.purgeMediaBatch},
		{"decisions", &res.Decisions, s.purgeRowsBatch(purgeDecisions)},
		{"passages", &res.Passages, s.purgeRowsBatch(purgePassages)},
		{"park_passages", &res.Passages, s.purgeRowsBatch(purgeParkPassages)},
		{"alarms", &res.Alarms, s.purgeRowsBatch(purgeAlarms)},
		{"preclearances", &res.Preclearances, s.purgeRowsBatch(purgePreclearances)},
		{"inspections", &res.Inspections, s.purgeInspectionsBatch},
		{"outbox", &res.Outbox, s.purgeRowsBatch(purgeOutbox)},
		{"audit", &res.Audit, s.purgeAuditBatch},
	}
	for _, st := range steps {
		var cursor int64
		size := min(r.Batch, 4*minPurgeBatch)
		for {
			if err := ctx.Err(); err != nil {
				return res, fmt.Errorf("store: purge: %w", err)
			}
			start := time.Now()
			n, more, err := st.run(ctx, snap, size, &cursor)
			size = nextBatch(size, r.Batch, time.Since(start))
			if err != nil {
				return res, fmt.Errorf("store: purge %s: %w", st.table, err)
			}
			if n > 0 {
				*st.n += n
				res.Batches++
				if r.OnBatch != nil {
					r.OnBatch(st.table, n)
				}
				if err := s.vacuumStep(ctx, r.VacuumPages); err != nil {
					return res, err
				}
			}
			if !more {
				break
			}
			// Rest as long as the batch and its vacuum step took: the
			// purge holds the writer at most half the time, so a
			// decision that comes finds it free as often as not.
			if !rest(ctx, time.Since(start)) {
				return res, fmt.Errorf("store: purge: %w", ctx.Err())
			}
		}
	}
	if res.Total()-res.Media > 0 { // records, not only images
		detail := map[string]any{"before": snap.recordsBefore, "inspections": res.Inspections, "passages": res.Passages,
			"decisions": res.Decisions, "alarms": res.Alarms, "outbox": res.Outbox, "audit": res.Audit}
		if err := s.Audit(ctx, ActorSystem, "records.purged", "records", detail, s.clock.Now()); err != nil {
			return res, err
		}
	}
	return res, nil
}

// rest waits d on the wall clock (pacing is about the disk, not the
// gate's time), or until ctx ends.
func rest(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// nextBatch is the size of the batch after one of size that took took,
// at most limit (see purgeTxBudget).
func nextBatch(size, limit int, took time.Duration) int {
	switch {
	case took > purgeTxBudget:
		size = max(size/2, minPurgeBatch)
	case took < purgeTxBudget/4:
		size *= 2
	}
	return min(size, limit)
}

// purgeSnapshot reads, in one read transaction, the oldest unsent event
// and each table's highest rowid.
func (s *Store) purgeSnapshot(ctx context.Context, r Retention) (purgeSnapshot, time.Time, error) {
	snap := purgeSnapshot{max: map[string]int64{}}
	var held time.Time
	if !r.MediaBefore.IsZero() {
		snap.mediaBefore = fmtTime(r.MediaBefore)
	}
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return snap, held, fmt.Errorf("store: purge: %w", err)
	}
	defer tx.Rollback()
	for _, t := range []string{"media", "inspections", "passages", "park_passages", "decisions", "alarms", "preclearances", "outbox", "audit"} {
		var m int64
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(rowid), 0) FROM `+t).Scan(&m); err != nil {
			return snap, held, fmt.Errorf("store: purge: %s: %w", t, err)
		}
		snap.max[t] = m
	}
	if r.RecordsBefore.IsZero() {
		return snap, held, nil
	}
	snap.recordsBefore = fmtTime(r.RecordsBefore)
	// Unsent rows all lie at or above the low-water mark.
	var oldest sql.NullString
	if err := tx.QueryRowContext(ctx, `SELECT min(created_at) FROM outbox WHERE seq >= `+outboxLow+`
		AND sent_at IS NULL AND kind IN ('inspection', 'passage', 'alarm', 'decision', 'preclearance')`).Scan(&oldest); err != nil {
		return snap, held, fmt.Errorf("store: purge: unsent events: %w", err)
	}
	if oldest.Valid && oldest.String < snap.recordsBefore {
		snap.recordsBefore = oldest.String
		held, _ = parseTime(oldest.String)
	}
	return snap, held, nil
}

// vacuumStep gives up to pages free pages back to the file system. It is
// its own short transaction; on a file without auto_vacuum=INCREMENTAL it
// does nothing (the free pages are reused by new records instead).
func (s *Store) vacuumStep(ctx context.Context, pages int) error {
	if err := s.queue.yield(ctx); err != nil {
		return fmt.Errorf("store: purge: %w", err)
	}
	const what = "purge vacuum"
	s.queue.enter(what)
	conn, err := s.writer.Conn(ctx)
	s.queue.leave(what, err == nil)
	if err != nil {
		return fmt.Errorf("store: purge: incremental vacuum: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA incremental_vacuum(%d)", pages)); err != nil {
		if err = s.fullError(err); !errors.Is(err, ErrFull) {
			return fmt.Errorf("store: purge: incremental vacuum: %w", err)
		}
		// Moving pages needs room in the log; on a full disk the freed
		// pages stay in the file, where new records reuse them. The
		// purge goes on.
	}
	// A purge writes many pages to the log; folding them into the file
	// here, on a read connection and without the write lock, keeps the
	// log short, so that no decision's commit reaches the
	// wal_autocheckpoint bound and has to fold it itself. Best effort: a
	// checkpoint that cannot finish leaves the log to the checkpointer.
	s.reader.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
	return nil
}

// purgeTable is a table whose rows go by rowid once older than a cutoff.
type purgeTable struct {
	table   string
	timeCol string
	media   bool   // the media cutoff, not the records one
	extra   string // further conditions, ANDed
	// before runs in the delete's transaction first, with the rowids as a
	// JSON array (the derived rows of what goes).
	before string
}

var (
	purgeDecisions = purgeTable{table: "decisions", timeCol: "at"}
	purgePassages  = purgeTable{table: "passages", timeCol: "at"}
	// The sibling gates' passages as heard (who is inside: park_latest
	// keeps each plate's latest, whatever goes here).
	purgeParkPassages = purgeTable{table: "park_passages", timeCol: "at"}
	// An alarm that is still on keeps its row: its clearing names it.
	purgeAlarms = purgeTable{table: "alarms", timeCol: "at", extra: `id NOT IN (SELECT id FROM active_alarms)`}
	// Only messages already sent; outbox_ids (derived) goes with them.
	purgeOutbox = purgeTable{table: "outbox", timeCol: "created_at", extra: `sent_at IS NOT NULL`,
		before: `DELETE FROM outbox_ids WHERE id IN (SELECT id FROM outbox WHERE rowid IN (SELECT value FROM json_each(?1)) AND sent_at IS NOT NULL AND created_at < ?2)`}
)

// candidates reads, on a read connection (no lock), the next rowids of t
// past *cursor that look due; the delete checks them again.
func (s *Store) candidates(ctx context.Context, t purgeTable, cutoff string, maxRowid int64, batch int, cursor *int64) ([]int64, bool, error) {
	q := `SELECT rowid FROM ` + t.table + ` WHERE rowid > ?1 AND rowid <= ?2 AND ` + t.timeCol + ` < ?3`
	if t.extra != "" {
		q += ` AND ` + t.extra
	}
	q += ` ORDER BY rowid LIMIT ?4`
	rows, err := s.reader.QueryContext(ctx, q, *cursor, maxRowid, cutoff, batch)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, false, err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	if len(ids) > 0 {
		*cursor = ids[len(ids)-1]
	}
	return ids, len(ids) == batch, nil
}

// purgeRowsBatch deletes one batch of t.
func (s *Store) purgeRowsBatch(t purgeTable) func(context.Context, purgeSnapshot, int, *int64) (int, bool, error) {
	return func(ctx context.Context, snap purgeSnapshot, batch int, cursor *int64) (int, bool, error) {
		cutoff := snap.recordsBefore
		if t.media {
			cutoff = snap.mediaBefore
		}
		if cutoff == "" {
			return 0, false, nil
		}
		ids, more, err := s.candidates(ctx, t, cutoff, snap.max[t.table], batch, cursor)
		if err != nil || len(ids) == 0 {
			return 0, more, err
		}
		list, _ := json.Marshal(ids)
		if err := s.queue.yield(ctx); err != nil {
			return 0, false, err
		}
		var n int
		err = s.write(ctx, "purge "+t.table, func(tx *sql.Tx) error {
			var err error
			n, err = deleteRows(ctx, tx, t, string(list), cutoff)
			return err
		})
		return n, more, err
	}
}

func deleteRows(ctx context.Context, tx *sql.Tx, t purgeTable, list, cutoff string) (int, error) {
	if t.before != "" {
		if _, err := tx.ExecContext(ctx, t.before, list, cutoff); err != nil {
			return 0, err
		}
	}
	q := `DELETE FROM ` + t.table + ` WHERE rowid IN (SELECT value FROM json_each(?1)) AND ` + t.timeCol + ` < ?2`
	if t.extra != "" {
		q += ` AND ` + t.extra
	}
	res, err := tx.ExecContext(ctx, q, list, cutoff)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// purgeMediaBatch deletes one batch of images, their pages overwritten
// with zeros, and audits it ("media.purged", which MediaPurgedBefore
// reads).
func (s *Store) purgeMediaBatch(ctx context.Context, snap purgeSnapshot, batch int, cursor *int64) (int, bool, error) {
	if snap.mediaBefore == "" {
		return 0, false, nil
	}
	t := purgeTable{table: "media", timeCol: "created_at", media: true}
	ids, more, err := s.candidates(ctx, t, snap.mediaBefore, snap.max["media"], batch, cursor)
	if err != nil || len(ids) == 0 {
		return 0, more, err
	}
	list, _ := json.Marshal(ids)
	if err := s.queue.yield(ctx); err != nil {
		return 0, false, err
	}
	var n int
	err = s.writeWith(ctx, "purge media", "secure_delete = ON", "secure_delete = OFF", func(tx *sql.Tx) error {
		var err error
		if n, err = deleteRows(ctx, tx, t, string(list), snap.mediaBefore); err != nil || n == 0 {
			return err
		}
		return s.appendAudit(ctx, tx, ActorSystem, "media.purged", "media",
			map[string]any{"before": snap.mediaBefore, "deleted": n}, s.clock.Now())
	})
	return n, more, err
}

// qInspectionDue is an inspection that may go: old enough, and no passage
// or decision left that names it (those go first, by their own times).
const qInspectionDue = `decided_at < ?2
	AND NOT EXISTS (SELECT 1 FROM passages p WHERE p.inspection_id = inspections.id)
	AND NOT EXISTS (SELECT 1 FROM passages p WHERE p.entry_id = inspections.id)
	AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.inspection_id = inspections.id)`

// purgeInspectionsBatch deletes one batch of inspections with their check
// results and search entries.
func (s *Store) purgeInspectionsBatch(ctx context.Context, snap purgeSnapshot, batch int, cursor *int64) (int, bool, error) {
	if snap.recordsBefore == "" {
		return 0, false, nil
	}
	t := purgeTable{table: "inspections", timeCol: "decided_at"}
	ids, more, err := s.candidates(ctx, t, snap.recordsBefore, snap.max["inspections"], batch, cursor)
	if err != nil || len(ids) == 0 {
		return 0, more, err
	}
	list, _ := json.Marshal(ids)
	if err := s.queue.yield(ctx); err != nil {
		return 0, false, err
	}
	var n int
	err = s.write(ctx, "purge inspections", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, decided_at FROM inspections WHERE rowid IN (SELECT value FROM json_each(?1)) AND `+qInspectionDue,
			string(list), snap.recordsBefore)
		if err != nil {
			return err
		}
		type key struct{ id, at string }
		var due []key
		for rows.Next() {
			var k key
			if err := rows.Scan(&k.id, &k.at); err != nil {
				rows.Close()
				return err
			}
			due = append(due, k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, k := range due {
			for _, q := range []struct {
				sql  string
				args []any
			}{
				{`DELETE FROM check_results WHERE inspection_id = ?`, []any{k.id}},
				{`DELETE FROM inspection_search WHERE decided_at = ? AND id = ?`, []any{k.at, k.id}},
				{`DELETE FROM inspections WHERE id = ?`, []any{k.id}},
			} {
				if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
					return fmt.Errorf("%s: %w", k.id, err)
				}
			}
		}
		n = len(due)
		return nil
	})
	return n, more, err
}

// purgeAuditBatch deletes the oldest audit entries, up to batch of them,
// as long as they are older than the cutoff: the log only ever loses a
// prefix. The anchor moves to the last one deleted, and an "audit.purged"
// entry naming it is appended in the same transaction.
func (s *Store) purgeAuditBatch(ctx context.Context, snap purgeSnapshot, batch int, _ *int64) (int, bool, error) {
	if snap.recordsBefore == "" {
		return 0, false, nil
	}
	if err := s.queue.yield(ctx); err != nil {
		return 0, false, err
	}
	var n int
	var more bool
	err := s.write(ctx, "purge audit", func(tx *sql.Tx) error {
		from, _, err := auditAnchor(ctx, tx)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT seq, ts, subject, hash FROM audit WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?`,
			from, snap.max["audit"], batch)
		if err != nil {
			return err
		}
		type entry struct {
			seq           int64
			ts, subj, sum string
		}
		var due []entry
		read, stopped := 0, false
		for rows.Next() {
			var e entry
			if err := rows.Scan(&e.seq, &e.ts, &e.subj, &e.sum); err != nil {
				rows.Close()
				return err
			}
			read++
			if stopped || e.ts >= snap.recordsBefore {
				stopped = true
				continue
			}
			due = append(due, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		more = !stopped && read == batch
		if len(due) == 0 {
			return nil
		}
		last := due[len(due)-1]
		now := fmtTime(s.clock.Now())
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_anchor (one, seq, hash, at) VALUES (1, ?1, ?2, ?3)
			ON CONFLICT (one) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, at = excluded.at`, last.seq, last.sum, now); err != nil {
			return err
		}
		for _, e := range due {
			if _, err := tx.ExecContext(ctx, `DELETE FROM audit_subjects WHERE subject = ? AND seq = ?`, e.subj, e.seq); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM audit WHERE seq > ? AND seq <= ?`, from, last.seq); err != nil {
			return err
		}
		n = len(due)
		return s.appendAudit(ctx, tx, ActorSystem, actionAuditPurged, "audit",
			auditPurged{Through: last.seq, Hash: last.sum, Deleted: n, Before: snap.recordsBefore}, s.clock.Now())
	})
	return n, more, err
}

// actionAuditPurged is the audit entry that names the anchor.
const actionAuditPurged = "audit.purged"

// auditPurged is the detail of an "audit.purged" entry.
type auditPurged struct {
	Through int64  `json:"through"` // the anchor's seq: entries up to it are gone
	Hash    string `json:"hash"`    // the anchor's hash
	Deleted int    `json:"deleted"`
	Before  string `json:"before"`
}

// auditAnchor returns the last purged entry's seq and hash: 0 and "" when
// nothing was purged, or when the file predates the anchor (migration
// 0018; VerifyAuditFile reads files it does not migrate).
func auditAnchor(ctx context.Context, q rowQuerier) (int64, string, error) {
	var seq int64
	var hash string
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'audit_anchor'`).Scan(&n); err != nil {
		return 0, "", fmt.Errorf("audit anchor: %w", err)
	}
	if n == 0 {
		return 0, "", nil
	}
	err := q.QueryRowContext(ctx, `SELECT seq, hash FROM audit_anchor WHERE one = 1`).Scan(&seq, &hash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, "", nil
	case err != nil:
		return 0, "", fmt.Errorf("audit anchor: %w", err)
	}
	return seq, hash, nil
}

// checkAnchor: a purge anchor must be the one the last "audit.purged"
// entry names, or entries past it were deleted and the anchor moved over
// them by hand.
func checkAnchor(anchor AuditEntry, purged *AuditEntry) error {
	if anchor.Seq == 0 {
		return nil
	}
	if purged == nil {
		return &AuditError{Seq: anchor.Seq + 1, Msg: fmt.Sprintf("the log starts after entry %d, and no audit.purged entry says it was purged", anchor.Seq)}
	}
	var d auditPurged
	if err := json.Unmarshal(purged.Detail, &d); err != nil || d.Through != anchor.Seq || d.Hash != anchor.Hash {
		return &AuditError{Seq: purged.Seq, Msg: fmt.Sprintf("the last purge it records does not end at the anchor (entry %d): entries were deleted past it", anchor.Seq)}
	}
	return nil
}
