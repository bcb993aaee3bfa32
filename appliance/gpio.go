package appliance

import (
	"context"
	"fmt"
	"sync"
	"time"

	pgpio "periph.io/x/conn/v3/gpio"

	"github.com/hazgate/hazgate/config"
	"github.com/hazgate/hazgate/device/gpio"
	"github.com/hazgate/hazgate/lane"
)

func defaultGPIOInit() error { return gpio.Init() }

// gpio opens the lane's loops and barrier and runs them; when a line cannot
// be opened or a driver stops, the lane is in fault, the barrier relays are
// left de-energised, and the lines are opened again after a back-off.
func (ld *laneDevices) gpio(ctx context.Context) {
	backoff := gpioMinBackoff
	for {
		err := ld.gpioErr
		if err == nil {
			err = ld.runGPIO(ctx)
		}
		if ctx.Err() != nil {
			return
		}
		ld.health("gpio", "gpio", err)
		if !ld.wait(ctx, backoff) {
			return
		}
		backoff = min(2*backoff, gpioMaxBackoff)
		if ld.gpioErr != nil {
			ld.gpioErr = ld.a.retryGPIOInit()
		}
	}
}

// wait waits d on the appliance's clock; false when ctx ended first.
func (ld *laneDevices) wait(ctx context.Context, d time.Duration) bool {
	done := make(chan struct{})
	t := ld.a.clk.AfterFunc(d, func() { close(done) })
	select {
	case <-ctx.Done():
		t.Stop()
		return false
	case <-done:
		return true
	}
}

var gpioInitMu sync.Mutex

// retryGPIOInit loads the GPIO driver (the configured one: Options.GPIOInit),
// at start-up and again when a lane retries (a chip that appeared late).
func (a *Appliance) retryGPIOInit() error {
	gpioInitMu.Lock()
	defer gpioInitMu.Unlock()
	return a.gpioInit()
}

// runGPIO opens the lines and runs the loops and the barrier until ctx ends
// (nil) or one of them fails.
func (ld *laneDevices) runGPIO(ctx context.Context) error {
	lc, name := ld.cfg, ld.cfg.Name
	in := func(field, pin string) (pgpio.PinIO, error) {
		if pin == "" {
			return nil, nil
		}
		p, err := gpio.Lookup(pin)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", field, pin, err)
		}
		return p, nil
	}
	loop := func(field string, c config.Loop, on func(bool)) (*gpio.Loop, error) {
		p, err := in(field, c.Pin)
		if err != nil {
			return nil, err
		}
		pull, err := gpio.ParsePull(c.Pull)
		if err != nil {
			return nil, err
		}
		return gpio.NewLoop(gpio.LoopConfig{Name: name + "/" + field, Pin: p, ActiveLow: c.ActiveLow, Pull: pull, Debounce: c.Debounce.D(), Clock: ld.a.clk, OnChange: on})
	}
	arrival, err := loop("arrival_loop", lc.ArrivalLoop, func(occ bool) {
		if occ {
			ld.runner.Send(lane.VehiclePresent{})
		} else {
			ld.runner.Send(lane.VehicleGone{})
		}
	})
	if err != nil {
		return err
	}
	safety, err := loop("safety_loop", lc.SafetyLoop, func(occ bool) { ld.runner.Send(lane.SafetyLoop{Occupied: occ}) })
	if err != nil {
		return err
	}
	b := lc.Barrier
	pins := map[string]pgpio.PinIO{}
	for _, f := range []struct{ field, pin string }{{"open_pin", b.OpenPin}, {"close_pin", b.ClosePin}, {"open_limit_pin", b.OpenLimitPin}, {"closed_limit_pin", b.ClosedLimitPin}} {
		p, err := in("barrier."+f.field, f.pin)
		if err != nil {
			return err
		}
		pins[f.field] = p
	}
	limitPull, err := gpio.ParsePull(b.LimitPull)
	if err != nil {
		return err
	}
	bc := gpio.BarrierConfig{
		Name: name + "/barrier", Mode: b.Mode, RelayActiveLow: b.RelayActiveLow, Pulse: b.Pulse.D(),
		LimitActiveLow: b.LimitActiveLow, LimitPull: limitPull, FeedbackTimeout: b.FeedbackTimeout.D(),
		Safety: safety, Clock: ld.a.clk, Log: ld.a.log.With("lane", name, "device", "barrier"),
		OnState: func(s lane.BarrierState) { ld.runner.Send(lane.BarrierFeedback{State: s}) },
	}
	if p := pins["open_pin"]; p != nil {
		bc.OpenRelay = p
	}
	if p := pins["close_pin"]; p != nil {
		bc.CloseRelay = p
	}
	if p := pins["open_limit_pin"]; p != nil {
		bc.OpenLimit = p
	}
	if p := pins["closed_limit_pin"]; p != nil {
		bc.ClosedLimit = p
	}
	barrier, err := gpio.NewBarrier(bc)
	if err != nil {
		return err
	}
	ld.barrier.set(barrier)
	defer func() {
		ld.barrier.set(nil)
		barrier.Halt() // relays de-energised: the fail-secure position
	}()
	ld.health("gpio", "gpio", nil)

	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, 3)
	for _, run := range []func(context.Context) error{arrival.Run, safety.Run, barrier.Run} {
		go func() { errs <- run(rctx) }()
	}
	err = <-errs
	cancel()
	<-errs
	<-errs
	if ctx.Err() != nil {
		return nil
	}
	if err == nil {
		err = fmt.Errorf("a GPIO driver stopped")
	}
	return err
}
