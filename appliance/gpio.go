package appliance

import (
	"context"
	"fmt"
	"time"

	pgpio "periph.io/x/conn/v3/gpio"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/config"
	"github.com/hazgate/hazgate/device/gpio"
	"github.com/hazgate/hazgate/gate"
)

// Back-off between attempts to open a lane's GPIO lines.
const (
	gpioMinBackoff = 2 * time.Second
	gpioMaxBackoff = time.Minute
)

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
		ld.l.Health(gate.DeviceGPIO, gate.KindGPIO, err)
		if !clock.Sleep(ctx, ld.h.opt.Clock, backoff) {
			return
		}
		backoff = min(2*backoff, gpioMaxBackoff)
		if ld.gpioErr != nil {
			ld.gpioErr = ld.h.retryGPIOInit()
		}
	}
}

// runGPIO opens the lines and runs the loops and the barrier until ctx ends
// (nil) or one of them fails.
func (ld *laneDevices) runGPIO(ctx context.Context) error {
	lc, name := ld.l.Config, ld.l.Config.Name
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
		return gpio.NewLoop(gpio.LoopConfig{Name: name + "/" + field, Pin: p, ActiveLow: c.ActiveLow, Pull: pull, Debounce: c.Debounce.D(), Clock: ld.h.opt.Clock, OnChange: on})
	}
	arrival, err := loop("arrival_loop", lc.ArrivalLoop, ld.l.ArrivalLoop)
	if err != nil {
		return err
	}
	safety, err := loop("safety_loop", lc.SafetyLoop, ld.l.SafetyLoop)
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
		Safety: safety, Clock: ld.h.opt.Clock, Log: ld.l.Log().With("device", "barrier"),
		OnState: ld.l.BarrierState,
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
	ld.l.Health(gate.DeviceGPIO, gate.KindGPIO, nil)

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
