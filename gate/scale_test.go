package gate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/config"
	"github.com/hazgate/hazgate/device/scale"
	"github.com/hazgate/hazgate/lane"
)

// The weighbridge through its real driver and the lane's adapter: frames on
// a pipe, a vehicle on in-1's arrival loop, the gate's fake clock. A weight
// steady for the stable time after the arrival is the lane's evidence; the
// indicator unplugged is the scale's fault, with its alarm.
func TestScaleAdapter(t *testing.T) {
	cfg := testConfig(t)
	cfg.Lanes[0].Scale = &config.Scale{Port: "/dev/null", Unit: "kg", StableFor: config.Duration(2 * time.Second), BandKg: 20}
	clk := clock.NewFake(t0)
	g, err := Assemble(context.Background(), cfg, openStore(t, cfg, clk), &testHardware{}, Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	run(t, g)
	l := g.Lane("in-1")
	if g.Lane("out-1").ScaleReader(nil, clk) != nil {
		t.Fatal("a lane without a scale has a scale reader")
	}
	l.BarrierState(lane.BarrierClosed)
	l.SafetyLoop(false)
	l.ArrivalLoop(true)
	if s := sync1(t, l); !slices.Contains(s.Missing, lane.MissingWeight) || !s.Evidence.Weighbridge {
		t.Fatalf("missing %v; want the weight awaited", s.Missing)
	}

	pipes := make(chan *io.PipeWriter, 1)
	var down atomic.Bool
	open := func() (io.ReadCloser, error) {
		if down.Load() {
			return nil, errors.New("no such device")
		}
		r, w := io.Pipe()
		pipes <- w
		return r, nil
	}
	l.Health(DeviceScale, KindScale, nil) // found working at start, as the hardware sets report it
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	weighed, stable := make(chan struct{}, 100), make(chan struct{}, 100)
	go func() {
		l.ScaleReader(open, clk).Run(ctx, func(ev scale.Event) {
			l.Weigh(ev) // sent to the lane before the test hears of it
			switch ev.Kind {
			case scale.EventWeight:
				weighed <- struct{}{}
			case scale.EventStable:
				stable <- struct{}{}
			}
		})
		close(done)
	}()
	defer func() { cancel(); <-done }()
	w := <-pipes
	frame := func(kg int64) {
		t.Helper()
		b, err := scale.Encode(scale.Frame{Digits: kg})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(append([]byte("noise"), b...)); err != nil {
			t.Fatal(err)
		}
		select { // the frame is stamped before the clock moves on
		case <-weighed:
		case <-time.After(10 * time.Second):
			t.Fatal("the frame was not read")
		}
	}
	// 39980 then 40000 within the 20 kg band; 40010 is out of it and
	// starts the window again, which holds from there for 2 s.
	for _, kg := range []int64{39980, 40000, 40010, 40000, 40000, 40010, 40000} {
		frame(kg)
		clk.Advance(500 * time.Millisecond)
	}
	select { // the last frame completed a stable window, reported before its weight
	case <-stable:
	default:
		t.Fatal("no stable weight")
	}
	s := sync1(t, l)
	if s.Evidence.GrossKg == nil || *s.Evidence.GrossKg != 40000 || slices.Contains(s.Missing, lane.MissingWeight) {
		t.Fatalf("gross %v, missing %v; want 40000 kg taken", s.Evidence.GrossKg, s.Missing)
	}

	down.Store(true)
	w.Close()
	deadline := time.Now().Add(10 * time.Second)
	for !slices.Contains(sync1(t, l).Faults, "in-1/scale") {
		if time.Now().After(deadline) {
			t.Fatal("the unplugged scale is not in fault")
		}
		clk.Advance(time.Second) // the fault window and the driver's back-off
	}
	evs := alarmEvents(t, g.Store)
	if len(evs) != 1 || evs[0].Code != FaultUnplugged || evs[0].Detail != "Weighbridge indicator in-1/scale is unplugged or cannot be opened" {
		t.Fatalf("alarms %s; want the scale's device_unplugged", describeAlarms(evs))
	}
}

// The scale's faults in plain words: unplugged, silent, only garbage.
func TestScaleFaultReasons(t *testing.T) {
	for _, c := range []struct {
		err      error
		code, en string
	}{
		{fmt.Errorf("%w: open: no such file", scale.ErrUnplugged), FaultUnplugged, "Weighbridge indicator in-1/scale is unplugged or cannot be opened"},
		{scale.ErrSilent, FaultNotResponding, "Weighbridge indicator in-1/scale does not answer"},
		{scale.ErrNoFrames, FaultOther, "Weighbridge indicator in-1/scale is in fault"},
	} {
		code, text := DeviceFaultReason(KindScale, "in-1/scale", c.err)
		if code != c.code || text.EN != c.en || text.ZH == "" || !strings.Contains(text.ZH, "地磅") {
			t.Errorf("%v: %s %q %q; want %s %q", c.err, code, text.EN, text.ZH, c.code, c.en)
		}
	}
}
