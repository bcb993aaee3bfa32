package simscale_test

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/hazgate/hazgate/device/scale"
	"github.com/hazgate/hazgate/device/serialport"
	"github.com/hazgate/hazgate/sim/simscale"
)

// Frames through a real pty and the real driver: clean and noisy frames are
// read, the noise is skipped and counted, an unplug is a fault and a plug a
// recovery.
func TestFramesThroughThePty(t *testing.T) {
	ind, err := simscale.New(filepath.Join(t.TempDir(), "hazgate-scale-in1"))
	if err != nil {
		t.Fatal(err)
	}
	defer ind.Close()
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan scale.Event, 100)
	opened := make(chan struct{}, 10)
	done := make(chan struct{})
	go func() {
		scale.NewReader(scale.Config{
			Open: func() (io.ReadCloser, error) {
				p, err := serialport.Open(ind.Path(), 9600)
				if err == nil {
					opened <- struct{}{}
				}
				return p, err
			},
			MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
		}).Run(ctx, func(e scale.Event) { events <- e })
		close(done)
	}()
	defer func() { cancel(); <-done }()
	next := func(want scale.EventKind) scale.Event {
		t.Helper()
		select {
		case e := <-events:
			if e.Kind != want {
				t.Fatalf("got %v (%v), want %v", e.Kind, e.Err, want)
			}
			return e
		case <-time.After(10 * time.Second):
			t.Fatalf("no %v event", want)
		}
		return scale.Event{}
	}
	<-opened
	if err := ind.Send(40120, false); err != nil {
		t.Fatal(err)
	}
	if e := next(scale.EventWeight); e.Kg != 40120 {
		t.Fatalf("got %v kg", e.Kg)
	}
	if err := ind.Send(40140, true); err != nil {
		t.Fatal(err)
	}
	if e := next(scale.EventRejected); !errors.Is(e.Err, scale.ErrNoise) {
		t.Fatalf("got %v", e.Err)
	}
	if e := next(scale.EventRejected); !errors.Is(e.Err, scale.ErrChecksum) {
		t.Fatalf("got %v", e.Err)
	}
	if e := next(scale.EventWeight); e.Kg != 40140 {
		t.Fatalf("got %v kg", e.Kg)
	}
	ind.Unplug()
	if err := ind.Send(1, false); err == nil {
		t.Fatal("an unplugged indicator sent a frame")
	}
	if e := next(scale.EventFault); !errors.Is(e.Err, scale.ErrUnplugged) {
		t.Fatalf("got %v", e.Err)
	}
	ind.Plug()
	next(scale.EventRecovered)
	<-opened
	if err := ind.Send(0, false); err != nil {
		t.Fatal(err)
	}
	next(scale.EventWeight)
}
