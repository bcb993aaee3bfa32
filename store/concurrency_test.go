package store

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/lane"
)

// TestLanesConcurrently commits from eight lanes at once while lookups run
// and a drain marks messages sent: every record lands, the event seqs have
// no gap, the audit chain holds, and all of it survives a reopen.
func TestLanesConcurrently(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db")
	s, err := Open(ctx, path, WithClock(clock.NewFake(t0)))
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	if err := s.ImportSnapshot(ctx, f.snap, "test", t0); err != nil {
		t.Fatal(err)
	}
	const lanes, each = 8, 20
	var wg sync.WaitGroup
	errs := make(chan error, lanes*each*2)
	for l := range lanes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				at := t0.Add(time.Duration(i)*time.Minute + time.Duration(l)*time.Second)
				if _, err := s.Lookup(ctx, f.evidence()); err != nil {
					errs <- err
					return
				}
				ins := newInspection(f, at, checks.VerdictPass)
				ins.Lane = fmt.Sprintf("in-%d", l)
				if err := s.CommitInspection(ctx, ins, msg(KindInspection)); err != nil {
					errs <- err
					return
				}
				if err := s.RecordPassage(ctx, Passage{InspectionID: ins.ID, Lane: ins.Lane, Direction: lane.DirectionIn, Plate: "浙B12345", At: at.Add(25 * time.Second)}, msg(KindPassage)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	drained := make(chan int)
	stop := make(chan struct{})
	go func() { // the uplink's drain, racing the lanes
		var after int64
		n := 0
		for {
			// Whether the lanes were done is looked at before the read:
			// an empty read that began after they were done is the end
			// (one that began before may have missed their last commit).
			var done bool
			select {
			case <-stop:
				done = true
			default:
			}
			rows, err := s.PendingOutbox(ctx, after, 16)
			if err != nil {
				errs <- err
				break
			}
			var seqs []int64
			for _, r := range rows {
				seqs = append(seqs, r.Seq)
				after = r.Seq
			}
			if err := s.MarkSent(ctx, seqs...); err != nil {
				errs <- err
				break
			}
			n += len(rows)
			if len(rows) == 0 && done {
				drained <- n
				return
			}
		}
		drained <- n
	}()
	wg.Wait()
	close(stop)
	n := <-drained
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n != lanes*each*2 {
		t.Fatalf("drained %d messages, want %d", n, lanes*each*2)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.VerifyAudit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := queryInt(t, s, `SELECT count(*) FROM inspections`); got != lanes*each {
		t.Fatalf("%d inspections, want %d", got, lanes*each)
	}
	if got := queryInt(t, s, `SELECT count(*) FROM outbox WHERE sent_at IS NULL`); got != 0 {
		t.Fatalf("%d messages unsent", got)
	}
	// Event seqs are 1..n without a gap, in outbox order.
	if got := queryInt(t, s, `SELECT count(*) FROM outbox WHERE event_seq <> seq`); got != 0 {
		t.Fatalf("%d messages whose event seq is not their outbox seq", got)
	}
	if got := queryInt(t, s, `SELECT max(event_seq) FROM outbox`); got != lanes*each*2 {
		t.Fatalf("last event seq %d, want %d", got, lanes*each*2)
	}
	if depth, _, err := s.OutboxStats(ctx); err != nil || depth != 0 {
		t.Fatalf("OutboxStats = %d, %v", depth, err)
	}
}
