package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
