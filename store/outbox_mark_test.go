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
// the number of unsent rows (at or above the low-water mark, sent_at NULL),
// no row below the mark is unsent, and every row below outbox_stamped has
// its sent_at.
func checkPending(t *testing.T, s *Store) {
	t.Helper()
	counted := queryInt(t, s, `SELECT count(*) FROM outbox WHERE seq >= `+outboxLow+` AND sent_at IS NULL`)
	if got := queryInt(t, s, qOutboxPending); got != counted {
		t.Fatalf("outbox_pending is %d, but %d rows are unsent", got, counted)
	}
	if depth, _, err := s.OutboxStats(context.Background()); err != nil || int64(depth) != counted {
		t.Fatalf("OutboxStats depth %d (%v), want %d", depth, err, counted)
	}
	if n := queryInt(t, s, `SELECT count(*) FROM outbox WHERE seq < coalesce(
			(SELECT value FROM counters WHERE name = 'outbox_stamped'), `+outboxLow+`) AND sent_at IS NULL`); n != 0 {
		t.Fatalf("%d rows below the stamped mark without sent_at", n)
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

func TestMarkSentRange(t *testing.T) {
	ctx := context.Background()
	c := clock.NewFake(t0)
	s, path := openTest(t, WithClock(c))
	for range 5 {
		if err := s.Enqueue(ctx, t0, msg(KindAlarm), msg(KindTelemetry)); err != nil {
			t.Fatal(err)
		}
	}
	checkPending(t, s)

	// What one connection delivered, from the first unsent row: the
	// low-water mark moves; the rows are not written yet.
	if err := s.MarkSentRange(ctx, 1, 4); err != nil {
		t.Fatal(err)
	}
	checkPending(t, s)
	if got := pendingSeqs(t, s); !slices.Equal(got, seqRange(5, 10)) {
		t.Fatalf("pending after MarkSentRange(1, 4) = %v", got)
	}
	if v := sentAt(t, s, 2); v.Valid {
		t.Fatalf("sent_at of seq 2 written at once: %v", v.String)
	}
	_, oldest, _ := s.OutboxStats(ctx)
	if !oldest.Equal(t0) {
		t.Fatalf("oldest unsent %v", oldest)
	}

	// Again, or overlapping what is sent: only the new rows count.
	for _, r := range [][2]int64{{1, 4}, {2, 3}, {3, 6}} {
		if err := s.MarkSentRange(ctx, r[0], r[1]); err != nil {
			t.Fatal(err)
		}
		checkPending(t, s)
	}
	if got := pendingSeqs(t, s); !slices.Equal(got, seqRange(7, 10)) {
		t.Fatalf("pending = %v, want 7-10", got)
	}
	// MarkSent of rows below the mark changes nothing.
	if err := s.MarkSent(ctx, 1, 5, 6); err != nil {
		t.Fatal(err)
	}
	checkPending(t, s)

	// A range above an unsent row (a mark that failed): its rows are
	// written, and the mark stays at the unsent row.
	if err := s.MarkSentRange(ctx, 9, 9); err != nil {
		t.Fatal(err)
	}
	checkPending(t, s)
	if got := pendingSeqs(t, s); !slices.Equal(got, []int64{7, 8, 10}) {
		t.Fatalf("pending = %v, want 7 8 10", got)
	}
	if v := sentAt(t, s, 9); !v.Valid {
		t.Fatal("seq 9, marked above an unsent row, has no sent_at")
	}
	// The unsent rows sent again: the mark moves past 9, sent already.
	if err := s.MarkSentRange(ctx, 7, 8); err != nil {
		t.Fatal(err)
	}
	checkPending(t, s)
	if got := pendingSeqs(t, s); !slices.Equal(got, []int64{10}) {
		t.Fatalf("pending = %v, want 10", got)
	}
	if low := queryInt(t, s, `SELECT value FROM `+`counters WHERE name = 'outbox_low'`); low != 10 {
		t.Fatalf("outbox_low %d, want 10", low)
	}
	if err := s.MarkSentRange(ctx, 10, 10); err != nil {
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

	// StampSent writes the sent_at that the mark left out, a few at a
	// time, with the store's clock.
	c.Advance(time.Minute)
	for i := 0; ; i++ {
		more, err := s.StampSent(ctx, 3)
		if err != nil {
			t.Fatal(err)
		}
		checkPending(t, s)
		if !more {
			break
		}
		if i > 5 {
			t.Fatal("StampSent never done")
		}
	}
	if n := queryInt(t, s, `SELECT count(*) FROM outbox WHERE sent_at IS NULL`); n != 0 {
		t.Fatalf("%d rows without sent_at after StampSent", n)
	}
	if v := sentAt(t, s, 2); v.String != fmtTime(t0.Add(time.Minute)) {
		t.Fatalf("sent_at of seq 2 = %v, want %s", v, fmtTime(t0.Add(time.Minute)))
	}
	if v := sentAt(t, s, 9); v.String != fmtTime(t0) {
		t.Fatalf("sent_at of seq 9 = %v, want %s (MarkSentRange wrote it)", v, fmtTime(t0))
	}
	if more, err := s.StampSent(ctx, 3); more || err != nil {
		t.Fatalf("StampSent with nothing to do = %v, %v", more, err)
	}
	if n, err := s.PruneOutbox(ctx, t0.Add(2*time.Minute)); err != nil || n != 10 {
		t.Fatalf("PruneOutbox = %d, %v; want 10", n, err)
	}
	checkPending(t, s)

	for _, q := range []string{"synchronous"} {
		var v int
		if err := s.writer.QueryRow(`PRAGMA ` + q).Scan(&v); err != nil || v != 2 {
			t.Fatalf("PRAGMA %s after the marks = %d (%v), want 2 (FULL)", q, v, err)
		}
	}
}

// Rows sent through the low-water mark but not stamped yet are not
// unsent: the outbox bound never drops them, nor counts them.
func TestMarkSentRangeOutboxLimit(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t, WithOutboxLimit(2))
	if err := s.Enqueue(ctx, t0, msg(KindTelemetry), msg(KindTelemetry)); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSentRange(ctx, 1, 2); err != nil {
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
	if _, err := s.StampSent(ctx, 0); err != nil {
		t.Fatal(err)
	}
	checkPending(t, s)
}

// A store whose rows were all marked by MarkSent, as before MarkSentRange,
// starts the stamped mark at its low-water mark.
func TestMarkSentThenRange(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	for range 3 {
		if err := s.Enqueue(ctx, t0, msg(KindAlarm), msg(KindAlarm)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.MarkSent(ctx, 1, 2, 3); err != nil {
		t.Fatal(err)
	}
	if more, err := s.StampSent(ctx, 10); more || err != nil {
		t.Fatalf("StampSent before any MarkSentRange = %v, %v", more, err)
	}
	if err := s.MarkSentRange(ctx, 4, 5); err != nil {
		t.Fatal(err)
	}
	checkPending(t, s)
	if got := queryInt(t, s, `SELECT value FROM counters WHERE name = 'outbox_stamped'`); got != 4 {
		t.Fatalf("outbox_stamped %d, want 4", got)
	}
	if _, err := s.StampSent(ctx, 10); err != nil {
		t.Fatal(err)
	}
	checkPending(t, s)
	if got := pendingSeqs(t, s); !slices.Equal(got, []int64{6}) {
		t.Fatalf("pending = %v, want 6", got)
	}
}

func TestSeqRuns(t *testing.T) {
	for _, tc := range []struct {
		in   []int64
		want [][2]int64
	}{
		{nil, nil},
		{[]int64{5}, [][2]int64{{5, 5}}},
		{[]int64{1, 2, 3, 5, 6, 9}, [][2]int64{{1, 3}, {5, 6}, {9, 9}}},
		{[]int64{3, 1, 2, 2, 7}, [][2]int64{{1, 3}, {7, 7}}},
	} {
		in := slices.Clone(tc.in)
		if got := seqRuns(in); !slices.Equal(got, tc.want) {
			t.Errorf("seqRuns(%v) = %v, want %v", tc.in, got, tc.want)
		}
		if !slices.Equal(in, tc.in) {
			t.Errorf("seqRuns changed its argument to %v", in)
		}
	}
}

func TestOutboxReader(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	for range 4 {
		if err := s.Enqueue(ctx, t0, msg(KindInspection), msg(KindStatus)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.MarkSent(ctx, 2); err != nil {
		t.Fatal(err)
	}
	r, err := s.OutboxReader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, page := range [][2]int64{{0, 3}, {3, 3}, {0, 100}, {8, 10}} {
		want, err := s.PendingOutbox(ctx, page[0], int(page[1]))
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.Pending(ctx, page[0], int(page[1]))
		if err != nil {
			t.Fatal(err)
		}
		if jsonOf(t, got) != jsonOf(t, want) {
			t.Fatalf("Pending(%d, %d) = %s, PendingOutbox = %s", page[0], page[1], jsonOf(t, got), jsonOf(t, want))
		}
		for _, row := range got {
			if cap(row.Payload)-len(row.Payload) < PayloadRoom {
				t.Fatalf("payload of seq %d has room for %d bytes, want %d", row.Seq, cap(row.Payload)-len(row.Payload), PayloadRoom)
			}
		}
	}
}

// The marks of a file are kept across a restart with MarkSentRange, as the
// uplink makes them, while a producer writes: nothing marked comes back,
// nothing unmarked is lost.
func TestMarkSentRangeWhileWriting(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hazgate.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	const total = 600
	done := make(chan error, 1)
	go func() {
		for i := 0; i < total; i += 6 {
			if err := s.Enqueue(ctx, t0, msg(KindAlarm), msg(KindTelemetry), msg(KindPassage), msg(KindStatus), msg(KindAlarm), msg(KindInspection)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	var cursor int64
	marked := 0
	for marked < total {
		rows, err := s.PendingOutbox(ctx, cursor, 50)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 {
			time.Sleep(time.Millisecond)
			continue
		}
		if err := s.MarkSentRange(ctx, rows[0].Seq, rows[len(rows)-1].Seq); err != nil {
			t.Fatal(err)
		}
		cursor = rows[len(rows)-1].Seq
		marked += len(rows)
		if marked%200 < 50 {
			if _, err := s.StampSent(ctx, 64); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
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
	for {
		more, err := s.StampSent(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		if !more {
			break
		}
	}
	if n := queryInt(t, s, `SELECT count(*) FROM outbox WHERE sent_at IS NULL`); n != 0 {
		t.Fatalf("%d rows without sent_at", n)
	}
}
