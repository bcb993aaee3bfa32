package main

import (
	"math"
	"runtime/debug"
	"testing"
)

// TestGateMemoryLimit: run and sim set the soft memory limit, at most
// gateMemoryLimit (then what they hold plus memoryHeadroom, membudget.go),
// unless GOMEMLIMIT (or anything before them) set one.
func TestGateMemoryLimit(t *testing.T) {
	old := debug.SetMemoryLimit(math.MaxInt64)
	defer debug.SetMemoryLimit(old)
	setGateMemoryLimit()
	if got := debug.SetMemoryLimit(-1); got > gateMemoryLimit {
		t.Fatalf("limit %d, want at most %d", got, gateMemoryLimit)
	}
	debug.SetMemoryLimit(100 << 20)
	setGateMemoryLimit()
	if got := debug.SetMemoryLimit(-1); got != 100<<20 {
		t.Fatalf("a limit set before was replaced: %d", got)
	}
}
