package main

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// The budget's limit is what the process holds plus the headroom: it
// rises by what is held live, and falls when it is let go; never above the
// ceiling.
func TestMemoryBudgetFollowsWhatIsHeld(t *testing.T) {
	old := debug.SetMemoryLimit(math.MaxInt64)
	defer debug.SetMemoryLimit(old)
	const held = 48 << 20
	b := newMemoryBudget(4<<20, 1<<40)
	runtime.GC()
	before := b.adjust()
	big := make([]byte, held)
	for i := range big {
		big[i] = byte(i)
	}
	runtime.GC()
	with := b.adjust()
	if d := with - before; d < held-4<<20 || d > held+8<<20 {
		t.Fatalf("holding %d MiB more raised the limit by %d MiB", held>>20, d>>20)
	}
	if got := debug.SetMemoryLimit(-1); got != with {
		t.Fatalf("limit %d, adjust said %d", got, with)
	}
	capped := newMemoryBudget(4<<20, 16<<20)
	if got := capped.adjust(); got != 16<<20 {
		t.Fatalf("over the ceiling: %d", got)
	}
	runtime.KeepAlive(big)
	big = nil
	runtime.GC()
	if after := b.adjust(); with-after < held-8<<20 {
		t.Fatalf("letting %d MiB go lowered the limit by %d MiB only", held>>20, (with-after)>>20)
	}
}

// holdMemory adjusts the limit after each collection, below the ceiling,
// and stops when someone else sets a limit; it changes nothing when a
// limit was set before it (GOMEMLIMIT).
func TestHoldMemoryAfterEachGC(t *testing.T) {
	old := debug.SetMemoryLimit(math.MaxInt64)
	defer debug.SetMemoryLimit(old)
	const ceiling = 1 << 40
	holdMemory(4<<20, ceiling)
	if got := debug.SetMemoryLimit(-1); got > ceiling {
		t.Fatalf("limit %d over the ceiling", got)
	}
	deadline := time.Now().Add(bound)
	for debug.SetMemoryLimit(-1) == ceiling {
		if time.Now().After(deadline) {
			t.Fatalf("the limit was not adjusted after a collection within %v", bound)
		}
		runtime.GC()
		runtime.Gosched()
	}
	// Someone else's limit wins: the budget stops.
	debug.SetMemoryLimit(3 << 40)
	for range 5 {
		runtime.GC()
		runtime.Gosched()
	}
	if got := debug.SetMemoryLimit(-1); got != 3<<40 {
		t.Fatalf("the budget replaced a limit set by someone else: %d", got)
	}
	// A limit set before: nothing changed.
	holdMemory(4<<20, ceiling)
	if got := debug.SetMemoryLimit(-1); got != 3<<40 {
		t.Fatalf("holdMemory replaced a limit set before it: %d", got)
	}
}
