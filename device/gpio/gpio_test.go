package gpio

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/lane"
)

var pinNum atomic.Int32

func init() { pinNum.Store(5000) }

// spyPin is a gpiotest pin that records the timeouts it is waited with.
type spyPin struct {
	gpiotest.Pin
	unbounded atomic.Bool
}

func (p *spyPin) WaitForEdge(d time.Duration) bool {
	if d <= 0 {
		p.unbounded.Store(true) // the character device's trap: -1 returns at once
		return false
	}
	return p.Pin.WaitForEdge(d)
}

// register makes a gpiotest pin and registers it in periph's registry by
// name, as the simulator does.
func register(t *testing.T, name string) *spyPin {
	t.Helper()
	p := &spyPin{Pin: gpiotest.Pin{N: name, Num: int(pinNum.Add(1)), EdgesChan: make(chan gpio.Level, 16)}}
	if err := gpioreg.Register(p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		gpioreg.Unregister(name)
		if p.unbounded.Load() {
			t.Error("WaitForEdge was called without a bound")
		}
	})
	return p
}

func lookup(t *testing.T, name string) gpio.PinIO {
	t.Helper()
	p, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLookup(t *testing.T) {
	want := register(t, "HG_TEST_LOOKUP")
	if got := lookup(t, "HG_TEST_LOOKUP"); got.Name() != want.Name() {
		t.Fatalf("got %v", got)
	}
	line := &gpiotest.Pin{N: "line17"}
	saved := chipLine
	defer func() { chipLine = saved }()
	chipLine = func(chip string, n int) (gpio.PinIO, error) {
		if chip == "gpiochip3" && n == 17 {
			return line, nil
		}
		return nil, ErrNoPin
	}
	if got := lookup(t, "gpiochip3/17"); got != line {
		t.Fatalf("chip/line: got %v", got)
	}
	for _, bad := range []string{"HG_NO_SUCH_PIN", "gpiochip3/x", "gpiochip9/1"} {
		if _, err := Lookup(bad); !errors.Is(err, ErrNoPin) {
			t.Fatalf("Lookup(%q) = %v, want ErrNoPin", bad, err)
		}
	}
}

// changes collects OnChange calls.
type changes struct {
	mu  sync.Mutex
	got []bool
	ch  chan bool
}

func newChanges() *changes { return &changes{ch: make(chan bool, 100)} }

func (c *changes) on(v bool) {
	c.mu.Lock()
	c.got = append(c.got, v)
	c.mu.Unlock()
	c.ch <- v
}

func (c *changes) list() []bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]bool(nil), c.got...)
}

func TestLoopDebounce(t *testing.T) {
	p := register(t, "HG_TEST_LOOP_DEB")
	clk := clock.NewFake(time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC))
	ch := newChanges()
	l, err := NewLoop(LoopConfig{Name: "in-1/arrival", Pin: lookup(t, "HG_TEST_LOOP_DEB"), ActiveLow: true,
		Pull: gpio.PullUp, Debounce: 200 * time.Millisecond, Clock: clk, OnChange: ch.on})
	if err != nil {
		t.Fatal(err)
	}
	set := func(occupied bool) { p.Out(level(occupied, true)); l.Sample() }
	if l.Occupied() {
		t.Fatal("pulled up, active low: clear")
	}
	set(true)
	clk.Advance(150 * time.Millisecond)
	set(false) // a bounce: never reported
	clk.Advance(time.Second)
	if got := ch.list(); len(got) != 0 {
		t.Fatalf("bounce reported: %v", got)
	}
	set(true)
	if !l.Occupied() {
		t.Fatal("Occupied must count the raw pin at once (the barrier asks it)")
	}
	clk.Advance(199 * time.Millisecond)
	if got := ch.list(); len(got) != 0 {
		t.Fatalf("reported before the window: %v", got)
	}
	clk.Advance(time.Millisecond)
	set(true) // the same level again changes nothing
	clk.Advance(time.Second)
	set(false)
	clk.Advance(200 * time.Millisecond)
	if got := ch.list(); len(got) != 2 || !got[0] || got[1] {
		t.Fatalf("got %v, want [true false]", got)
	}
}

// TestLoopRun drives the loop through periph edges with bounded waits.
func TestLoopRun(t *testing.T) {
	p := register(t, "HG_TEST_LOOP_RUN")
	ch := newChanges()
	l, err := NewLoop(LoopConfig{Pin: lookup(t, "HG_TEST_LOOP_RUN"), Debounce: -1, Poll: 20 * time.Millisecond, OnChange: ch.on})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	wait := func(want bool) {
		t.Helper()
		select {
		case v := <-ch.ch:
			if v != want {
				t.Fatalf("got %t, want %t", v, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no change to %t", want)
		}
	}
	wait(false) // the initial state
	p.EdgesChan <- gpio.High
	wait(true)
	p.EdgesChan <- gpio.Low
	wait(false)
}

type occupancy struct{ v atomic.Bool }

func (o *occupancy) Occupied() bool { return o.v.Load() }

type states struct {
	mu  sync.Mutex
	got []lane.BarrierState
}

func (s *states) on(v lane.BarrierState) { s.mu.Lock(); s.got = append(s.got, v); s.mu.Unlock() }
func (s *states) last() lane.BarrierState {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.got) == 0 {
		return ""
	}
	return s.got[len(s.got)-1]
}

func TestBarrierPulse(t *testing.T) {
	open, close := register(t, "HG_TEST_B1_OPEN"), register(t, "HG_TEST_B1_CLOSE")
	open.Out(gpio.Low) // energised before start (active low)
	clk := clock.NewFake(time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC))
	safety := &occupancy{}
	st := &states{}
	b, err := NewBarrier(BarrierConfig{Name: "in-1/barrier", Mode: ModePulse, OpenRelay: lookup(t, "HG_TEST_B1_OPEN"),
		CloseRelay: lookup(t, "HG_TEST_B1_CLOSE"), RelayActiveLow: true, Pulse: 500 * time.Millisecond,
		Safety: safety, Clock: clk, OnState: st.on})
	if err != nil {
		t.Fatal(err)
	}
	off, on := gpio.High, gpio.Low
	if open.Read() != off || close.Read() != off {
		t.Fatal("relays must start de-energised")
	}
	if err := b.Open(); err != nil {
		t.Fatal(err)
	}
	if open.Read() != on || close.Read() != off || st.last() != lane.BarrierOpening {
		t.Fatalf("open: relays %v %v state %q", open.Read(), close.Read(), st.last())
	}
	clk.Advance(499 * time.Millisecond)
	if open.Read() != on {
		t.Fatal("pulse ended early")
	}
	clk.Advance(time.Millisecond)
	if open.Read() != off {
		t.Fatal("pulse did not end")
	}
	safety.v.Store(true)
	if err := b.Close(); !errors.Is(err, ErrSafetyOccupied) {
		t.Fatalf("Close with the safety loop occupied: %v", err)
	}
	if close.Read() != off {
		t.Fatal("the close relay moved while the safety loop was occupied")
	}
	safety.v.Store(false)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if close.Read() != on || open.Read() != off || st.last() != lane.BarrierClosing {
		t.Fatal("close pulse")
	}
	if err := b.Halt(); err != nil {
		t.Fatal(err)
	}
	if close.Read() != off || open.Read() != off {
		t.Fatal("Halt must leave every relay de-energised")
	}
	clk.Advance(time.Second) // the cancelled pulse end does nothing
}

func TestBarrierLevelHalt(t *testing.T) {
	open := register(t, "HG_TEST_B2_OPEN")
	b, err := NewBarrier(BarrierConfig{Mode: ModeLevel, OpenRelay: lookup(t, "HG_TEST_B2_OPEN"), Clock: clock.NewFake(time.Now())})
	if err != nil {
		t.Fatal(err)
	}
	b.Open()
	if open.Read() != gpio.High {
		t.Fatal("level mode holds the open relay")
	}
	b.Halt()
	if open.Read() != gpio.Low {
		t.Fatal("Halt drops the open relay: the barrier comes down (fail-secure)")
	}
	if _, err := NewBarrier(BarrierConfig{Mode: ModePulse, OpenRelay: open}); err == nil {
		t.Fatal("pulse mode without a close relay must be refused")
	}
}

func TestBarrierFeedback(t *testing.T) {
	register(t, "HG_TEST_B3_OPEN")
	register(t, "HG_TEST_B3_CLOSE")
	atOpen, atClosed := register(t, "HG_TEST_B3_OL"), register(t, "HG_TEST_B3_CL")
	atClosed.Out(gpio.High)
	clk := clock.NewFake(time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC))
	st := &states{}
	b, err := NewBarrier(BarrierConfig{OpenRelay: lookup(t, "HG_TEST_B3_OPEN"), CloseRelay: lookup(t, "HG_TEST_B3_CLOSE"),
		OpenLimit: lookup(t, "HG_TEST_B3_OL"), ClosedLimit: lookup(t, "HG_TEST_B3_CL"),
		FeedbackTimeout: 5 * time.Second, Clock: clk, OnState: st.on})
	if err != nil {
		t.Fatal(err)
	}
	limits := func(o, c bool) { atOpen.Out(gpio.Level(o)); atClosed.Out(gpio.Level(c)); b.Sample() }
	for _, step := range []struct {
		name string
		do   func()
		want lane.BarrierState
	}{
		{"starts closed", func() {}, lane.BarrierClosed},
		{"commanded up, still on the closed limit", func() { b.Open() }, lane.BarrierClosed},
		{"left the closed limit", func() { limits(false, false) }, lane.BarrierOpening},
		{"reached the open limit", func() { limits(true, false) }, lane.BarrierOpen},
		{"no timeout once there", func() { clk.Advance(10 * time.Second) }, lane.BarrierOpen},
		{"commanded down", func() { b.Close(); limits(false, false) }, lane.BarrierClosing},
		{"no feedback in time", func() { clk.Advance(5 * time.Second) }, lane.BarrierUnknown},
		{"stays unknown between the limits", func() { limits(false, false) }, lane.BarrierUnknown},
		{"closed after all", func() { limits(false, true) }, lane.BarrierClosed},
		{"commanded up but never moves", func() { b.Open(); clk.Advance(5 * time.Second) }, lane.BarrierFault},
		{"fault stays", func() { limits(false, true) }, lane.BarrierFault},
		{"both limits at once", func() { b.Close(); limits(true, true) }, lane.BarrierFault},
	} {
		step.do()
		if got := b.State(); got != step.want || (st.last() != "" && st.last() != step.want) {
			t.Fatalf("%s: state %q (reported %q), want %q", step.name, got, st.last(), step.want)
		}
	}
}

func TestBarrierOneLimit(t *testing.T) {
	register(t, "HG_TEST_B4_OPEN")
	register(t, "HG_TEST_B4_CLOSE")
	atClosed := register(t, "HG_TEST_B4_CL")
	atClosed.Out(gpio.High)
	clk := clock.NewFake(time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC))
	b, err := NewBarrier(BarrierConfig{OpenRelay: lookup(t, "HG_TEST_B4_OPEN"), CloseRelay: lookup(t, "HG_TEST_B4_CLOSE"),
		ClosedLimit: lookup(t, "HG_TEST_B4_CL"), FeedbackTimeout: 5 * time.Second, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	b.Open()
	atClosed.Out(gpio.Low)
	b.Sample()
	if b.State() != lane.BarrierOpening {
		t.Fatalf("got %q", b.State())
	}
	clk.Advance(5 * time.Second)
	b.Sample()
	if b.State() != lane.BarrierOpen {
		t.Fatalf("left the only limit for the travel time: got %q, want open", b.State())
	}
}

func TestBarrierNoLimits(t *testing.T) {
	register(t, "HG_TEST_B5_OPEN")
	register(t, "HG_TEST_B5_CLOSE")
	b, err := NewBarrier(BarrierConfig{OpenRelay: lookup(t, "HG_TEST_B5_OPEN"), CloseRelay: lookup(t, "HG_TEST_B5_CLOSE"), Clock: clock.NewFake(time.Now())})
	if err != nil {
		t.Fatal(err)
	}
	if b.State() != lane.BarrierUnknown {
		t.Fatalf("got %q", b.State())
	}
	b.Open()
	if b.State() != lane.BarrierOpening {
		t.Fatalf("got %q", b.State())
	}
}

func TestParsePull(t *testing.T) {
	for s, want := range map[string]gpio.Pull{"": gpio.PullNoChange, "up": gpio.PullUp, "down": gpio.PullDown, "none": gpio.Float} {
		if got, err := ParsePull(s); err != nil || got != want {
			t.Fatalf("ParsePull(%q) = %v %v", s, got, err)
		}
	}
	if _, err := ParsePull("strong"); err == nil {
		t.Fatal("accepted strong")
	}
}
