package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hazgate/hazgate/clock"
)

// checkPending holds the outbox's counters to its rows: outbox_pending is
// the number of unsent rows (sent_at NULL), OutboxStats says so, and no
// unsent row lies below the low-water mark.
func checkPending(t *testing.T, s *Store) {
	t.Helper()
	counted := queryInt(t, s, `SELECT count(*) FROM outbox WHERE sent_at IS NULL`)
	if got := queryInt(t, s, qOutboxPending); got != counted {
		t.Fatalf("outbox_pending is %d, but %d rows are unsent", got, counted)
	}
	if depth, _, err := s.OutboxStats(context.Background()); err != nil || int64(depth) != counted {
		t.Fatalf("OutboxStats depth %d (%v), want %d", depth, err, counted)
	}
	if n := queryInt(t, s, `SELECT count(*) FROM outbox WHERE seq < `+outboxLow+` AND sent_at IS NULL`); n != 0 {
		t.Fatalf("%d unsent rows below the low-water mark", n)
	}
}

// pendingSeqs returns the seqs PendingOutbox returns.
func pendingSeqs(t *testing.T, s *Store) []int64 {
	t.Helper()
	rows, err := s.PendingOutbox(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for _, r := range rows {
		out = append(out, r.Seq)
	}
	return out
}

func seqRange(from, to int64) []int64 {
	var out []int64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func sentAt(t *testing.T, s *Store, seq int64) sql.NullString {
	t.Helper()
	var v sql.NullString
	if err := s.writer.QueryRow(`SELECT sent_at FROM outbox WHERE seq = ?`, seq).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMarkSent(t *testing.T) {
	ctx := context.Background()
	c := clock.NewFake(t0)
	s, path := openTest(t, WithClock(c))
	for range 5 {
		if err := s.Enqueue(ctx, t0, msg(KindAlarm), msg(KindTelemetry)); err != nil {
			t.Fatal(err)
		}
	}
	checkPending(t, s)

	// What one connection delivered, from the first unsent row: the rows
	// have their sent_at at once, from the store's clock, and the
	// low-water mark moves past them.
	if err := s.MarkSent(ctx, seqRange(1, 4)...); err != nil {
		t.Fatal(err)
	}
	checkPending(t, s)
	if got := pendingSeqs(t, s); !slices.Equal(got, seqRange(5, 10)) {
		t.Fatalf("pending after MarkSent(1-4) = %v", got)
	}
	if v := sentAt(t, s, 2); v.String != fmtTime(t0) {
		t.Fatalf("sent_at of seq 2 = %v, want %s", v, fmtTime(t0))
	}
	_, oldest, _ := s.OutboxStats(ctx)
	if !oldest.Equal(t0) {
		t.Fatalf("oldest unsent %v", oldest)
	}

	// Again, or overlapping what is sent: only the new rows count.
	for _, seqs := range [][]int64{seqRange(1, 4), {2, 3}, seqRange(3, 6), {1, 5, 6}} {
		if err := s.MarkSent(ctx, seqs...); err != nil {
			t.Fatal(err)
		}
		checkPending(t, s)
	}
	if got := pendingSeqs(t, s); !slices.Equal(got, seqRange(7, 10)) {
		t.Fatalf("pending = %v, want 7-10", got)
	}

	// A row above an unsent one (a mark that failed): it is marked, at
	// the time of its own mark, and the low-water mark stays at the
	// unsent row.
	c.Advance(time.Minute)
	if err := s.MarkSent(ctx, 9); err != nil {
		t.Fatal(err)
	}
	checkPending(t, s)
	if got := pendingSeqs(t, s); !slices.Equal(got, []int64{7, 8, 10}) {
		t.Fatalf("pending = %v, want 7 8 10", got)
	}
	if v := sentAt(t, s, 9); v.String != fmtTime(t0.Add(time.Minute)) {
		t.Fatalf("sent_at of seq 9 = %v, want %s", v, fmtTime(t0.Add(time.Minute)))
	}
	// The unsent rows sent again: the mark moves past 9, sent already.
	if err := s.MarkSent(ctx, 8, 7); err != nil {
		t.Fatal(err)
	}
	checkPending(t, s)
	if got := pendingSeqs(t, s); !slices.Equal(got, []int64{10}) {
		t.Fatalf("pending = %v, want 10", got)
	}
	if low := queryInt(t, s, `SELECT value FROM counters WHERE name = 'outbox_low'`); low != 10 {
		t.Fatalf("outbox_low %d, want 10", low)
	}
	if err := s.MarkSent(ctx, 10); err != nil {
		t.Fatal(err)
	}
	checkPending(t, s)
	if got := pendingSeqs(t, s); len(got) != 0 {
		t.Fatalf("pending = %v, want none", got)
	}

	// It survives a restart: nothing comes back.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, path, WithClock(c))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	checkPending(t, s)
	if got := pendingSeqs(t, s); len(got) != 0 {
		t.Fatalf("pending after a restart = %v", got)
	}
	if n := queryInt(t, s, `SELECT count(*) FROM outbox WHERE sent_at IS NULL`); n != 0 {
		t.Fatalf("%d rows without sent_at", n)
	}
	// Sent is sent: every row can be pruned at once.
	if n, err := s.PruneOutbox(ctx, t0.Add(2*time.Minute)); err != nil || n != 10 {
		t.Fatalf("PruneOutbox = %d, %v; want 10", n, err)
	}
	checkPending(t, s)

	var sync int
	if err := s.writer.QueryRow(`PRAGMA synchronous`).Scan(&sync); err != nil || sync != 2 {
		t.Fatalf("PRAGMA synchronous after the marks = %d (%v), want 2 (FULL)", sync, err)
	}
}

// Sent rows are not unsent: the outbox bound never drops them, nor counts
// them.
func TestMarkSentOutboxLimit(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t, WithOutboxLimit(2))
	if err := s.Enqueue(ctx, t0, msg(KindTelemetry), msg(KindTelemetry)); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSent(ctx, 1, 2); err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue(ctx, t0, msg(KindTelemetry), msg(KindStatus), msg(KindAlarm)); err != nil {
		t.Fatal(err)
	}
	checkPending(t, s)
	// Full at 3 and 4: the alarm displaced the telemetry at 3, not the
	// sent one at 1.
	if got := pendingSeqs(t, s); !slices.Equal(got, []int64{4, 5}) {
		t.Fatalf("pending = %v, want 4 5", got)
	}
	if n := queryInt(t, s, `SELECT count(*) FROM outbox WHERE seq IN (1, 2)`); n != 2 {
		t.Fatalf("%d of the 2 sent rows left", n)
	}
}

// The marks of a file are kept across a restart, made as the uplink makes
// them while a producer writes: nothing marked comes back, nothing
// unmarked is lost.
func TestMarkSentWhileWriting(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hazgate.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	const total = 600
	wrote := make(chan struct{}, 1) // a batch was written
	done := make(chan error, 1)
	go func() {
		for i := 0; i < total; i += 6 {
			if err := s.Enqueue(ctx, t0, msg(KindAlarm), msg(KindTelemetry), msg(KindPassage), msg(KindStatus), msg(KindAlarm), msg(KindInspection)); err != nil {
				done <- err
				return
			}
			select {
			case wrote <- struct{}{}:
			default:
			}
		}
		done <- nil
	}()
	var cursor int64
	marked, finished := 0, false
	for marked < total {
		rows, err := s.PendingOutbox(ctx, cursor, 50)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 {
			if finished {
				break
			}
			select {
			case <-wrote:
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
				finished = true
			}
			continue
		}
		seqs := make([]int64, len(rows))
		for i, r := range rows {
			seqs[i] = r.Seq
		}
		if err := s.MarkSent(ctx, seqs...); err != nil {
			t.Fatal(err)
		}
		cursor = rows[len(rows)-1].Seq
		marked += len(rows)
	}
	if !finished {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if marked != total {
		t.Fatalf("marked %d, want %d", marked, total)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkPending(t, s)
	if got := pendingSeqs(t, s); len(got) != 0 {
		t.Fatalf("%d rows unsent after marking all", len(got))
	}
	if n := queryInt(t, s, `SELECT count(*) FROM outbox WHERE sent_at IS NULL`); n != 0 {
		t.Fatalf("%d rows without sent_at", n)
	}
}

// A file whose marks moved the low-water mark past rows without writing
// their sent_at (before migration 8) is upgraded: those rows are sent,
// with a sent_at, and nothing else changes.
func TestMigrateDeferredSentAt(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v7.db")
	db, err := openDB(ctx, path, true)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ms, func(m migration) bool { return m.version == 8 })
	if i < 0 {
		t.Fatal("no migration 8")
	}
	if err := applyMigrations(ctx, db, ms[:i], t0); err != nil {
		t.Fatal(err)
	}
	// Six messages; seq 1 marked sent with its sent_at, 2 to 4 through
	// the low-water mark only (stamped up to 2), 5 and 6 unsent.
	v7 := &Store{writer: db, prepared: map[string]*sql.Stmt{}}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if err := v7.insertOutbox(ctx, tx, []OutboxMessage{msg(KindAlarm), msg(KindTelemetry), msg(KindAlarm), msg(KindStatus), msg(KindAlarm), msg(KindTelemetry)}, t0); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`UPDATE outbox SET sent_at = '` + fmtTime(t0) + `' WHERE seq = 1`,
		`UPDATE counters SET value = 5 WHERE name = 'outbox_low'`,
		`UPDATE counters SET value = value - 3 WHERE name = 'outbox_pending'`,
		`INSERT INTO counters (name, value) VALUES ('outbox_stamped', 2)`,
	} {
		if _, err := tx.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := Open(ctx, path, WithClock(clock.NewFake(t0)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkPending(t, s)
	if got := pendingSeqs(t, s); !slices.Equal(got, []int64{5, 6}) {
		t.Fatalf("pending after the upgrade = %v, want 5 6", got)
	}
	if v := sentAt(t, s, 1); v.String != fmtTime(t0) {
		t.Fatalf("sent_at of seq 1 = %v, want it kept (%s)", v, fmtTime(t0))
	}
	for seq := int64(2); seq <= 4; seq++ {
		v := sentAt(t, s, seq)
		if _, err := parseTime(v.String); !v.Valid || err != nil || len(v.String) != len(fmtTime(t0)) {
			t.Fatalf("sent_at of seq %d = %v (%v), want a stored time", seq, v, err)
		}
	}
	if n := queryInt(t, s, `SELECT count(*) FROM counters WHERE name = 'outbox_stamped'`); n != 0 {
		t.Fatal("outbox_stamped kept")
	}
	// The marks go on from there.
	if err := s.MarkSent(ctx, 5, 6); err != nil {
		t.Fatal(err)
	}
	checkPending(t, s)
	if n, err := s.PruneOutbox(ctx, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil || n != 6 {
		t.Fatalf("PruneOutbox = %d, %v; want 6", n, err)
	}
}
