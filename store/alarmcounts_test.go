package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// Suppressed alarm counts add up by kind, survive a reopen, and come off
// as they are reported.
func TestSuppressedAlarms(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "gate.db")
	t0 := time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC)
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddSuppressedAlarms(ctx, map[string]int{"command_refused/unsigned": 3, "command_refused/malformed": 1}, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.AddSuppressedAlarms(ctx, map[string]int{"command_refused/unsigned": 2, "command_refused/expired": 0}, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.AddSuppressedAlarms(ctx, map[string]int{"": 1}, t0); err == nil {
		t.Fatal("an empty kind was accepted")
	}
	s.Close()
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tc := range []struct {
		kind string
		want SuppressedAlarms
	}{
		{"command_refused/unsigned", SuppressedAlarms{5, t0}},
		{"command_refused/malformed", SuppressedAlarms{1, t0}},
		{"command_refused/expired", SuppressedAlarms{}},
	} {
		got, err := s.SuppressedAlarmsOf(ctx, tc.kind)
		if err != nil || got.Count != tc.want.Count || !got.Since.Equal(tc.want.Since) {
			t.Fatalf("%s: %+v %v, want %+v", tc.kind, got, err, tc.want)
		}
	}
	if err := s.ReportedSuppressedAlarms(ctx, "command_refused/unsigned", 4); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.SuppressedAlarmsOf(ctx, "command_refused/unsigned"); got.Count != 1 {
		t.Fatalf("after reporting 4 of 5: %+v", got)
	}
	if err := s.ReportedSuppressedAlarms(ctx, "command_refused/unsigned", 1); err != nil {
		t.Fatal(err)
	}
	if got := queryInt(t, s, `SELECT count(*) FROM alarm_suppressed WHERE kind = 'command_refused/unsigned'`); got != 0 {
		t.Fatalf("a reported-out kind keeps its row")
	}
}
