package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
)

// Derived tables (see migrations/0002_derived.sql) hold what can be rebuilt
// from the records: check_results and inspection_search from inspections,
// audit_subjects from audit, outbox_ids from outbox. They are written by a
// follow-up transaction, on the writer, right after the transaction the
// barrier waits for, and caught up from watermarks in counters, so the same
// statements serve the follow-up, a reader that needs them now, and Open
// after a crash between the two transactions.
//
// The follow-up commits with synchronous=NORMAL: no fsync of its own. A
// power cut can lose it (never the records), and the next durable commit
// carries it to disk anyway; Open rebuilds whatever is missing. (Measured
// with synchronous=FULL instead: the next commit was no faster, and the
// follow-up cost about four times as much writer time.)

// The derive* statements catch the derived tables up. Each scans only the
// rows above its watermark, through the records' own keys (a rowid, a seq).
// INSERT OR IGNORE makes them idempotent: a rebuild over rows that are there
// already adds nothing.
const (
	qDeriveSearch = `INSERT OR IGNORE INTO inspection_search (decided_at, id, plate_norm, trailer_norm, driver_id, escort_id, waybill, verdict)
		SELECT decided_at, id, plate_norm, trailer_norm, driver_id, escort_id, waybill, verdict FROM inspections
		WHERE rowid > (SELECT value FROM counters WHERE name = 'derived_inspections')`
	// One row per check of the outcome JSON, with its reason codes in
	// order: what checks.CheckResult.Codes returns.
	qDeriveChecks = `INSERT OR IGNORE INTO check_results (inspection_id, check_id, result, reasons)
		SELECT i.id, c.value ->> '$.id', c.value ->> '$.result',
			(SELECT json_group_array(r.value ->> '$.code' ORDER BY r.key) FROM json_each(c.value, '$.reasons') r)
		FROM inspections i, json_each(i.outcome, '$.checks') c
		WHERE i.rowid > (SELECT value FROM counters WHERE name = 'derived_inspections')`
	qDeriveInspectionsMark = `UPDATE counters SET value = max(value, (SELECT coalesce(max(rowid), 0) FROM inspections))
		WHERE name = 'derived_inspections'`
	qDeriveAudit = `INSERT OR IGNORE INTO audit_subjects (subject, seq)
		SELECT subject, seq FROM audit WHERE seq > (SELECT value FROM counters WHERE name = 'derived_audit')`
	qDeriveAuditMark = `UPDATE counters SET value = max(value, (SELECT coalesce(max(seq), 0) FROM audit))
		WHERE name = 'derived_audit'`
	qDeriveOutbox = `INSERT OR IGNORE INTO outbox_ids (id, seq)
		SELECT id, seq FROM outbox WHERE seq > (SELECT value FROM counters WHERE name = 'derived_outbox')`
	// Every seq up to outbox_seq was handed out: its row is now in
	// outbox_ids, or gone.
	qDeriveOutboxMark = `UPDATE counters SET value = max(value, (SELECT value FROM counters WHERE name = 'outbox_seq'))
		WHERE name = 'derived_outbox'`
)

// Kinds of derived rows, as a bit mask: which deriveSteps to run.
const (
	deriveInspections uint32 = 1 << iota // check_results, inspection_search
	deriveAudit                          // audit_subjects
	deriveOutbox                         // outbox_ids
	deriveAll         = deriveInspections | deriveAudit | deriveOutbox
)

// deriveSteps are the statements for each kind, in bit order.
var deriveSteps = [...][]string{
	{qDeriveSearch, qDeriveChecks, qDeriveInspectionsMark},
	{qDeriveAudit, qDeriveAuditMark},
	{qDeriveOutbox, qDeriveOutboxMark},
}

// deriver runs the follow-up transactions.
type deriver struct {
	s *Store

	// inTx is what the open write transaction added (it is the only one:
	// there is one writer connection); pending is what committed
	// transactions added and no follow-up has derived yet.
	inTx, pending atomic.Uint32

	mu   sync.Mutex // one follow-up at a time
	kick chan struct{}
	quit chan struct{}
	done chan struct{}
}

func startDeriver(s *Store) *deriver {
	d := &deriver{s: s, kick: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go d.run()
	return d
}

func (d *deriver) run() {
	defer close(d.done)
	for {
		select {
		case <-d.quit:
			return
		case <-d.kick:
			// A failure (a full disk, a closing file) puts the kinds
			// back: the next kick, flush or Open retries, and
			// flushDerived reports it to the reader that needed the
			// rows.
			d.catchUp(context.Background())
		}
	}
}

// added records, inside a write transaction, that it adds rows of kind.
func (d *deriver) added(kind uint32) {
	if d != nil {
		d.inTx.Or(kind)
	}
}

// takeTx returns and clears what the open write transaction added. The
// writer calls it just before the commit or rollback, while the
// transaction still holds the connection.
func (d *deriver) takeTx() uint32 {
	if d == nil {
		return 0
	}
	return d.inTx.Swap(0)
}

// committed schedules the follow-up for what a committed transaction added.
func (d *deriver) committed(kinds uint32) {
	if d == nil || kinds == 0 {
		return
	}
	d.pending.Or(kinds)
	select {
	case d.kick <- struct{}{}:
	default: // one is already due
	}
}

// stop ends the goroutine and makes a last catch-up (best effort: Open
// redoes what it could not).
func (d *deriver) stop() error {
	select {
	case <-d.quit:
	default:
		close(d.quit)
	}
	<-d.done
	return d.catchUp(context.Background())
}

// catchUp runs the follow-up for what is pending.
func (d *deriver) catchUp(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pending.Load() == 0 {
		return nil
	}
	var kinds uint32
	err := d.s.writeWith(ctx, "derive", "synchronous = NORMAL", "synchronous = FULL", func(tx *sql.Tx) error {
		// Taken inside the transaction, which holds the one writer
		// connection: every transaction whose kinds these are has
		// committed, and its rows are visible here.
		kinds = d.pending.Swap(0)
		return derive(ctx, d.s.exec, tx, kinds)
	})
	if err != nil {
		d.pending.Or(kinds)
		return err
	}
	return nil
}

// derive runs in tx, with exec, the deriveSteps of kinds.
func derive(ctx context.Context, exec execFunc, tx *sql.Tx, kinds uint32) error {
	for i, qs := range deriveSteps {
		if kinds&(1<<i) == 0 {
			continue
		}
		for _, q := range qs {
			if _, err := exec(ctx, tx, q); err != nil {
				return err
			}
		}
	}
	return nil
}

type execFunc func(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error)

func execTx(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	return tx.ExecContext(ctx, query, args...)
}

// flushDerived makes the derived tables hold every record committed so far
// (a no-op unless a follow-up is still due), for a reader that is about to
// search them.
func (s *Store) flushDerived(ctx context.Context) error {
	if err := s.deriv.catchUp(ctx); err != nil {
		return fmt.Errorf("derived tables: %w", err)
	}
	return nil
}

// derivedRepairs check, at Open and after the catch-up, that each derived
// table is whole, cheaply; when one is not (its rows were deleted by hand,
// or rowids renumbered by a VACUUM), it is rebuilt from scratch.
var derivedRepairs = []struct {
	kind   uint32
	broken string // a query for one boolean
	reset  []string
}{
	{
		// An index-only count of each: a few pages per thousand
		// inspections. check_results are written with the search rows,
		// in the same transactions, so these stand for both.
		deriveInspections,
		`SELECT (SELECT count(*) FROM inspections) <> (SELECT count(*) FROM inspection_search)`,
		[]string{`DELETE FROM inspection_search`, `UPDATE counters SET value = 0 WHERE name = 'derived_inspections'`},
	},
	{
		// The audit log only grows, so a full count would read more at
		// every start; the newest entry stands for the tail, which is
		// what a lost follow-up leaves behind.
		deriveAudit,
		`SELECT NOT EXISTS (SELECT 1 FROM audit_subjects s JOIN (SELECT subject, seq FROM audit ORDER BY seq DESC LIMIT 1) a
			ON s.subject = a.subject AND s.seq = a.seq) AND EXISTS (SELECT 1 FROM audit)`,
		[]string{`DELETE FROM audit_subjects`, `UPDATE counters SET value = 0 WHERE name = 'derived_audit'`},
	},
	{
		// Sent messages are pruned: the outbox stays small.
		deriveOutbox,
		`SELECT (SELECT count(*) FROM outbox) <> (SELECT count(*) FROM outbox_ids)`,
		[]string{`DELETE FROM outbox_ids`, `UPDATE counters SET value = 0 WHERE name = 'derived_outbox'`},
	},
}

// rebuildDerived runs at Open, before anything else writes. It catches the
// derived tables up with what a crash (or a failed follow-up) between a
// commit and its follow-up left behind, from the watermarks: rows above
// them are exactly the ones whose follow-up never committed. Then it checks
// each table (derivedRepairs) and rebuilds a broken one from its records.
func rebuildDerived(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := derive(ctx, execTx, tx, deriveAll); err != nil {
		return err
	}
	var broken uint32
	for _, r := range derivedRepairs {
		var bad bool
		if err := tx.QueryRowContext(ctx, r.broken).Scan(&bad); err != nil {
			return err
		}
		if !bad {
			continue
		}
		broken |= r.kind
		for _, q := range r.reset {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
	}
	if broken != 0 {
		if err := derive(ctx, execTx, tx, broken); err != nil {
			return err
		}
	}
	return tx.Commit()
}
