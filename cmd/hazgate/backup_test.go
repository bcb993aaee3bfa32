package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hazgate/hazgate/store"
)

// gateFile makes a closed database of gate p1/<gate> with n audit entries.
func gateFile(t *testing.T, path, gate string, n int) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.SetGateIdentity(ctx, store.GateIdentity{Park: "p1", Gate: gate}, time.Now()); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := st.Audit(ctx, store.ActorSystem, "test.step", "s", map[string]int{"i": i}, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAuditVerifyCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "gate.db")
	gateFile(t, db, "g1", 4)
	if code, out, errs := run(t, "audit", "verify", "-db", db); code != 0 || !strings.Contains(out, "audit chain verified: 4 entries") {
		t.Fatalf("audit verify: %d %q %q", code, out, errs)
	}
	// Someone with the file alters entry 3.
	raw, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TRIGGER audit_no_update`, `UPDATE audit SET actor = 'operator:x' WHERE seq = 3`} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()
	code, out, errs := run(t, "audit", "verify", "-db", db)
	if code != 1 || out != "" || !strings.Contains(errs, "the audit chain breaks at entry 3: its contents do not match its hash") || strings.Contains(errs, ": store: ") {
		t.Fatalf("audit verify of a tampered log: %d %q %q", code, out, errs)
	}
	if code, _, errs := run(t, "audit", "verify", "-db", filepath.Join(t.TempDir(), "none.db")); code != 1 || !strings.Contains(errs, "does not exist") {
		t.Fatalf("audit verify of a missing file: %d %q", code, errs)
	}
	if code, _, _ := run(t, "audit", "verify"); code != 2 {
		t.Fatalf("audit verify without -db: %d, want 2", code)
	}
}

func TestBackupAndRestoreCommands(t *testing.T) {
	dir := t.TempDir()
	g1, g2 := filepath.Join(dir, "g1.db"), filepath.Join(dir, "g2.db")
	gateFile(t, g1, "g1", 3)
	gateFile(t, g2, "g2", 1)
	backup := filepath.Join(dir, "g1-backup.db")
	if code, out, errs := run(t, "backup", "-db", g1, "-to", backup); code != 0 || !strings.Contains(out, "(p1/g1) verified: integrity ok, 3 audit entries") {
		t.Fatalf("backup: %d %q %q", code, out, errs)
	}
	if code, _, errs := run(t, "backup", "-db", g1, "-to", backup); code != 1 || !strings.Contains(errs, "already exists") {
		t.Fatalf("backup over a file: %d %q", code, errs)
	}
	code, _, errs := run(t, "restore", "-from", backup, "-db", g2)
	if code != 1 || !strings.Contains(errs, "the backup is of p1/g1, the database belongs to p1/g2") || strings.Contains(errs, ": store: ") {
		t.Fatalf("restore of another gate's backup: %d %q", code, errs)
	}
	if code, out, errs := run(t, "restore", "-from", backup, "-db", g2, "-force"); code != 0 || !strings.Contains(out, "restored from") {
		t.Fatalf("forced restore: %d %q %q", code, out, errs)
	}
	if code, out, _ := run(t, "audit", "verify", "-db", g2); code != 0 || !strings.Contains(out, "3 entries") {
		t.Fatalf("the restored database: %d %q", code, out)
	}
	if code, _, _ := run(t, "restore", "-db", g2); code != 2 {
		t.Fatalf("restore without -from: %d, want 2", code)
	}
}
