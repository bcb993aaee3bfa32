package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/lane"
)

const day = 24 * time.Hour

// retentionStore holds, from long ago (800 days before t0) and from now,
// inspections with their outbox messages, a passage, a decision, an alarm
// and images. Every outbox message is sent except those of unsentOld, an
// old inspection that never reached the platform.
type retentionStore struct {
	s                   *Store
	path                string
	old, recent         []string // inspection IDs
	unsentOld, exitKept string
}

func newRetentionStore(t *testing.T, nOld int) retentionStore {
	t.Helper()
	ctx := context.Background()
	s, path := openTest(t)
	f := newFixture(t)
	rs := retentionStore{s: s, path: path}
	long := t0.Add(-800 * day)
	commit := func(at time.Time) string {
		ins := newInspection(f, at, checks.VerdictReview, "driver")
		if err := s.CommitInspection(ctx, ins, inspectionMsg(`{"x":1}`)); err != nil {
			t.Fatal(err)
		}
		return ins.ID
	}
	for i := range nOld {
		rs.old = append(rs.old, commit(long.Add(time.Duration(i)*time.Minute)))
	}
	// An old inspection that let a vehicle in which left only now: its
	// exit passage keeps it.
	rs.exitKept = commit(long.Add(-time.Hour))
	for i := range 3 {
		rs.recent = append(rs.recent, commit(t0.Add(-time.Duration(i)*time.Hour)))
	}
	if err := s.RecordPassage(ctx, Passage{InspectionID: rs.old[0], Gate: "g1", Lane: "in-1", Direction: lane.DirectionIn, Plate: "浙B12345", At: long.Add(time.Minute)},
		OutboxMessage{Kind: KindPassage, Topic: "events/passage", Payload: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordPassage(ctx, Passage{Gate: "g1", Lane: "out-1", Direction: lane.DirectionOut, Plate: "浙B12345", At: t0, EntryID: rs.exitKept, Stay: 800 * day},
		OutboxMessage{Kind: KindPassage, Topic: "events/passage", Payload: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordDecision(ctx, Decision{InspectionID: rs.old[1], Operator: "王工", Action: ActionRelease, Reason: "证件已核对", At: long.Add(2 * time.Minute)}, decisionMsg()); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordAlarm(ctx, Alarm{Gate: "g1", Lane: "in-1", Kind: "rejection", Detail: "old", At: long}, OutboxMessage{Kind: KindAlarm, Topic: "events/alarm", Payload: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	for i, at := range []time.Time{long, t0.Add(-8 * day), t0} {
		if err := s.PutMedia(ctx, Media{InspectionID: fmt.Sprintf("M%d", i), Kind: "face_driver", Data: make([]byte, 2000), CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	// Everything is sent but the last old inspection's message.
	rs.unsentOld = commit(long.Add(time.Duration(nOld) * time.Minute))
	rows, err := s.PendingOutbox(ctx, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []int64
	for _, r := range rows[:len(rows)-1] {
		seqs = append(seqs, r.Seq)
	}
	if err := s.MarkSent(ctx, seqs...); err != nil {
		t.Fatal(err)
	}
	return rs
}

func (rs retentionStore) exists(t *testing.T, id string) bool {
	t.Helper()
	_, err := rs.s.GetInspection(context.Background(), id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

func TestPurge(t *testing.T) {
	ctx := context.Background()
	rs := newRetentionStore(t, 10)
	s := rs.s
	if got := queryInt(t, s, `PRAGMA auto_vacuum`); got != 2 {
		t.Fatalf("a new file's auto_vacuum is %d, want 2 (incremental)", got)
	}
	auditBefore := queryInt(t, s, `SELECT count(*) FROM audit`)
	var batches []int
	r := Retention{RecordsBefore: t0.Add(-730 * day), MediaBefore: t0.Add(-7 * day), Batch: 3,
		OnBatch: func(table string, n int) { batches = append(batches, n) }}
	res, err := s.Purge(ctx, r)
	if err != nil {
		t.Fatalf("Purge: %v", err)
	}
	t.Logf("purged %+v", res)

	t.Run("no transaction deletes more than a batch", func(t *testing.T) {
		if len(batches) != res.Batches || res.Batches < 5 {
			t.Fatalf("%d batches reported, %d counted", len(batches), res.Batches)
		}
		for i, n := range batches {
			if n < 1 || n > 3 {
				t.Fatalf("batch %d deleted %d rows, want 1..3", i, n)
			}
		}
	})
	t.Run("what was delivered and is past retention is gone", func(t *testing.T) {
		// old[0] has a passage and old[1] a decision, both old: they go
		// first, then the inspections.
		for _, id := range rs.old {
			if rs.exists(t, id) {
				t.Errorf("old inspection %s is still there", id)
			}
		}
		if res.Inspections != len(rs.old) || res.Passages != 1 || res.Decisions != 1 || res.Alarms != 1 || res.Media != 2 {
			t.Fatalf("purged %+v", res)
		}
		for _, q := range []string{
			`SELECT count(*) FROM check_results WHERE inspection_id NOT IN (SELECT id FROM inspections)`,
			`SELECT count(*) FROM inspection_search WHERE id NOT IN (SELECT id FROM inspections)`,
			`SELECT count(*) FROM media WHERE created_at < '` + fmtTime(t0.Add(-7*day)) + `'`,
		} {
			if n := queryInt(t, s, q); n != 0 {
				t.Errorf("%s = %d", q, n)
			}
		}
		if n := queryInt(t, s, `SELECT count(*) FROM outbox_ids WHERE id NOT IN (SELECT id FROM outbox)`); n != 0 {
			t.Errorf("%d outbox IDs of pruned messages left", n)
		}
	})
	t.Run("what is recent, undelivered or still referred to stays", func(t *testing.T) {
		for _, id := range append([]string{rs.unsentOld, rs.exitKept}, rs.recent...) {
			if !rs.exists(t, id) {
				t.Errorf("inspection %s was purged", id)
			}
		}
		if res.HeldBack.IsZero() {
			t.Error("the undelivered inspection did not hold the cutoff back")
		}
		if n := queryInt(t, s, `SELECT count(*) FROM outbox WHERE sent_at IS NULL`); n != 1 {
			t.Errorf("%d unsent messages, want 1", n)
		}
	})
	t.Run("the audit chain verifies from its anchor", func(t *testing.T) {
		if res.Audit == 0 || queryInt(t, s, `SELECT count(*) FROM audit`) >= auditBefore {
			t.Fatalf("no audit entry purged: %+v", res)
		}
		anchor := queryInt(t, s, `SELECT seq FROM audit_anchor`)
		if first := queryInt(t, s, `SELECT min(seq) FROM audit`); first != anchor+1 {
			t.Fatalf("first entry %d after anchor %d", first, anchor)
		}
		if err := s.VerifyAudit(ctx); err != nil {
			t.Fatalf("VerifyAudit after a purge: %v", err)
		}
		if n, err := VerifyAuditFile(ctx, rs.path); err != nil || n != queryInt(t, s, `SELECT count(*) FROM audit`) {
			t.Fatalf("VerifyAuditFile = %d, %v", n, err)
		}
		// Entries past the anchor cannot be deleted without it moving.
		if _, err := s.writer.Exec(`DELETE FROM audit WHERE seq = ?`, anchor+1); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Fatalf("deleting past the anchor: %v", err)
		}
		if _, err := s.writer.Exec(`UPDATE audit_anchor SET seq = seq - 1`); err == nil {
			t.Fatal("the anchor moved back")
		}
	})
	t.Run("a purge after delivery takes the rest", func(t *testing.T) {
		if err := s.MarkSent(ctx, pendingSeqs(t, s)...); err != nil {
			t.Fatal(err)
		}
		res, err := s.Purge(ctx, r)
		if err != nil || res.Inspections != 1 || !res.HeldBack.IsZero() || rs.exists(t, rs.unsentOld) {
			t.Fatalf("second purge %+v, %v", res, err)
		}
		if err := s.VerifyAudit(ctx); err != nil {
			t.Fatalf("VerifyAudit after a second purge: %v", err)
		}
		again, err := s.Purge(ctx, r)
		if err != nil || again.Total() != 0 {
			t.Fatalf("third purge %+v, %v; want nothing", again, err)
		}
	})
	t.Run("the derived tables are whole at the next start", func(t *testing.T) {
		s.Close()
		s2 := reopenTest(t, rs.path)
		defer s2.Close()
		var ok string
		if err := s2.writer.QueryRow(`PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
			t.Fatalf("integrity_check = %q, %v", ok, err)
		}
		if err := s2.VerifyAudit(ctx); err != nil {
			t.Fatal(err)
		}
		for _, id := range rs.recent {
			if _, err := s2.GetInspection(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// After a purge, a tampered entry is still named; so is an anchor moved
// over entries deleted by hand.
func TestPurgeThenTamper(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		stmts func(anchor int64) []string
		want  func(anchor, purged int64) int64
	}{
		{"an entry altered", func(a int64) []string {
			return []string{fmt.Sprintf(`UPDATE audit SET actor = 'operator:mallory' WHERE seq = %d`, a+2)}
		}, func(a, _ int64) int64 { return a + 2 }},
		{"the first entry after the anchor deleted", func(a int64) []string {
			return []string{fmt.Sprintf(`DELETE FROM audit WHERE seq = %d`, a+1)}
		}, func(a, _ int64) int64 { return a + 2 }},
		{"the anchor moved over deleted entries", func(a int64) []string {
			return []string{
				fmt.Sprintf(`UPDATE audit_anchor SET seq = %d, hash = (SELECT hash FROM audit WHERE seq = %d)`, a+3, a+3),
				fmt.Sprintf(`DELETE FROM audit WHERE seq <= %d`, a+3),
			}
		}, func(_, p int64) int64 { return p }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := newRetentionStore(t, 6)
			s := rs.s
			if _, err := s.Purge(ctx, Retention{RecordsBefore: t0.Add(-730 * day), Batch: 4}); err != nil {
				t.Fatal(err)
			}
			if err := s.VerifyAudit(ctx); err != nil {
				t.Fatalf("before tampering: %v", err)
			}
			anchor := queryInt(t, s, `SELECT seq FROM audit_anchor`)
			purged := queryInt(t, s, `SELECT max(seq) FROM audit WHERE action = 'audit.purged'`)
			tamper(t, s, append([]string{`DROP TRIGGER audit_anchor_forward`}, tc.stmts(anchor)...)...)
			var ae *AuditError
			err := s.VerifyAudit(ctx)
			if !errors.As(err, &ae) || ae.Seq != tc.want(anchor, purged) {
				t.Fatalf("VerifyAudit = %v, want entry %d named", err, tc.want(anchor, purged))
			}
			if _, err := VerifyAuditFile(ctx, rs.path); !errors.As(err, &ae) || ae.Seq != tc.want(anchor, purged) {
				t.Fatalf("VerifyAuditFile = %v", err)
			}
		})
	}
}
