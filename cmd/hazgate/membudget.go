package main

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// memoryHeadroom is how far the Go memory of `hazgate run`, `hazgate sim`
// and `hazgate registry import` may grow above what they hold before the
// collector runs (docs/benchmarks.md, "Footprint"). With the default
// GOGC=100 alone the heap grows to twice what is live before it is
// collected: twice the registry's index, which is most of what a gate
// holds (8 MiB for 10 000 vehicles, persons and waybills). The cost is a
// collection every memoryHeadroom bytes allocated, a few milliseconds
// each.
const memoryHeadroom = 4 << 20

// memoryBudget keeps the soft memory limit at what the process holds, its
// live heap after the last collection and the runtime's own memory, plus
// headroom, and never above ceiling: the limit follows the registry the
// gate holds (a larger one raises it, one replaced lowers it) instead of
// being set for the largest registry it could hold.
type memoryBudget struct {
	headroom, ceiling int64
	mu                sync.Mutex
	samples           []metrics.Sample
	set               int64 // the limit last set
}

// holdMemory sets the soft memory limit to ceiling and then, after every
// collection, to what the process holds plus headroom (at most ceiling);
// unless a limit was set before (GOMEMLIMIT: then it wins, and nothing is
// changed). A limit set by anyone else later wins too: the budget stops.
func holdMemory(headroom, ceiling int64) {
	if debug.SetMemoryLimit(-1) != math.MaxInt64 {
		return
	}
	b := newMemoryBudget(headroom, ceiling)
	b.set = ceiling
	debug.SetMemoryLimit(ceiling)
	b.afterEachGC()
}

func newMemoryBudget(headroom, ceiling int64) *memoryBudget {
	return &memoryBudget{headroom: headroom, ceiling: ceiling, samples: []metrics.Sample{
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/gc/heap/live:bytes"},
	}}
}

// held is what the process holds, by the runtime's account: all the
// memory it has from the system, less the free and released parts of the
// heap and its dead objects (the objects less the heap live after the
// last collection).
func (b *memoryBudget) held() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	metrics.Read(b.samples)
	v := func(i int) int64 { return int64(b.samples[i].Value.Uint64()) }
	total, released, free, objects, live := v(0), v(1), v(2), v(3), v(4)
	return total - released - free - objects + live
}

// adjust sets the limit to what is held plus the headroom, at most the
// ceiling, and returns it.
func (b *memoryBudget) adjust() int64 {
	limit := min(b.ceiling, b.held()+b.headroom)
	b.mu.Lock()
	b.set = limit
	b.mu.Unlock()
	debug.SetMemoryLimit(limit)
	return limit
}

// afterEachGC adjusts the limit after every collection (a finalizer on an
// object that nothing references runs after the collection that found it
// unreachable, and arms the next), until the limit is found to be other
// than the one it set.
func (b *memoryBudget) afterEachGC() {
	s := new(gcSentinel)
	runtime.SetFinalizer(s, func(*gcSentinel) {
		b.mu.Lock()
		mine := debug.SetMemoryLimit(-1) == b.set
		b.mu.Unlock()
		if !mine {
			return
		}
		b.adjust()
		b.afterEachGC()
	})
}

// gcSentinel is large enough not to be batched with other small objects
// (a finalizer needs an object of its own).
type gcSentinel struct{ _ [32]byte }
