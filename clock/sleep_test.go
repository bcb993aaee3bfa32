package clock

import (
	"context"
	"runtime"
	"slices"
	"testing"
	"time"
)

const bound = 10 * time.Second // a generous bound on waiting for an event

// armed is a fake clock that tells the test about each timer set.
type armed struct {
	*Fake
	set chan time.Duration
}

func (c armed) AfterFunc(d time.Duration, f func()) Timer {
	t := c.Fake.AfterFunc(d, f)
	c.set <- d
	return t
}

func newArmed() armed {
	return armed{NewFake(time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC)), make(chan time.Duration, 10)}
}

// sleep runs Sleep in a goroutine and waits until it has set its timer.
func sleep(t *testing.T, ctx context.Context, c armed, d time.Duration) <-chan bool {
	t.Helper()
	out := make(chan bool, 1)
	go func() { out <- Sleep(ctx, c, d) }()
	select {
	case got := <-c.set:
		if got != d {
			t.Fatalf("timer of %v set, want %v", got, d)
		}
	case <-time.After(bound):
		t.Fatal("Sleep set no timer")
	}
	return out
}

func result(t *testing.T, out <-chan bool) bool {
	t.Helper()
	select {
	case ok := <-out:
		return ok
	case <-time.After(bound):
		t.Fatal("Sleep did not return")
	}
	return false
}

func TestSleep(t *testing.T) {
	t.Run("d passes", func(t *testing.T) {
		c := newArmed()
		out := sleep(t, context.Background(), c, time.Second)
		c.Advance(time.Second - time.Nanosecond)
		select {
		case ok := <-out:
			t.Fatalf("Sleep returned %v before its second was up", ok)
		default:
		}
		c.Advance(time.Nanosecond)
		if !result(t, out) {
			t.Fatal("Sleep = false, want true once d has passed")
		}
	})
	t.Run("ctx ends first", func(t *testing.T) {
		c := newArmed()
		ctx, cancel := context.WithCancel(context.Background())
		out := sleep(t, ctx, c, time.Hour)
		cancel()
		if result(t, out) {
			t.Fatal("Sleep = true, want false when ctx ended first")
		}
		if n := c.Pending(); n != 0 {
			t.Fatalf("%d timers left pending, want the timer stopped", n)
		}
	})
	t.Run("ctx already done", func(t *testing.T) {
		c := newArmed()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if Sleep(ctx, c, time.Second) || c.Pending() != 0 {
			t.Fatalf("Sleep on a done ctx = true or set a timer (%d pending)", c.Pending())
		}
	})
	t.Run("no wait", func(t *testing.T) {
		c := newArmed()
		if !Sleep(context.Background(), c, 0) || !Sleep(context.Background(), c, -time.Second) || c.Pending() != 0 {
			t.Fatal("Sleep of zero or less waited or failed")
		}
	})
}

// Backoff waits Min, then twice as long after each failure in a row up to
// Max, and Min again after a Reset.
func TestBackoff(t *testing.T) {
	c := NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	b := Backoff{Min: time.Second, Max: 5 * time.Second}
	waited := func() time.Duration {
		t.Helper()
		done := make(chan bool)
		go func() { done <- b.Wait(context.Background(), c) }()
		deadline := time.Now().Add(10 * time.Second)
		for c.Pending() == 0 {
			if time.Now().After(deadline) {
				t.Fatal("Wait set no timer")
			}
			runtime.Gosched()
		}
		next, _ := c.Next()
		d := next.Sub(c.Now())
		c.AdvanceTo(next)
		if !<-done {
			t.Fatal("Wait did not wait the whole time")
		}
		return d
	}
	var got []time.Duration
	for range 5 {
		got = append(got, waited())
	}
	b.Reset()
	got = append(got, waited())
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second, time.Second}
	if !slices.Equal(got, want) {
		t.Fatalf("waits %v, want %v", got, want)
	}
}
