package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// auditLog makes a store with n stand-alone audit entries about "s1" and
// "s2" in turn.
func auditLog(t *testing.T, n int) *Store {
	t.Helper()
	s, _ := openTest(t)
	for i := range n {
		detail := map[string]any{"i": i, "note": "测试"}
		if err := s.Audit(context.Background(), "operator:王工", "test.step", fmt.Sprintf("s%d", i%2+1), detail, t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// tamper runs raw SQL as someone with the file would, past the append-only
// triggers.
func tamper(t *testing.T, s *Store, stmts ...string) {
	t.Helper()
	all := append([]string{`DROP TRIGGER audit_no_update`, `DROP TRIGGER audit_no_delete`}, stmts...)
	for _, q := range all {
		if _, err := s.writer.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func TestAuditChain(t *testing.T) {
	ctx := context.Background()
	s := auditLog(t, 6)
	if err := s.VerifyAudit(ctx); err != nil {
		t.Fatalf("VerifyAudit on an untouched log: %v", err)
	}
	entries, err := s.AuditFor(ctx, "s2")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 || entries[0].Seq != 2 || entries[2].Seq != 6 || entries[0].Actor != "operator:王工" {
		t.Fatalf("AuditFor(s2) = %+v", entries)
	}
	if !entries[1].At.Equal(t0.Add(3*time.Second)) || string(entries[1].Detail) != `{"i":3,"note":"测试"}` {
		t.Fatalf("entry = %+v", entries[1])
	}
	if entries[1].PrevHash == "" || len(entries[1].Hash) != 64 {
		t.Fatalf("hashes = %q %q", entries[1].PrevHash, entries[1].Hash)
	}

	t.Run("head", func(t *testing.T) {
		seq, hash, err := s.AuditHead(ctx)
		if err != nil || seq != 6 || hash != entries[2].Hash {
			t.Fatalf("AuditHead = %d %s %v, want 6 %s", seq, hash, err, entries[2].Hash)
		}
		empty, _ := openTest(t)
		if seq, hash, err := empty.AuditHead(ctx); err != nil || seq != 0 || hash != "" {
			t.Fatalf("AuditHead of an empty log = %d %q %v", seq, hash, err)
		}
	})
	t.Run("the log refuses plain updates and deletes", func(t *testing.T) {
		for _, q := range []string{`UPDATE audit SET actor = 'x' WHERE seq = 1`, `DELETE FROM audit WHERE seq = 1`} {
			if _, err := s.writer.Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: %v, want it refused", q, err)
			}
		}
	})
	t.Run("invalid entries", func(t *testing.T) {
		if err := s.Audit(ctx, "", "x", "s", nil, t0); !errors.Is(err, ErrInvalid) {
			t.Errorf("no actor: %v", err)
		}
		if err := s.Audit(ctx, "a", "x", "s", func() {}, t0); err == nil {
			t.Error("a detail that is not JSON was accepted")
		}
	})
}

func TestAuditTamper(t *testing.T) {
	tests := []struct {
		name    string
		stmts   []string
		wantSeq int64
	}{
		{"detail altered", []string{`UPDATE audit SET detail = '{"i":3,"note":"改"}' WHERE seq = 4`}, 4},
		{"actor altered", []string{`UPDATE audit SET actor = 'system' WHERE seq = 2`}, 2},
		{"time altered", []string{`UPDATE audit SET ts = '2026-03-15T00:00:00.000000000Z' WHERE seq = 5`}, 5},
		{"hash altered", []string{`UPDATE audit SET hash = replace(hash, substr(hash, 1, 1), 'x') WHERE seq = 3`}, 3},
		{"row deleted", []string{`DELETE FROM audit WHERE seq = 3`}, 4},
		{"first row deleted", []string{`DELETE FROM audit WHERE seq = 1`}, 2},
		{"last row deleted", []string{`DELETE FROM audit WHERE seq = 6`}, 6},
		{"rows swapped", []string{
			`UPDATE audit SET seq = 100 WHERE seq = 3`, `UPDATE audit SET seq = 3 WHERE seq = 4`, `UPDATE audit SET seq = 4 WHERE seq = 100`,
		}, 3},
		{"row deleted and later rows renumbered", []string{
			`DELETE FROM audit WHERE seq = 3`, `UPDATE audit SET seq = seq - 1 WHERE seq > 3`,
		}, 3},
		{"row altered and its hash recomputed", nil, 4}, // set below
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := auditLog(t, 6)
			stmts := tt.stmts
			if stmts == nil {
				// The forger recomputes row 3's own hash; row 4's link
				// still names the old one.
				es, err := s.AuditFor(context.Background(), "s1")
				if err != nil {
					t.Fatal(err)
				}
				e := es[1] // seq 3
				e.Actor = "system"
				stmts = []string{fmt.Sprintf(`UPDATE audit SET actor = 'system', hash = '%s' WHERE seq = 3`, auditHash(e, fmtTime(e.At)))}
			}
			tamper(t, s, stmts...)
			err := s.VerifyAudit(context.Background())
			var ae *AuditError
			if !errors.As(err, &ae) || !errors.Is(err, ErrTampered) || ae.Seq != tt.wantSeq {
				t.Fatalf("VerifyAudit = %v, want tampering at seq %d", err, tt.wantSeq)
			}
		})
	}
}

func TestAuditAfterTailDeletion(t *testing.T) {
	// Deleting the last rows and then appending leaves a gap that shows.
	ctx := context.Background()
	s := auditLog(t, 4)
	tamper(t, s, `DELETE FROM audit WHERE seq >= 3`)
	if err := s.Audit(ctx, "system", "test.after", "s", nil, t0); err != nil {
		t.Fatal(err)
	}
	var ae *AuditError
	if err := s.VerifyAudit(ctx); !errors.As(err, &ae) || ae.Seq != 5 {
		t.Fatalf("VerifyAudit = %v, want a gap before seq 5", err)
	}
}

// An entry's seq, link and hash are worked out by the insert itself
// (qAppendAudit): they are what auditHash gives over the stored fields,
// for an empty subject and text in any script too, and an entry rolled
// back with its transaction leaves the chain as it was.
func TestAuditAppendInOneStatement(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	for i, subject := range []string{"", "operator:李四", "registry"} {
		if err := s.Audit(ctx, ActorSystem, "test.step", subject, map[string]any{"i": i, "note": "危险品"}, t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	failed := errors.New("the record failed")
	err := s.write(ctx, "audit then fail", func(tx *sql.Tx) error {
		if err := s.appendAudit(ctx, tx, ActorSystem, "test.rolled_back", "x", nil, t0.Add(time.Minute)); err != nil {
			return err
		}
		return failed
	})
	if !errors.Is(err, failed) {
		t.Fatalf("write = %v, want the record's error", err)
	}
	if err := s.Audit(ctx, "operator:王工", "test.after", "x", []string{"a"}, t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT seq, ts, actor, action, subject, detail, prev_hash, hash FROM audit ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var prev AuditEntry
	n := 0
	for rows.Next() {
		e, ts, err := scanAudit(rows)
		if err != nil {
			t.Fatal(err)
		}
		n++
		if e.Seq != prev.Seq+1 || e.PrevHash != prev.Hash {
			t.Errorf("entry %d: seq %d after %d, link %q after %q", n, e.Seq, prev.Seq, e.PrevHash, prev.Hash)
		}
		if want := auditHash(e, ts); e.Hash != want {
			t.Errorf("entry %d (%s): hash %s, want %s", n, e.Action, e.Hash, want)
		}
		if e.Action == "test.rolled_back" {
			t.Errorf("entry %d: the rolled-back entry was kept", n)
		}
		prev = e
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 4 || prev.Action != "test.after" {
		t.Fatalf("%d entries, the last %q; want 4, the last test.after", n, prev.Action)
	}
	if err := s.VerifyAudit(ctx); err != nil {
		t.Fatalf("VerifyAudit: %v", err)
	}
}

// hazgate_audit_hash refuses what is not a stored entry's columns.
func TestSQLAuditHashRefusesOtherTypes(t *testing.T) {
	for _, args := range [][]driver.Value{
		{"1", "ts", "a", "b", "c", "{}", ""},
		{int64(1), "ts", "a", "b", nil, "{}", ""},
		{int64(1), "ts", "a", "b", "c", 2.5, ""},
	} {
		if _, err := sqlAuditHash(nil, args); err == nil {
			t.Errorf("hazgate_audit_hash(%v) gave no error", args)
		}
	}
}
