package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
)

// gateDB makes a closed database file of gate park/gate with n inspections.
func gateDB(t *testing.T, path, park, gate string, n int) {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.SetGateIdentity(ctx, GateIdentity{Park: park, Gate: gate}, t0); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	for i := range n {
		if err := s.CommitInspection(ctx, newInspection(f, t0.Add(time.Duration(i)*time.Minute), checks.VerdictPass)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestGateIdentity(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	if id, err := s.GateIdentity(ctx); err != nil || id != (GateIdentity{}) {
		t.Fatalf("a new store's gate: %+v %v, want none", id, err)
	}
	g1, g2 := GateIdentity{Park: "p1", Gate: "g1"}, GateIdentity{Park: "p1", Gate: "g2"}
	if prev, err := s.SetGateIdentity(ctx, g1, t0); err != nil || prev != (GateIdentity{}) {
		t.Fatalf("first set: previous %+v %v", prev, err)
	}
	if prev, err := s.SetGateIdentity(ctx, g2, t0); err != nil || prev != g1 {
		t.Fatalf("second set: previous %+v %v, want %v", prev, err, g1)
	}
	if id, err := s.GateIdentity(ctx); err != nil || id != g2 {
		t.Fatalf("gate %+v %v, want %v", id, err, g2)
	}
	if _, err := s.SetGateIdentity(ctx, GateIdentity{Park: "p1"}, t0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a gate without a name: %v", err)
	}
}

// A backup taken while a writer keeps committing inspections is one
// consistent snapshot: it verifies, and holds every inspection committed
// before it began.
func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	if _, err := s.SetGateIdentity(ctx, GateIdentity{Park: "p1", Gate: "g1"}, t0); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var ids []string
	first := make(chan struct{})
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			ins := newInspection(f, t0.Add(time.Duration(i)*time.Second), checks.VerdictPass)
			if err := s.CommitInspection(ctx, ins); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			ids = append(ids, ins.ID)
			if len(ids) == 20 {
				close(first)
			}
			mu.Unlock()
		}
	})
	<-first
	mu.Lock()
	committed := append([]string(nil), ids...)
	mu.Unlock()
	to := filepath.Join(t.TempDir(), "backup.db")
	r, err := Backup(ctx, path, to)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if r.Gate != (GateIdentity{Park: "p1", Gate: "g1"}) || r.Rows["inspections"] < int64(len(committed)) || r.AuditEntries != r.Rows["audit"] {
		t.Fatalf("report %+v: want gate p1/g1, at least %d inspections, every audit entry verified", r, len(committed))
	}
	b, err := Open(ctx, to)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, id := range committed {
		if _, err := b.GetInspection(ctx, id); err != nil {
			t.Fatalf("inspection %s committed before the backup: %v", id, err)
		}
	}
	if err := b.VerifyAudit(ctx); err != nil {
		t.Fatal(err)
	}

	// Never over a file.
	before, _ := os.ReadFile(to)
	if _, err := Backup(ctx, path, to); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("backup over an existing file: %v", err)
	}
	if after, _ := os.ReadFile(to); string(after) != string(before) {
		t.Fatal("the existing file was changed")
	}
	if _, err := Backup(ctx, filepath.Join(t.TempDir(), "none.db"), filepath.Join(t.TempDir(), "b.db")); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("backup of a missing database: %v", err)
	}
}

// VerifyAuditFile counts the verified entries, and names the first one
// altered in the file.
func TestVerifyAuditFile(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	for i := range 5 {
		if err := s.Audit(ctx, ActorSystem, "test.step", "s", map[string]int{"i": i}, t0); err != nil {
			t.Fatal(err)
		}
	}
	n, err := VerifyAuditFile(ctx, path)
	if err != nil || n != 5 {
		t.Fatalf("VerifyAuditFile = %d, %v; want 5 verified", n, err)
	}
	tamper(t, s, `UPDATE audit SET detail = '{"i":9}' WHERE seq = 3`)
	n, err = VerifyAuditFile(ctx, path)
	var ae *AuditError
	if !errors.As(err, &ae) || ae.Seq != 3 || !errors.Is(err, ErrTampered) || n != 2 {
		t.Fatalf("VerifyAuditFile after tampering = %d, %v; want seq 3 named", n, err)
	}
}

func TestRestore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	g1, g2 := filepath.Join(dir, "g1.db"), filepath.Join(dir, "g2.db")
	gateDB(t, g1, "p1", "g1", 3)
	gateDB(t, g2, "p1", "g2", 1)
	backup := filepath.Join(dir, "g1-backup.db")
	if _, err := Backup(ctx, g1, backup); err != nil {
		t.Fatal(err)
	}
	countOf := func(path string) int64 {
		t.Helper()
		r, err := VerifyFile(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		return r.Rows["inspections"]
	}

	// Another gate's backup is refused, and changes nothing.
	if _, err := Restore(ctx, backup, g2, RestoreOptions{}); err == nil || !strings.Contains(err.Error(), "the backup is of p1/g1, the database belongs to p1/g2") {
		t.Fatalf("restore of another gate's backup: %v", err)
	}
	if n := countOf(g2); n != 1 {
		t.Fatalf("g2 has %d inspections after a refused restore, want 1", n)
	}

	// A database a gate has open is refused.
	s, err := Open(ctx, g1)
	if err != nil {
		t.Fatal(err)
	}
	if busy, err := InUse(g1); err != nil || !busy {
		t.Fatalf("InUse of an open database = %v, %v", busy, err)
	}
	for _, force := range []bool{false, true} {
		if _, err := Restore(ctx, backup, g1, RestoreOptions{Force: force}); err == nil || !strings.Contains(err.Error(), "open by a running gate") {
			t.Fatalf("restore (force %v) over an open database: %v", force, err)
		}
	}
	s.Close()
	if busy, err := InUse(g1); err != nil || busy {
		t.Fatalf("InUse of a closed database = %v, %v", busy, err)
	}

	// A tampered backup is refused, even forced.
	bad := filepath.Join(dir, "bad.db")
	if _, err := Backup(ctx, g1, bad); err != nil {
		t.Fatal(err)
	}
	b, err := Open(ctx, bad)
	if err != nil {
		t.Fatal(err)
	}
	tamper(t, b, `UPDATE audit SET actor = 'operator:x' WHERE seq = 2`)
	b.Close()
	if _, err := Restore(ctx, bad, g2, RestoreOptions{Force: true}); err == nil || !strings.Contains(err.Error(), "audit seq 2") {
		t.Fatalf("restore of a tampered backup: %v", err)
	}

	// Forced, another gate's backup replaces the database, stale WAL
	// files and all.
	if err := os.WriteFile(g2+"-wal", []byte("stale"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := Restore(ctx, backup, g2, RestoreOptions{Force: true})
	if err != nil {
		t.Fatalf("forced restore: %v", err)
	}
	if _, err := os.Stat(g2 + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stale -wal left beside the restored database: %v", err)
	}
	if _, err := os.Stat(g2 + ".restoring"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the file written beside is left: %v", err)
	}
	if r.Gate != (GateIdentity{Park: "p1", Gate: "g1"}) {
		t.Fatalf("restored gate %v", r.Gate)
	}
	s, err = Open(ctx, g2)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if id, _ := s.GateIdentity(ctx); id.Gate != "g1" {
		t.Fatalf("restored database belongs to %v", id)
	}
	if n := queryInt(t, s, `SELECT count(*) FROM inspections`); n != 3 {
		t.Fatalf("restored database has %d inspections, want 3", n)
	}
	// The same gate's backup needs no force.
	s.Close()
	if _, err := Restore(ctx, backup, g1, RestoreOptions{}); err != nil {
		t.Fatalf("restore of the gate's own backup: %v", err)
	}
	// Into a path with no database yet.
	fresh := filepath.Join(dir, "fresh.db")
	if _, err := Restore(ctx, backup, fresh, RestoreOptions{}); err != nil || countOf(fresh) != 3 {
		t.Fatalf("restore into a new path: %v", err)
	}
}
