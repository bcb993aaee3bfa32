package scale_test

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/device/scale"
)

// pipes hands the Reader one pipe per Open, until closed.
type pipes struct {
	mu   sync.Mutex
	open chan *io.PipeWriter
	down bool
}

func (p *pipes) Open() (io.ReadCloser, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		return nil, errors.New("no such device")
	}
	r, w := io.Pipe()
	p.open <- w
	return r, nil
}

func (p *pipes) setDown(down bool) {
	p.mu.Lock()
	p.down = down
	p.mu.Unlock()
}

// The reader over a pipe, on a fake clock: each frame is stamped with the
// clock's time before its weight is reported, so the test moves the clock
// only after that report, and never sleeps.
func TestReader(t *testing.T) {
	p := &pipes{open: make(chan *io.PipeWriter, 10)}
	clk := clock.NewFake(time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC))
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan scale.Event, 100)
	done := make(chan struct{})
	go func() {
		scale.NewReader(scale.Config{Open: p.Open, Clock: clk, KgPerUnit: 1000, StableFor: 2 * time.Second, BandKg: 20,
			MinBackoff: time.Millisecond}).Run(ctx, func(e scale.Event) { events <- e })
		close(done)
	}()
	defer func() { cancel(); <-done }()
	next := func() scale.Event {
		t.Helper()
		select {
		case e := <-events:
			return e
		case <-time.After(10 * time.Second):
			t.Fatal("no event")
		}
		return scale.Event{}
	}
	w := <-p.open
	write := func(s string) {
		t.Helper()
		if _, err := io.WriteString(w, s); err != nil {
			t.Fatal(err)
		}
	}
	frame := func(digits int64) string {
		b, err := scale.Encode(scale.Frame{Digits: digits, Decimals: 2})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	// 31.00 t, steady, with noise and a bad frame in between.
	write(frame(3100))
	if e := next(); e.Kind != scale.EventWeight || e.Kg != 31000 {
		t.Fatalf("got %+v; want a weight of 31000 kg", e)
	}
	clk.Advance(time.Second)
	write("\xff\xfe" + frame(3101))
	if e := next(); e.Kind != scale.EventRejected || !errors.Is(e.Err, scale.ErrNoise) {
		t.Fatalf("got %+v; want noise rejected", e)
	}
	if e := next(); e.Kind != scale.EventWeight || e.Kg != 31010 {
		t.Fatalf("got %+v", e)
	}
	clk.Advance(time.Second)
	write("\x02+003100217\x03") // checksum of another frame
	if e := next(); e.Kind != scale.EventRejected || !errors.Is(e.Err, scale.ErrChecksum) {
		t.Fatalf("got %+v; want a checksum rejected", e)
	}
	write(frame(3100))
	if e := next(); e.Kind != scale.EventStable || e.Kg != 31000 || e.Stable.At.Sub(e.Stable.Since) != 2*time.Second {
		t.Fatalf("got %+v; want stable 31000 kg over 2 s", e)
	}
	if e := next(); e.Kind != scale.EventWeight {
		t.Fatalf("got %+v; want the frame's weight after its stable weight", e)
	}
	// Unplugged: a fault, then recovery when it is back; the window
	// starts again.
	p.setDown(true)
	w.Close()
	if e := next(); e.Kind != scale.EventFault || !errors.Is(e.Err, scale.ErrUnplugged) {
		t.Fatalf("got %+v", e)
	}
	p.setDown(false)
	for {
		select {
		case w = <-p.open:
		default:
			clk.Advance(time.Second) // the back-off runs on the fake clock
			continue
		}
		break
	}
	if e := next(); e.Kind != scale.EventRecovered {
		t.Fatalf("got %+v", e)
	}
	write(frame(3100))
	clk.Advance(time.Second)
	write(frame(3100))
	for _, want := range []scale.EventKind{scale.EventWeight, scale.EventWeight} {
		if e := next(); e.Kind != want {
			t.Fatalf("got %+v; want %v (no stable weight one second after the stream came back)", e, want)
		}
	}
	// Only garbage (a wrong baud rate): a fault after 16 rejections in a
	// row, recovered by the next frame.
	for i := range 16 {
		write("\x02+003100200\x03")
		if e := next(); e.Kind != scale.EventRejected {
			t.Fatalf("rejection %d: got %+v", i, e)
		}
	}
	if e := next(); e.Kind != scale.EventFault || !errors.Is(e.Err, scale.ErrNoFrames) {
		t.Fatalf("got %+v; want a fault for frames that never come", e)
	}
	write(frame(3100))
	if e := next(); e.Kind != scale.EventRecovered {
		t.Fatalf("got %+v; want recovered", e)
	}
	if e := next(); e.Kind != scale.EventWeight {
		t.Fatalf("got %+v", e)
	}
}

// An indicator that falls silent (switched off, its adapter still plugged
// in) is in fault after Config.Silence on the clock, and recovers with its
// next frame.
func TestReaderSilence(t *testing.T) {
	p := &pipes{open: make(chan *io.PipeWriter, 10)}
	clk := clock.NewFake(time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC))
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan scale.Event, 100)
	done := make(chan struct{})
	go func() {
		scale.NewReader(scale.Config{Open: p.Open, Clock: clk, Silence: 5 * time.Second}).Run(ctx, func(e scale.Event) { events <- e })
		close(done)
	}()
	defer func() { cancel(); <-done }()
	next := func() scale.Event {
		t.Helper()
		select {
		case e := <-events:
			return e
		case <-time.After(10 * time.Second):
			t.Fatal("no event")
		}
		return scale.Event{}
	}
	w := <-p.open
	zero, _ := scale.Encode(scale.Frame{})
	if _, err := w.Write(zero); err != nil {
		t.Fatal(err)
	}
	if e := next(); e.Kind != scale.EventWeight {
		t.Fatalf("got %+v", e)
	}
	clk.Advance(4 * time.Second)
	if _, err := w.Write(zero); err != nil {
		t.Fatal(err)
	}
	if e := next(); e.Kind != scale.EventWeight {
		t.Fatalf("got %+v; want a weight, the indicator not yet silent", e)
	}
	clk.Advance(5 * time.Second)
	if e := next(); e.Kind != scale.EventFault || !errors.Is(e.Err, scale.ErrSilent) {
		t.Fatalf("got %+v; want silent", e)
	}
	clk.Advance(time.Minute) // still silent: nothing new
	if _, err := w.Write(zero); err != nil {
		t.Fatal(err)
	}
	for _, want := range []scale.EventKind{scale.EventRecovered, scale.EventWeight} {
		if e := next(); e.Kind != want {
			t.Fatalf("got %+v; want %v", e, want)
		}
	}
}
