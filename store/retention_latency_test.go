package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
)

// bigOldStore fills a store with n delivered inspections and n/2 images
// from 800 days before t0, copies of one committed inspection (the purge
// deletes them all), and returns the fixture to commit new ones with.
func bigOldStore(tb testing.TB, s *Store, n int) fixture {
	tb.Helper()
	ctx := context.Background()
	f := newFixture(tb)
	long := t0.Add(-800 * day)
	tmpl := newInspection(f, long, checks.VerdictPass)
	if err := s.CommitInspection(ctx, tmpl, inspectionMsg(`{"x":1}`)); err != nil {
		tb.Fatal(err)
	}
	if err := s.flushDerived(ctx); err != nil {
		tb.Fatal(err)
	}
	// Copies of the row, whatever its columns.
	tx, err := s.writer.Begin()
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	for _, q := range []string{
		`CREATE TEMP TABLE tmpl AS SELECT * FROM inspections WHERE id = '` + tmpl.ID + `'`,
		`CREATE TEMP TABLE tmpl_checks AS SELECT * FROM check_results WHERE inspection_id = '` + tmpl.ID + `'`,
	} {
		if _, err := tx.Exec(q); err != nil {
			tb.Fatal(err)
		}
	}
	for i := range n {
		id := fmt.Sprintf("OLD%08d", i)
		at := fmtTime(long.Add(time.Duration(i) * time.Second))
		for _, q := range []string{
			`UPDATE temp.tmpl SET id = ?1, decided_at = ?2`,
			`INSERT INTO inspections SELECT * FROM temp.tmpl`,
			`INSERT INTO check_results SELECT ?1, check_id, result, reasons FROM temp.tmpl_checks`,
			`INSERT INTO inspection_search SELECT decided_at, id, plate_norm, trailer_norm, driver_id, escort_id, waybill, verdict FROM temp.tmpl`,
		} {
			if _, err := tx.Exec(q, id, at); err != nil {
				tb.Fatalf("%s: %v", q, err)
			}
		}
	}
	for _, q := range []string{`DROP TABLE temp.tmpl`, `DROP TABLE temp.tmpl_checks`, `UPDATE counters SET value = (SELECT max(rowid) FROM inspections) WHERE name = 'derived_inspections'`} {
		if _, err := tx.Exec(q); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
	var ms []Media
	for i := range n / 2 {
		ms = append(ms, Media{InspectionID: fmt.Sprintf("OLD%08d", i), Kind: "face_driver", Data: make([]byte, 4096), CreatedAt: long})
	}
	if err := s.PutMediaAll(ctx, ms...); err != nil {
		tb.Fatal(err)
	}
	rows, err := s.PendingOutbox(ctx, 0, 10)
	if err != nil {
		tb.Fatal(err)
	}
	for _, r := range rows {
		if err := s.MarkSent(ctx, r.Seq); err != nil {
			tb.Fatal(err)
		}
	}
	return f
}

// purgeRetention is what the purge tests delete: records past 24 months,
// images past 7 days.
func purgeRetention(batch int) Retention {
	return Retention{RecordsBefore: t0.Add(-730 * day), MediaBefore: t0.Add(-7 * day), Batch: batch}
}

// A purge of a big store never holds the writer for long: each of its
// transactions deletes at most a batch, and a decision's commit that comes
// while it runs waits behind at most the purge step in progress, never a
// run of them. The order of the writer's turns is exact (they are logged
// while the one writer connection is held), so this holds however busy the
// machine is; the times are logged for the eye (BenchmarkDecisionDuringPurge
// measures them).
func TestPurgeLetsDecisionsThrough(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a big store")
	}
	ctx := context.Background()
	s, _ := openTest(t)
	const n, batch = 3000, 100
	f := bigOldStore(t, s, n)
	decide := func(i int) time.Duration {
		ins := newInspection(f, t0.Add(time.Duration(i)*time.Second), checks.VerdictPass)
		ins.ID = fmt.Sprintf("NEW%08d", i)
		start := time.Now()
		if err := s.CommitInspection(ctx, ins, inspectionMsg(`{"x":2}`)); err != nil {
			t.Error(err)
		}
		return time.Since(start)
	}
	var baseline []time.Duration
	for i := range 20 {
		baseline = append(baseline, decide(i))
	}

	var mu sync.Mutex
	var turns []string
	logTurn := func(ev string) {
		mu.Lock()
		turns = append(turns, ev)
		mu.Unlock()
	}
	s.queue.onTurn.Store(&logTurn)
	var sizes []int
	r := purgeRetention(batch)
	r.OnBatch = func(table string, deleted int) { sizes = append(sizes, deleted) }
	var purged atomic.Bool
	var during []time.Duration
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 20; !purged.Load(); i++ {
			during = append(during, decide(i))
		}
	}()
	res, err := s.Purge(ctx, r)
	purged.Store(true)
	<-done
	s.queue.onTurn.Store(nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Inspections != n+1 || res.Media != n/2 { // the copies and the original
		t.Fatalf("purged %+v, want %d inspections and %d images", res, n+1, n/2)
	}
	for i, m := range sizes {
		if m > batch {
			t.Fatalf("purge transaction %d deleted %d rows, more than a batch (%d)", i, m, batch)
		}
	}
	if len(sizes) < n/batch {
		t.Fatalf("%d purge transactions for %d rows", len(sizes), n+n/2)
	}

	// For each decision, the purge turns between its wait and its turn.
	mu.Lock()
	defer mu.Unlock()
	waitingSince := map[string]int{}
	var committedAt []int // purge turns before each decision's turn
	purgeTurns, worst := 0, 0
	for _, ev := range turns {
		switch {
		case strings.HasPrefix(ev, "wait commit inspection NEW"):
			waitingSince[strings.TrimPrefix(ev, "wait ")] = purgeTurns
		case strings.HasPrefix(ev, "commit inspection NEW"):
			since, ok := waitingSince[ev]
			if !ok {
				t.Fatalf("turn %q without its wait", ev)
			}
			worst = max(worst, purgeTurns-since)
			committedAt = append(committedAt, purgeTurns)
		case strings.HasPrefix(ev, "purge"):
			purgeTurns++
		}
	}
	interleaved := 0
	for _, at := range committedAt {
		if at > 0 && at < purgeTurns {
			interleaved++
		}
	}
	t.Logf("%d purge transactions, %d purge turns with the vacuum steps; %d decisions committed between them; a decision waited behind at most %d purge turns",
		len(sizes), purgeTurns, interleaved, worst)
	t.Logf("decision commit: baseline median %v max %v; during the purge median %v max %v", median(baseline), slices.Max(baseline), median(during), slices.Max(during))
	// At most the purge turn in progress when the decision came, and one
	// that had passed its yield just before the decision started waiting.
	if worst > 2 {
		t.Fatalf("a decision waited behind %d purge turns, want at most 2", worst)
	}
	if interleaved < 3 {
		t.Fatalf("only %d decisions committed while the purge ran: it held the writer", interleaved)
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkDecisionDuringPurge: a decision's commit (CommitInspection)
// alone, and while a purge of 3000 inspections and 1500 images runs in
// batches of DefaultPurgeBatch. make bench records both in
// docs/benchmarks.md.
func BenchmarkDecisionDuringPurge(b *testing.B) {
	for _, purging := range []bool{false, true} {
		name := "idle"
		if purging {
			name = "purging"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			s, _ := openTest(b)
			f := bigOldStore(b, s, 3000)
			stop := make(chan struct{})
			var wg sync.WaitGroup
			if purging {
				wg.Go(func() {
					// Purge again and again: each round refills what the
					// last one took, outside the timed loop's writer turns
					// as little as possible.
					for {
						if _, err := s.Purge(ctx, purgeRetention(0)); err != nil {
							b.Error(err)
							return
						}
						select {
						case <-stop:
							return
						default:
						}
						refill(b, s)
					}
				})
			}
			var lat []time.Duration
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				ins := newInspection(f, t0.Add(time.Duration(i)*time.Millisecond), checks.VerdictPass)
				start := time.Now()
				if err := s.CommitInspection(ctx, ins, inspectionMsg(`{"x":2}`)); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			close(stop)
			wg.Wait()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			b.ReportMetric(float64(lat[len(lat)-1].Microseconds()), "max-µs")
		})
	}
}

// refill puts 500 old delivered inspections back for the next purge round,
// copies of the newest rows, 100 to a transaction (a refill is a writer
// too).
func refill(b *testing.B, s *Store) {
	for k := range 5 {
		err := s.write(context.Background(), "refill", func(tx *sql.Tx) error {
			for _, q := range []string{
				`CREATE TEMP TABLE IF NOT EXISTS refill AS SELECT * FROM inspections WHERE 0`,
				`INSERT INTO temp.refill SELECT * FROM inspections ORDER BY rowid DESC LIMIT 100`,
				`UPDATE temp.refill SET id = 'R' || ?1 || '-' || rowid, decided_at = ?2`,
				`INSERT INTO inspections SELECT * FROM temp.refill`,
				`DELETE FROM temp.refill`,
			} {
				if _, err := tx.Exec(q, fmt.Sprintf("%d-%d", time.Now().UnixNano(), k), fmtTime(t0.Add(-800*day))); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
