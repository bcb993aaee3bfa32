package simgpio_test

import (
	"sync"
	"testing"
	"time"

	"github.com/hazgate/hazgate/clock"
	devgpio "github.com/hazgate/hazgate/device/gpio"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/sim/simgpio"
)

type record[T ~string] struct {
	mu  sync.Mutex
	got []T
}

func (r *record[T]) add(s T) { r.mu.Lock(); r.got = append(r.got, s); r.mu.Unlock() }
func (r *record[T]) last() T {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.got) == 0 {
		return ""
	}
	return r.got[len(r.got)-1]
}

// TestLaneDrivesTheRealDrivers wires device/gpio's loop and barrier to a
// simulated lane by pin name and runs a vehicle through on the fake clock.
func TestLaneDrivesTheRealDrivers(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC))
	sl, err := simgpio.NewLane(simgpio.LaneConfig{Name: "in-1", Clock: clk, Travel: 3 * time.Second,
		LoopActiveLow: true, RelayActiveLow: true, LimitActiveLow: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sl.Close()
	names := sl.PinNames()
	lookup := func(k string) *simgpio.Pin {
		p, err := devgpio.Lookup(names[k])
		if err != nil {
			t.Fatal(err)
		}
		return p.(*simgpio.Pin)
	}
	events := &record[string]{}
	loop := func(k string) *devgpio.Loop {
		p := lookup(k)
		l, err := devgpio.NewLoop(devgpio.LoopConfig{Name: k, Pin: p, ActiveLow: true, Debounce: 200 * time.Millisecond, Clock: clk,
			OnChange: func(o bool) { events.add(k + map[bool]string{true: " occupied", false: " clear"}[o]) }})
		if err != nil {
			t.Fatal(err)
		}
		p.Watch(l.Sample)
		return l
	}
	loop("arrival_loop")
	safety := loop("safety_loop")
	states := &record[lane.BarrierState]{}
	b, err := devgpio.NewBarrier(devgpio.BarrierConfig{Name: "in-1/barrier", OpenRelay: lookup("open_pin"), CloseRelay: lookup("close_pin"),
		RelayActiveLow: true, OpenLimit: lookup("open_limit_pin"), ClosedLimit: lookup("closed_limit_pin"), LimitActiveLow: true,
		FeedbackTimeout: 5 * time.Second, Safety: safety, Clock: clk, OnState: states.add})
	if err != nil {
		t.Fatal(err)
	}
	lookup("open_limit_pin").Watch(b.Sample)
	lookup("closed_limit_pin").Watch(b.Sample)
	if b.State() != lane.BarrierClosed {
		t.Fatalf("barrier starts %q", b.State())
	}
	sl.SetArrival(true)
	clk.Advance(200 * time.Millisecond)
	if events.last() != "arrival_loop occupied" {
		t.Fatalf("events %v", events.got)
	}
	if err := b.Open(); err != nil {
		t.Fatal(err)
	}
	clk.Advance(0)
	if states.last() != lane.BarrierOpening || sl.Barrier.State() != lane.BarrierOpening {
		t.Fatalf("states %v, model %q", states.got, sl.Barrier.State())
	}
	clk.Advance(3 * time.Second)
	if states.last() != lane.BarrierOpen {
		t.Fatalf("states %v", states.got)
	}
	sl.SetArrival(false)
	sl.SetSafety(true)
	if err := b.Close(); err == nil {
		t.Fatal("the barrier closed with a vehicle under it")
	}
	clk.Advance(time.Second)
	sl.SetSafety(false)
	clk.Advance(200 * time.Millisecond)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	clk.Advance(3 * time.Second)
	if states.last() != lane.BarrierClosed || sl.Barrier.State() != lane.BarrierClosed {
		t.Fatalf("states %v", states.got)
	}
	// A jammed barrier gives a fault when commanded.
	sl.Barrier.Jam(true)
	b.Open()
	clk.Advance(6 * time.Second)
	if states.last() != lane.BarrierFault {
		t.Fatalf("jammed: states %v", states.got)
	}
}
