// Package store owns the gate's SQLite file: schema migrations, the registry
// tables, inspection records, passages, operator decisions, alarms, face
// images, the hash-chained audit log and the uplink's outbox.
//
// The file is opened in WAL mode with synchronous=FULL, so a call that
// returned nil has reached the disk. There is one writer connection (every
// write is one IMMEDIATE transaction on it) and a small pool of read
// connections; readers never wait for the writer.
//
// The registry is also held in memory, whole (regindex.go), so the checks'
// Lookup does no I/O. What only serves searches (check_results, the search
// and audit-subject tables, outbox IDs) is derived from the records by a
// follow-up transaction after each commit (derived.go), so that the commit
// the barrier waits for writes as few pages as it can.
//
// Times are stored in UTC and returned in UTC.
//
// It imports only checks, clock and registry of ours, never lane or a device;
// record, lanes, uplink, kiosk, appliance, sim and cmd/hazgate may import it.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/oklog/ulid/v2"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/hazgate/hazgate/clock"
)

// Errors callers can tell apart with errors.Is. They are always returned
// wrapped, behind a "store: ..." prefix that says what failed.
var (
	// ErrNotFound: the record asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalid: the caller's record is incomplete or malformed; retrying
	// it unchanged will fail again.
	ErrInvalid = errors.New("invalid record")
	// ErrNewerSchema: the file was written by a newer hazgate.
	ErrNewerSchema = errors.New("database is from a newer hazgate")
	// ErrTampered: the audit chain does not verify.
	ErrTampered = errors.New("audit log tampered")
)

// Store is an open hazgate database. It is safe for concurrent use.
type Store struct {
	writer *sql.DB // exactly one connection: every write is serialised
	reader *sql.DB // a small pool, query_only
	clock  clock.Clock
	limit  int // outbox bound in unsent rows; 0 is unbounded

	prepared map[string]*sql.Stmt // the writer's statements, prepared once
	ckpt     *checkpointer
	deriv    *deriver    // the follow-up transactions
	reg      regState    // the registry, in memory
	queue    writeQueue  // writes waiting for the writer; a purge yields to them
	diskLow  atomic.Bool // SetDiskLow
}

type config struct {
	clock       clock.Clock
	readConns   int
	outboxLimit int
}

// Option configures Open.
type Option func(*config)

// WithClock sets the clock the store reads for times it stamps itself (an
// outbox row's sent_at). Records carry the times their callers give.
func WithClock(c clock.Clock) Option { return func(cf *config) { cf.clock = c } }

// WithReadConns sets the size of the read pool (default 4).
func WithReadConns(n int) Option { return func(cf *config) { cf.readConns = n } }

// WithOutboxLimit bounds the outbox at n unsent messages (0, the default, is
// unbounded). When it is full, new status and telemetry messages are
// dropped, and each new inspection, passage or alarm message displaces the
// oldest unsent status or telemetry message; events are never dropped, so
// the depth can exceed n (OutboxStats tells, and the gate raises an alarm).
func WithOutboxLimit(n int) Option { return func(cf *config) { cf.outboxLimit = n } }

// Open opens (creating it when missing) the database at path and brings its
// schema up to date. A file written by a newer version is refused with
// ErrNewerSchema.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	cf := config{clock: clock.Real{}, readConns: 4}
	for _, o := range opts {
		o(&cf)
	}
	if cf.readConns < 1 {
		cf.readConns = 1
	}
	writer, err := openDB(ctx, path, true)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, writer, cf.clock.Now()); err != nil {
		writer.Close()
		return nil, err
	}
	if err := rebuildDerived(ctx, writer); err != nil {
		writer.Close()
		return nil, fmt.Errorf("store: rebuild derived tables: %w", err)
	}
	reader, err := openDB(ctx, path, false)
	if err != nil {
		writer.Close()
		return nil, err
	}
	reader.SetMaxOpenConns(cf.readConns)
	reader.SetMaxIdleConns(cf.readConns)
	s := &Store{writer: writer, reader: reader, clock: cf.clock, limit: cf.outboxLimit, prepared: map[string]*sql.Stmt{}}
	for _, q := range writeQueries {
		st, err := writer.PrepareContext(ctx, q)
		if err != nil {
			s.closeDBs()
			return nil, fmt.Errorf("store: prepare %q: %w", q, err)
		}
		s.prepared[q] = st
	}
	if err := s.startRegistry(ctx); err != nil {
		s.closeDBs()
		return nil, err
	}
	s.ckpt = startCheckpointer(reader)
	s.deriv = startDeriver(s)
	return s, nil
}

// Close waits for a checkpoint in progress, folds the write-ahead log into
// the database file and closes it. Calls in flight may fail.
func (s *Store) Close() error {
	s.stopRegistry()
	// Best effort: Open rebuilds what this could not write.
	deriveErr := s.deriv.stop()
	s.ckpt.stop()
	// Best effort: the WAL is replayed at the next open when this fails.
	_, ckptErr := s.writer.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	if err := errors.Join(deriveErr, ckptErr, s.closeDBs()); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

func (s *Store) closeDBs() error {
	var errs []error
	for _, st := range s.prepared {
		errs = append(errs, st.Close())
	}
	return errors.Join(append(errs, s.reader.Close(), s.writer.Close())...)
}

// dsn is the modernc.org/sqlite data source name for path. Pragmas are in
// the DSN so that every connection the pool opens gets them. The path is
// escaped so that '?', '#' and '%' in it stay part of the name.
func dsn(path string, writer bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	if writer {
		// Before the first table of a new file, so that a purge can give
		// pages back (store/retention.go); an existing file keeps its
		// mode until a VACUUM (docs/design.md, "Retention").
		q.Add("_pragma", "auto_vacuum(INCREMENTAL)")
	}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	if writer {
		// The checkpointer folds the log into the file in the
		// background, so that a commit the barrier waits for does not;
		// this is only the safety net.
		q.Add("_pragma", "wal_autocheckpoint(10000)")
		// Take the write lock at BEGIN, so a transaction that reads
		// before it writes (the audit chain's last hash) cannot be
		// overtaken by another process's writer.
		q.Set("_txlock", "immediate")
	} else {
		q.Set("_query_only", "1")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// openDB opens the writer (one connection) or the read pool and checks that
// the file really is in WAL mode.
func openDB(ctx context.Context, path string, writer bool) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn(path, writer))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if writer {
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
	}
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if mode != "wal" {
		db.Close()
		return nil, fmt.Errorf("store: open %s: journal_mode is %s, want wal", path, mode)
	}
	return db, nil
}

// write runs f in one IMMEDIATE transaction on the writer and commits it;
// any error rolls everything back. ctx ends the wait for the writer, and
// the statements f runs with it; the transaction itself is not tied to it
// (f's error rolls it back), and the records' statements, through exec and
// queryRow, run to their end: given a context that can end, database/sql
// and the driver watch the transaction and each statement from a goroutine
// of their own, which the decision's commit would wait for.
func (s *Store) write(ctx context.Context, what string, f func(tx *sql.Tx) error) error {
	s.queue.enter(what)
	conn, err := s.writer.Conn(ctx)
	s.queue.leave(what, err == nil)
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return fmt.Errorf("store: %s: begin: %w", what, err)
	}
	return s.finish(tx, what, f(tx))
}

// finish commits tx, or rolls it back when f failed with err. A commit
// wakes the checkpointer, and the follow-up transaction when tx added rows
// that derived tables index.
func (s *Store) finish(tx *sql.Tx, what string, err error) error {
	// Taken while tx still holds the writer connection: the next
	// transaction may start as soon as this one ends.
	kinds := s.deriv.takeTx()
	if err != nil {
		tx.Rollback()
		return fmt.Errorf("store: %s: %w", what, s.fullError(err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: %s: commit: %w", what, s.fullError(err))
	}
	s.ckpt.wrote()
	s.deriv.committed(kinds)
	return nil
}

// writeWith is write with a connection setting changed for this one
// transaction: set and reset are PRAGMA assignments ("synchronous =
// NORMAL"). A connection whose reset fails is discarded, never handed back
// to the pool.
func (s *Store) writeWith(ctx context.Context, what, set, reset string, f func(tx *sql.Tx) error) (err error) {
	s.queue.enter(what)
	conn, err := s.writer.Conn(ctx)
	s.queue.leave(what, err == nil)
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA "+set); err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	defer func() {
		if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA "+reset); rerr != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn })
			err = errors.Join(err, fmt.Errorf("store: %s: PRAGMA %s: %w", what, reset, rerr))
		}
	}()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: %s: begin: %w", what, err)
	}
	return s.finish(tx, what, f(tx))
}

// writeQueries are the statements of the write paths, prepared once on the
// writer connection: parsing them on every commit would cost as much as a
// page write.
var writeQueries = []string{
	qInsertInspection,
	qAppendAudit,
	qInsertOutbox, qOutboxPending, qDropOldestDroppable,
	qInsertPassage, qInsertDecision, qInsertAlarm,
	qDeriveSearch, qDeriveChecks, qDeriveInspectionsMark, qDeriveAudit, qDeriveAuditMark, qDeriveOutbox, qDeriveOutboxMark,
}

// exec runs a statement in tx, prepared when it is one of writeQueries,
// to its end (see write).
func (s *Store) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	ctx = context.WithoutCancel(ctx)
	if st := s.prepared[query]; st != nil {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// queryRow runs a one-row query in tx, prepared when it is one of
// writeQueries, to its end (see write).
func (s *Store) queryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	ctx = context.WithoutCancel(ctx)
	if st := s.prepared[query]; st != nil {
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, query, args...)
}

// timeLayout is fixed-width so that stored times sort as text.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad stored time %q: %w", s, err)
	}
	return t.UTC(), nil
}

// entropy is crypto-random, so that IDs from different gates do not
// collide, and monotonic within a millisecond.
var entropy = &ulid.LockedMonotonicReader{MonotonicReader: ulid.Monotonic(rand.Reader, 0)}

// newID returns a ULID stamped with t (with now when t is out of the ULID
// range); ULIDs made in the same millisecond are monotonic.
func newID(t time.Time) string {
	if t.Before(time.Unix(0, 0)) || t.Year() > 9999 {
		t = time.Now()
	}
	id, err := ulid.New(ulid.Timestamp(t), entropy)
	if err != nil { // the monotonic increment overflowed: astronomically rare
		return ulid.Make().String()
	}
	return id.String()
}

// nullString maps "" to NULL.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
