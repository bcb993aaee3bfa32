package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hazgate/hazgate/clock"
)

// A lock-down survives closing and opening the store; lifting it does too.
func TestLockdownSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	if st, err := s.Lockdown(ctx); err != nil || st.On {
		t.Fatalf("a new store: lock-down %+v, %v", st, err)
	}
	if err := s.SetLockdown(ctx, true, "remote:office", time.Time{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("SetLockdown without a time: %v", err)
	}
	if err := s.SetLockdown(ctx, true, "remote:office", t0); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = reopenTest(t, path)
	st, err := s.Lockdown(ctx)
	if err != nil || !st.On || st.By != "remote:office" || !st.At.Equal(t0) {
		t.Fatalf("after a restart: lock-down %+v, %v", st, err)
	}
	if err := s.SetLockdown(ctx, false, "operator:chen", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = reopenTest(t, path)
	if st, err := s.Lockdown(ctx); err != nil || st.On || st.By != "operator:chen" {
		t.Fatalf("lifted, after a restart: lock-down %+v, %v", st, err)
	}
}

// reopenTest opens the store at path again, closed at the test's end.
func reopenTest(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, WithClock(clock.NewFake(t0)))
	if err != nil {
		t.Fatalf("Open again: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
