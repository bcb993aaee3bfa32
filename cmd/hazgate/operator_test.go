package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hazgate/hazgate/store"
)

// withPassword makes the next `operator add` read pw from a pipe.
func withPassword(t *testing.T, pw string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteString(pw + "\n"); err != nil {
		t.Fatal(err)
	}
	w.Close()
	old := operatorInput
	operatorInput = r
	t.Cleanup(func() { operatorInput = old; r.Close() })
}

// Accounts are added, listed, disabled and enabled again from the command
// line; a typo in the name or the database file is an error that says so,
// and creates nothing.
func TestOperatorCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "gate.db")
	withPassword(t, "correct-horse-1")
	if code, out, errs := run(t, "operator", "add", "-db", db, "-name", "lee", "-role", "operator"); code != 0 {
		t.Fatalf("add: %d %s%s", code, out, errs)
	}
	list := func() string {
		t.Helper()
		code, out, errs := run(t, "operator", "list", "-db", db)
		if code != 0 {
			t.Fatalf("list: %d %s%s", code, out, errs)
		}
		return out
	}
	if out := list(); !strings.HasPrefix(out, "lee\toperator\tenabled\t") {
		t.Fatalf("list: %q", out)
	}
	if code, out, errs := run(t, "operator", "disable", "-db", db, "-name", "lee"); code != 0 || !strings.Contains(out, `"lee" disabled`) {
		t.Fatalf("disable: %d %s%s", code, out, errs)
	}
	if out := list(); !strings.HasPrefix(out, "lee\toperator\tdisabled\t") {
		t.Fatalf("list after disable: %q", out)
	}
	if code, out, errs := run(t, "operator", "enable", "-db", db, "-name", "lee"); code != 0 {
		t.Fatalf("enable: %d %s%s", code, out, errs)
	}
	if out := list(); !strings.HasPrefix(out, "lee\toperator\tenabled\t") {
		t.Fatalf("list after enable: %q", out)
	}
	if code, _, errs := run(t, "operator", "disable", "-db", db, "-name", "lii"); code == 0 || !strings.Contains(errs, `no operator "lii"`) {
		t.Fatalf("disable of an unknown name: %d %s", code, errs)
	}
	missing := filepath.Join(t.TempDir(), "typo.db")
	if code, _, errs := run(t, "operator", "disable", "-db", missing, "-name", "lee"); code == 0 || !strings.Contains(errs, missing) {
		t.Fatalf("disable in a missing database: %d %s", code, errs)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Fatalf("a missing database was created: %v", err)
	}
	if code, _, _ := run(t, "operator", "remove", "-db", db); code != 2 {
		t.Fatalf("unknown subcommand: exit %d, want 2", code)
	}
}

// An account's sign-in lockouts are cleared from the command line: the
// store counts its unlocks up (the kiosk forgets the failures counted
// before) and the audit log names who ran it and why.
func TestOperatorUnlock(t *testing.T) {
	db := filepath.Join(t.TempDir(), "gate.db")
	withPassword(t, "correct-horse-1")
	if code, out, errs := run(t, "operator", "add", "-db", db, "-name", "zhang", "-role", "supervisor"); code != 0 {
		t.Fatalf("add: %d %s%s", code, out, errs)
	}
	code, out, errs := run(t, "operator", "unlock", "-db", db, "-name", "zhang", "-reason", "locked out by a bad terminal")
	if code != 0 || !strings.Contains(out, `"zhang" unlocked`) {
		t.Fatalf("unlock: %d %s%s", code, out, errs)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if op, err := st.Operator(ctx, "zhang"); err != nil || op.Unlocks != 1 || op.Generation != 0 {
		t.Fatalf("after unlock: %+v %v (want 1 unlock, the account otherwise unchanged)", op, err)
	}
	entries, err := st.AuditFor(ctx, "operator:zhang")
	if err != nil {
		t.Fatal(err)
	}
	last := entries[len(entries)-1]
	if last.Action != "operator.unlocked" || !strings.HasPrefix(last.Actor, "cli") || !strings.Contains(string(last.Detail), "locked out by a bad terminal") {
		t.Fatalf("audit %+v %s", last, last.Detail)
	}
	if code, _, errs := run(t, "operator", "unlock", "-db", db, "-name", "zhan"); code == 0 || !strings.Contains(errs, `no operator "zhan"`) {
		t.Fatalf("unlock of an unknown name: %d %s", code, errs)
	}
	if code, _, _ := run(t, "operator", "unlock", "-db", db); code != 2 {
		t.Fatalf("unlock without a name: exit %d, want 2", code)
	}
}
