package main

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// killCycles is how many times TestSIGKILLDuringWrites kills hazgate:
// HAZGATE_KILL_CYCLES, or 30 (make test); make soak runs thousands.
func killCycles(t *testing.T) int {
	if s := os.Getenv("HAZGATE_KILL_CYCLES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("HAZGATE_KILL_CYCLES=%q is not a positive number", s)
		}
		return n
	}
	return 30
}

// hazgate sim writes inspections (100 tankers on 4 lanes, as fast as it
// can) into one database file, and is killed with SIGKILL at a random
// moment while it writes, again and again, each run on the file the
// last one left. After each kill: PRAGMA integrity_check is ok, `hazgate
// audit verify` passes, and every inspection a reader saw committed just
// before the kill is there. The next run is the restart.
func TestSIGKILLDuringWrites(t *testing.T) {
	bin := hazgateBinary(t)
	cycles := killCycles(t)
	dir := t.TempDir()
	scenario := filepath.Join(dir, "writes.yaml")
	if err := os.WriteFile(scenario, []byte(fourLaneScenario(t, 200, 25)), 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "gate.db")
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("HAZGATE_KILL_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	t.Logf("%d cycles, HAZGATE_KILL_SEED=%d", cycles, seed)

	killedMidRun, kept := 0, 0
	for cycle := range cycles {
		before := countInspections(t, db)
		cmd := exec.Command(bin, "sim", "-scenario", scenario, "-db", db, "-speed", "0")
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		// Writes have begun once an inspection more than before is there.
		deadline := time.After(bound)
		for countInspections(t, db) <= before {
			select {
			case err := <-exited:
				t.Fatalf("cycle %d: hazgate sim exited (%v) before it wrote an inspection:\n%s", cycle, err, out.String())
			case <-deadline:
				cmd.Process.Kill()
				t.Fatalf("cycle %d: no inspection written within %v:\n%s", cycle, bound, out.String())
			case <-time.After(5 * time.Millisecond):
			}
		}
		// A random moment within the run's writes; what a reader sees as
		// committed then must survive the kill.
		<-time.After(time.Duration(rng.Int64N(int64(400 * time.Millisecond))))
		seen := inspectionIDs(t, db)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		if err := <-exited; err == nil {
			// It finished its 100 before the kill: the kill came after
			// the writes, which proves less; counted apart.
		} else {
			killedMidRun++
		}

		// The restart: hazgate opens the file the kill left (SQLite
		// replays or drops its WAL) and walks the audit chain.
		if code, stdout, stderr := runBin(t, bin, "audit", "verify", "-db", db); code != 0 {
			t.Fatalf("cycle %d: hazgate audit verify: status %d\n%s%s", cycle, code, stdout, stderr)
		}
		if got := integrityCheck(t, db); got != "ok" {
			t.Fatalf("cycle %d: PRAGMA integrity_check = %q", cycle, got)
		}
		after := inspectionIDs(t, db)
		for id := range seen {
			if !after[id] {
				t.Fatalf("cycle %d: inspection %s was committed before the kill and is gone after it", cycle, id)
			}
		}
		kept += len(seen) - before
	}
	t.Logf("%d kills (%d during the writes): integrity ok, audit chain verified and every committed inspection there after each; %d inspections committed in the runs, %d in the file", cycles, killedMidRun, kept, countInspections(t, db))
	if killedMidRun < cycles/2 {
		t.Fatalf("only %d of %d kills came during the writes", killedMidRun, cycles)
	}
}

// openRO opens the database read-only, beside the writer.
func openRO(t *testing.T, db string) *sql.DB {
	t.Helper()
	h, err := sql.Open("sqlite", "file:"+db+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func countInspections(t *testing.T, db string) int {
	t.Helper()
	if _, err := os.Stat(db); os.IsNotExist(err) {
		return 0
	}
	h := openRO(t, db)
	defer h.Close()
	var n int
	if err := h.QueryRowContext(context.Background(), `SELECT count(*) FROM inspections`).Scan(&n); err != nil {
		// The file is there before its tables are.
		return 0
	}
	return n
}

func inspectionIDs(t *testing.T, db string) map[string]bool {
	t.Helper()
	h := openRO(t, db)
	defer h.Close()
	rows, err := h.QueryContext(context.Background(), `SELECT id FROM inspections`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	ids := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids[id] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

func integrityCheck(t *testing.T, db string) string {
	t.Helper()
	h, err := sql.Open("sqlite", "file:"+db+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	var got string
	if err := h.QueryRow(`PRAGMA integrity_check`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	return got
}

// runBin runs the built binary and returns its status and output.
func runBin(t *testing.T, bin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr strings.Builder
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}
