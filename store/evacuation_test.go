package store

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// An evacuation survives closing and opening the store, with the authority
// that may end it; ending it does too. It lives beside the lock-down.
func TestEvacuationSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	if st, err := s.Evacuation(ctx); err != nil || st.On {
		t.Fatalf("a new store: evacuation %+v, %v", st, err)
	}
	if err := s.SetEvacuation(ctx, true, EvacuationByOffice, "", t0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("SetEvacuation without who: %v", err)
	}
	if err := s.SetEvacuation(ctx, true, "anyone", "remote:alice", t0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("SetEvacuation with no known authority: %v", err)
	}
	if err := s.SetLockdown(ctx, true, "operator:chen", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.SetEvacuation(ctx, true, EvacuationByKiosk, "operator:chen", t0); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = reopenTest(t, path)
	st, err := s.Evacuation(ctx)
	if err != nil || !st.On || st.Authority != EvacuationByKiosk || st.By != "operator:chen" || !st.At.Equal(t0) {
		t.Fatalf("after a restart: evacuation %+v, %v", st, err)
	}
	if ld, err := s.Lockdown(ctx); err != nil || !ld.On {
		t.Fatalf("after a restart: lock-down %+v, %v", ld, err)
	}
	if err := s.SetEvacuation(ctx, false, "", "operator:chen", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = reopenTest(t, path)
	if st, err := s.Evacuation(ctx); err != nil || st.On || st.Authority != "" {
		t.Fatalf("ended, after a restart: evacuation %+v, %v", st, err)
	}
	// A value this build does not know stays on, the office's to end.
	if _, err := s.writer.ExecContext(ctx, `UPDATE gate_state SET value = 'fire-brigade' WHERE name = 'evacuation'`); err != nil {
		t.Fatal(err)
	}
	if st, err := s.Evacuation(ctx); err != nil || !st.On || st.Authority != EvacuationByOffice {
		t.Fatalf("unknown value: evacuation %+v, %v", st, err)
	}
}

// The migration that makes room for the evacuation keeps a lock-down
// recorded before it, and gate_state still takes no name it does not know.
func TestMigrateEvacuationKeepsLockdown(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v23.db")
	db, err := openDB(ctx, path, true)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ms, func(m migration) bool { return m.version == 24 })
	if i < 0 {
		t.Fatal("no migration 24")
	}
	if err := applyMigrations(ctx, db, ms[:i], t0); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO gate_state (name, value, by, at) VALUES ('lockdown', '1', 'remote:alice', ?)`, fmtTime(t0)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s := reopenTest(t, path)
	if ld, err := s.Lockdown(ctx); err != nil || !ld.On || ld.By != "remote:alice" {
		t.Fatalf("after the migration: lock-down %+v, %v", ld, err)
	}
	if _, err := s.writer.ExecContext(ctx, `INSERT INTO gate_state (name, value, by, at) VALUES ('unknown', '1', 'x', 'y')`); err == nil {
		t.Fatal("gate_state took a name it does not know")
	}
}
