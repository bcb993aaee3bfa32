package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
)

// fillUntilFull commits inspections until the store says ErrFull, checks
// that it keeps saying so (each failed commit rolled back whole) while
// reads go on, then lets free make room and purges the old images, and
// shows decisions recorded again; then, reopened, every inspection that
// was committed is there, the file passes integrity_check and the audit
// chain verifies.
func fillUntilFull(t *testing.T, s *Store, path string, free func()) {
	t.Helper()
	ctx := context.Background()
	f := newFixture(t)
	var images []Media
	for i := range 40 {
		images = append(images, Media{InspectionID: "OLD", Kind: "face_driver", Data: make([]byte, 8000), CreatedAt: t0.Add(-30*day + time.Duration(i))})
	}
	if err := s.PutMediaAll(ctx, images...); err != nil {
		t.Fatal(err)
	}
	var committed []string
	commit := func(i int) error {
		ins := newInspection(f, t0.Add(time.Duration(i)*time.Second), checks.VerdictReview, "driver")
		err := s.CommitInspection(ctx, ins, inspectionMsg(`{"x":1}`))
		if err == nil {
			committed = append(committed, ins.ID)
		}
		return err
	}
	var err error
	i := 0
	for ; i < 100000 && err == nil; i++ {
		err = commit(i)
	}
	if !errors.Is(err, ErrFull) {
		t.Fatalf("after %d inspections: %v, want ErrFull", len(committed), err)
	}
	t.Logf("full after %d inspections: %v", len(committed), err)
	for range 5 {
		i++
		if err := commit(i); err != nil && !errors.Is(err, ErrFull) {
			t.Fatalf("a commit on a full disk: %v, want ErrFull", err)
		}
	}
	if _, err := s.GetInspection(ctx, committed[len(committed)-1]); err != nil {
		t.Fatalf("reading on a full disk: %v", err)
	}

	free()
	if res, err := s.Purge(ctx, Retention{MediaBefore: t0.Add(-7 * day)}); err != nil || res.Media != len(images) {
		t.Fatalf("Purge on a full disk = %+v, %v", res, err)
	}
	before := len(committed)
	for range 10 {
		i++
		if err := commit(i); err != nil {
			t.Fatalf("a decision after the purge: %v", err)
		}
	}
	t.Logf("%d more inspections after the purge", len(committed)-before)

	if err := s.Close(); err != nil {
		t.Logf("Close: %v", err)
	}
	s2 := reopenTest(t, path)
	defer s2.Close()
	var ok string
	if err := s2.writer.QueryRow(`PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check = %q, %v", ok, err)
	}
	for _, id := range committed {
		if _, err := s2.GetInspection(ctx, id); err != nil {
			t.Fatalf("committed inspection %s lost: %v", id, err)
		}
	}
	if n := queryInt(t, s2, `SELECT count(*) FROM inspections`); n != int64(len(committed)) {
		t.Fatalf("%d inspections in the file, %d committed", n, len(committed))
	}
	if err := s2.VerifyAudit(ctx); err != nil {
		t.Fatalf("VerifyAudit: %v", err)
	}
}

// A real full file system: a 6 MiB tmpfs. It needs root (CI runs as root
// in its container); elsewhere it is skipped, and TestFullPageLimit below
// still drives the same SQLITE_FULL through the store.
func TestFullDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("mounts a file system")
	}
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s)", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	// Room a purge needs to write its log, given back once the disk is
	// full, as an operator would delete something.
	ballast := filepath.Join(dir, "ballast")
	if err := os.WriteFile(ballast, make([]byte, 2<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "hazgate.db")
	s, err := Open(context.Background(), path, WithClock(clock.NewFake(t0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	fillUntilFull(t, s, path, func() {
		if err := os.Remove(ballast); err != nil {
			t.Fatal(err)
		}
	})
}

// The same through SQLite's page limit (max_page_count), which gives
// SQLITE_FULL on any machine: the file cannot grow past it.
func TestFullPageLimit(t *testing.T) {
	s, path := openTest(t)
	pages := queryInt(t, s, `PRAGMA page_count`)
	if _, err := s.writer.Exec(fmt.Sprintf(`PRAGMA max_page_count = %d`, pages+300)); err != nil {
		t.Fatal(err)
	}
	fillUntilFull(t, s, path, func() {})
}

// While the disk is low, telemetry and status are not queued; decisions
// and their events are.
func TestDiskLowDropsTelemetry(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	tele := OutboxMessage{Kind: KindTelemetry, Topic: "telemetry", Payload: json.RawMessage(`{}`)}
	alarm := OutboxMessage{Kind: KindAlarm, Topic: "events/alarm", Payload: json.RawMessage(`{}`)}
	s.SetDiskLow(true)
	if !s.DiskLow() {
		t.Fatal("DiskLow after SetDiskLow(true)")
	}
	if err := s.Enqueue(ctx, t0, tele); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordAlarm(ctx, Alarm{Gate: "g1", Lane: "", Kind: "disk_low", Detail: "low", At: t0}, alarm); err != nil {
		t.Fatal(err)
	}
	// Decisions go on, with their events.
	ins := newInspection(newFixture(t), t0, checks.VerdictPass)
	if err := s.CommitInspection(ctx, ins, inspectionMsg(`{"x":1}`)); err != nil {
		t.Fatalf("a decision while the disk is low: %v", err)
	}
	if got := pendingKinds(t, s); len(got) != 2 || got[0] != KindAlarm || got[1] != KindInspection {
		t.Fatalf("queued while low: %v, want the alarm and the inspection alone", got)
	}
	s.SetDiskLow(false)
	if err := s.Enqueue(ctx, t0, tele); err != nil {
		t.Fatal(err)
	}
	if got := pendingKinds(t, s); len(got) != 3 || got[2] != KindTelemetry {
		t.Fatalf("queued after: %v", got)
	}
}

func pendingKinds(t *testing.T, s *Store) []string {
	t.Helper()
	rows, err := s.PendingOutbox(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, r.Kind)
	}
	return out
}
