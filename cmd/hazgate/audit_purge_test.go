package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hazgate/hazgate/store"
)

// After a retention purge, `hazgate audit verify` verifies the chain from
// the purge anchor; an entry altered after it is still named.
func TestAuditVerifyAfterPurge(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "gate.db")
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for i := range 6 {
		at := now.AddDate(-3, 0, 0).Add(time.Duration(i) * time.Minute) // past retention
		if i >= 4 {
			at = now
		}
		if err := st.Audit(ctx, store.ActorSystem, "test.step", "s", map[string]int{"i": i}, at); err != nil {
			t.Fatal(err)
		}
	}
	res, err := st.Purge(ctx, store.Retention{RecordsBefore: now.AddDate(-2, 0, 0)})
	if err != nil || res.Audit != 4 {
		t.Fatalf("Purge = %+v, %v; want the 4 old entries", res, err)
	}
	st.Close()
	// Entries 5 and 6 remain, then the purge's own audit.purged entry
	// (7) and records.purged summary (8).
	if code, out, errs := run(t, "audit", "verify", "-db", db); code != 0 || !strings.Contains(out, "audit chain verified: 4 entries") {
		t.Fatalf("audit verify after a purge: %d %q %q", code, out, errs)
	}
	raw, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TRIGGER audit_no_update`, `UPDATE audit SET detail = '{"i":9}' WHERE seq = 6`} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()
	code, out, errs := run(t, "audit", "verify", "-db", db)
	if want := fmt.Sprintf("the audit chain breaks at entry %d", 6); code != 1 || out != "" || !strings.Contains(errs, want) {
		t.Fatalf("audit verify of a tampered log after a purge: %d %q %q, want %q", code, out, errs, want)
	}
}
