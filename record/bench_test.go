package record

import (
	"context"
	"database/sql"
	"net/url"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/store"
)

// BenchmarkDecisionLatency measures, side by side in one run, the time from
// the last piece of evidence into a lane to its barrier command, against a
// 10 000-vehicle registry, and one bare durable SQLite commit (a one-row
// insert in its own transaction, WAL, synchronous=FULL) on the same disk.
// It reports p50 and p99 of both and their ratios (target: under 1.5x).
func BenchmarkDecisionLatency(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	now := time.Now()
	st, err := store.Open(ctx, filepath.Join(dir, "gate.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	snap, fleet := bigRegistry(10000, now)
	if err := st.ImportSnapshot(ctx, snap, "bench", now); err != nil {
		b.Fatal(err)
	}
	g := New("bench", st, checks.DefaultParams(), nil)

	opened := make(chan time.Time, 1)
	r := lane.NewRunner(lane.Config{Name: "in-1"}, lane.Deps{
		Clock:    clock.Real{},
		Barrier:  barrierFunc(func() { opened <- time.Now() }),
		Decider:  g,
		Faces:    instantFaces{},
		Recorder: g,
	})
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go r.Run(rctx)

	bare := openBare(b, filepath.Join(dir, "bare.db"))
	defer bare.Close()

	n := b.N
	decisions := make([]time.Duration, 0, n)
	commits := make([]time.Duration, 0, n)
	b.ResetTimer()
	for i := 0; i < n; i++ {
		v := fleet[i%len(fleet)]
		r.Send(lane.VehiclePresent{})
		r.Send(lane.PlateRead{Plate: v.plate, Trailer: v.trailer, Confidence: 1})
		r.Send(lane.CardRead{Person: v.driver, Role: "driver"})
		r.Send(lane.CardRead{Person: v.escort, Role: "escort"})
		if err := r.Sync(ctx); err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		r.Send(lane.WaybillScanned{Number: v.waybill})
		t1 := <-opened
		decisions = append(decisions, t1.Sub(t0))
		r.Send(lane.SafetyLoop{Occupied: true})
		r.Send(lane.VehicleGone{})
		r.Send(lane.SafetyLoop{Occupied: false})
		if err := r.Sync(ctx); err != nil {
			b.Fatal(err)
		}
		if s := r.Snapshot(); s.Phase != lane.PhaseIdle {
			b.Fatalf("vehicle %d: lane %s, want idle (outcome %+v)", i, s.Phase, s.Outcome)
		}

		c0 := time.Now()
		if _, err := bare.ExecContext(ctx, `INSERT INTO t (v) VALUES (?)`, i); err != nil {
			b.Fatal(err)
		}
		commits = append(commits, time.Since(c0))
	}
	b.StopTimer()
	dp50, dp99 := percentiles(decisions)
	cp50, cp99 := percentiles(commits)
	b.ReportMetric(float64(dp50.Microseconds()), "decision-p50-µs")
	b.ReportMetric(float64(dp99.Microseconds()), "decision-p99-µs")
	b.ReportMetric(float64(cp50.Microseconds()), "commit-p50-µs")
	b.ReportMetric(float64(cp99.Microseconds()), "commit-p99-µs")
	b.ReportMetric(float64(dp50)/float64(cp50), "p50-ratio")
	b.ReportMetric(float64(dp99)/float64(cp99), "p99-ratio")
}

func percentiles(ds []time.Duration) (p50, p99 time.Duration) {
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) time.Duration { return s[min(len(s)-1, int(q*float64(len(s))))] }
	return at(0.50), at(0.99)
}

// openBare opens a one-table SQLite file the way the store opens its own:
// WAL, synchronous=FULL, one writer connection.
func openBare(b *testing.B, path string) *sql.DB {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)`); err != nil {
		b.Fatal(err)
	}
	return db
}

type barrierFunc func()

func (f barrierFunc) Open() error  { f(); return nil }
func (f barrierFunc) Close() error { return nil }

type instantFaces struct{}

func (instantFaces) Match(_ context.Context, _ string, _ checks.PersonEvidence, done func(*float64)) {
	s := 0.95
	done(&s)
}
