package voice_test

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hazgate/hazgate/device/serialport"
	"github.com/hazgate/hazgate/device/voice"
	"github.com/hazgate/hazgate/sim/simvoice"
)

// bound is how long a test waits for something the board must do.
const bound = 20 * time.Second

// rig is a driver on a simulated board on a pty, opened as the gate opens
// the real one.
type rig struct {
	sim   *simvoice.Board
	board *voice.Board

	mu     sync.Mutex
	events []voice.Event
	evc    chan struct{}
}

func newRig(t *testing.T, cfg voice.Config) *rig {
	t.Helper()
	path := filepath.Join(t.TempDir(), "voice")
	sb, err := simvoice.New(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	cfg.Open = func() (io.ReadWriteCloser, error) { return serialport.Open(path, 9600) }
	if cfg.ReplyTimeout == 0 {
		cfg.ReplyTimeout = 2 * time.Second
	}
	cfg.Poll, cfg.MinBackoff, cfg.MaxBackoff = 5*time.Millisecond, 10*time.Millisecond, 50*time.Millisecond
	r := &rig{sim: sb, board: voice.New(cfg), evc: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.board.Run(ctx, func(ev voice.Event) {
			r.mu.Lock()
			r.events = append(r.events, ev)
			r.mu.Unlock()
			select {
			case r.evc <- struct{}{}:
			default:
			}
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

// waitEvent waits for an event that ok accepts, and returns it.
func (r *rig) waitEvent(t *testing.T, what string, ok func(voice.Event) bool) voice.Event {
	t.Helper()
	timeout := time.After(bound)
	for {
		r.mu.Lock()
		for _, ev := range r.events {
			if ok(ev) {
				r.mu.Unlock()
				return ev
			}
		}
		r.mu.Unlock()
		select {
		case <-r.evc:
		case <-timeout:
			t.Fatalf("no %s within %v; events %v", what, bound, r.events)
		}
	}
}

// waitSaid waits until the board's transcript is want.
func (r *rig) waitSaid(t *testing.T, want ...string) {
	t.Helper()
	timeout := time.After(bound)
	for {
		ch := r.sim.Changed()
		got := r.sim.Said()
		if slices.Equal(got, want) {
			return
		}
		if len(got) >= len(want) {
			t.Fatalf("said %q, want %q", got, want)
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("said %q within %v, want %q", got, bound, want)
		}
	}
}

// waitFrames waits until the board has taken n more frames than before.
func (r *rig) waitFrames(t *testing.T, before, n int) {
	t.Helper()
	timeout := time.After(bound)
	for {
		ch := r.sim.Changed()
		if r.sim.Frames() >= before+n {
			return
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("the board took %d frames within %v, want %d more than %d", r.sim.Frames(), bound, n, before)
		}
	}
}

func TestSaysInOrder(t *testing.T) {
	r := newRig(t, voice.Config{})
	for _, s := range []string{"请刷身份证", "押运员请刷身份证", "请扫描电子运单", "检查通过，请通行"} {
		r.board.Say(s)
	}
	r.waitSaid(t, "请刷身份证", "押运员请刷身份证", "请扫描电子运单", "检查通过，请通行")
	if r.sim.Bad() != 0 {
		t.Fatalf("%d frames the board could not decode", r.sim.Bad())
	}
}

func TestNotRepeatedWhileBusy(t *testing.T) {
	r := newRig(t, voice.Config{})
	r.sim.Hold(true)
	r.board.Say("请刷身份证")
	r.waitSaid(t, "请刷身份证")
	r.board.Say("请刷身份证") // the same, while the board still speaks it: not again
	r.board.Say("请扫描电子运单")
	r.board.Say("请扫描电子运单") // the same as the last queued: not again
	// The board is polled while it speaks; the next prompt waits for it.
	r.waitFrames(t, r.sim.Frames(), 3)
	if got := r.sim.Said(); len(got) != 1 {
		t.Fatalf("said %q while the board was busy", got)
	}
	r.sim.Hold(false)
	r.sim.Finish()
	r.waitSaid(t, "请刷身份证", "请扫描电子运单")
}

func TestUnpluggedNeverBlocks(t *testing.T) {
	r := newRig(t, voice.Config{QueueMax: 4})
	r.board.Say("请刷身份证")
	r.waitSaid(t, "请刷身份证")
	if err := r.sim.Unplug(); err != nil {
		t.Fatal(err)
	}
	ev := r.waitEvent(t, "fault", func(ev voice.Event) bool { return ev.Kind == voice.EventFault })
	if !errors.Is(ev.Err, voice.ErrUnplugged) {
		t.Fatalf("fault %v, want ErrUnplugged", ev.Err)
	}
	// Say returns at once while the board is gone; the queue keeps the
	// newest prompts.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, s := range []string{"一", "二", "三", "四", "五", "六"} {
			r.board.Say(s)
		}
	}()
	select {
	case <-done:
	case <-time.After(bound):
		t.Fatal("Say blocked while the board was unplugged")
	}
	r.waitEvent(t, "the oldest prompts dropped", func(ev voice.Event) bool {
		return ev.Kind == voice.EventDropped && ev.Text == "二" && errors.Is(ev.Err, voice.ErrQueueFull)
	})
	if err := r.sim.Plug(); err != nil {
		t.Fatal(err)
	}
	r.waitEvent(t, "recovery", func(ev voice.Event) bool { return ev.Kind == voice.EventRecovered })
	r.waitSaid(t, "请刷身份证", "三", "四", "五", "六")
}

func TestSilentBoardIsAFault(t *testing.T) {
	r := newRig(t, voice.Config{ReplyTimeout: 100 * time.Millisecond})
	r.board.Say("请刷身份证")
	r.waitSaid(t, "请刷身份证")
	r.sim.Silence(true)
	r.board.Say("请扫描电子运单")
	ev := r.waitEvent(t, "fault", func(ev voice.Event) bool { return ev.Kind == voice.EventFault })
	if !errors.Is(ev.Err, voice.ErrNotResponding) {
		t.Fatalf("fault %v, want ErrNotResponding", ev.Err)
	}
	r.sim.Silence(false)
	r.waitEvent(t, "recovery", func(ev voice.Event) bool { return ev.Kind == voice.EventRecovered })
}
