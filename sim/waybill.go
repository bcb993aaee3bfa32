package sim

import (
	"context"
	"fmt"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/config"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/sim/simhttp"
	"github.com/hazgate/hazgate/store"
	"github.com/hazgate/hazgate/waybill"
)

// WaybillService is the scenario's simulated waybill service
// (`waybill_service:`). With it, the gate looks every scanned waybill up
// (docs/design.md, "Waybill lookup"); the service serves the registry's
// waybills and these.
type WaybillService struct {
	// Waybills are only in the service: issued after the registry's last
	// sync.
	Waybills []registry.Waybill `yaml:"waybills"`
	// Cancel are waybill numbers the service answers as cancelled (the
	// registry may still hold them valid).
	Cancel []string `yaml:"cancel"`
	// Delay is how long the service takes to answer, on the scenario's
	// clock (0: at once). Longer than the timeout, it is slow: the gate
	// gives up.
	Delay Offset `yaml:"delay"`
	// Down makes it answer 503 for the whole run.
	Down bool `yaml:"down"`
	// Timeout and MaxAge are waybill.timeout (3s) and waybill.max_age
	// (15m).
	Timeout *config.Duration `yaml:"timeout"`
	MaxAge  *config.Duration `yaml:"max_age"`
}

// timeout is the gate's waybill.timeout for the scenario.
func (w *WaybillService) timeout() time.Duration {
	if w.Timeout != nil {
		return w.Timeout.D()
	}
	return config.DefaultWaybill().Timeout.D()
}

// validateWaybillService checks `waybill_service:` and the appointments
// setting.
func (s *Scenario) validateWaybillService(bad func(field, format string, args ...any)) {
	switch s.Settings.Appointments {
	case "", checks.AppointmentsOff, checks.AppointmentsOptional, checks.AppointmentsRequired:
	default:
		bad("settings.appointments", "%q is not off, optional or required", s.Settings.Appointments)
	}
	w := s.WaybillService
	if w == nil {
		return
	}
	for _, p := range (&registry.Snapshot{Waybills: w.Waybills}).Validate() {
		bad("waybill_service."+p.Field, "%s", p.Msg)
	}
	known := map[string]bool{}
	for _, x := range s.Registry.Waybills {
		known[x.Number] = true
	}
	for i, x := range w.Waybills {
		if known[x.Number] {
			bad(fmt.Sprintf("waybill_service.waybills[%d].number", i), "%s is in the registry too: give the service's only here", x.Number)
		}
		known[x.Number] = true
	}
	for i, n := range w.Cancel {
		if !known[n] {
			bad(fmt.Sprintf("waybill_service.cancel[%d]", i), "%q is neither a registry waybill nor one of the service's", n)
		}
	}
	for _, d := range []struct {
		field string
		d     *config.Duration
	}{{"waybill_service.timeout", w.Timeout}, {"waybill_service.max_age", w.MaxAge}} {
		if d.d != nil && *d.d <= 0 {
			bad(d.field, "%v: must be more than 0", d.d.D())
		}
	}
	// An answer at the very instant the gate gives up would race it.
	if w.Delay.D() == w.timeout() {
		bad("waybill_service.delay", "%v is the timeout: make it shorter (answers) or longer (too slow)", w.Delay.D())
	}
}

// simWaybills are the simulator's waybill service and the gate's looker
// on it.
type simWaybills struct {
	svc    *simhttp.Waybill
	looker *waybill.Looker
	parked parked
}

// startWaybillService starts the scenario's waybill service, if it has
// one, before the gate is configured.
func (e *Engine) startWaybillService(st *store.Store) error {
	w := e.sc.WaybillService
	if w == nil {
		return nil
	}
	ws := &simWaybills{}
	all := append(append([]registry.Waybill(nil), e.sc.Registry.Waybills...), w.Waybills...)
	svc, err := simhttp.NewWaybill(waybillParkClock{e, ws}, all)
	if err != nil {
		return fmt.Errorf("sim: waybill service: %w", err)
	}
	e.cleanup = append(e.cleanup, func() { svc.Close() })
	for _, n := range w.Cancel {
		svc.Cancel(n)
	}
	svc.SetDelay(w.Delay.D())
	svc.SetDown(w.Down)
	ws.svc = svc
	c, err := waybill.NewClient(waybill.Config{URL: svc.URL(), Timeout: w.timeout(), Clock: waybillWakeClock{e, ws}})
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	ws.looker = &waybill.Looker{Client: c, Store: st, MaxAge: w.maxAge(), Clock: e.clk, Log: e.log.With("component", "waybill")}
	e.waybills = ws
	return nil
}

// maxAge is the gate's waybill.max_age for the scenario.
func (w *WaybillService) maxAge() time.Duration {
	if w.MaxAge != nil {
		return w.MaxAge.D()
	}
	return config.DefaultWaybill().MaxAge.D()
}

// configureWaybills sets the gate's waybill section for the service.
func (e *Engine) configureWaybills(c *config.Config) {
	if e.waybills == nil {
		return
	}
	w := e.sc.WaybillService
	c.Waybill.URL = e.waybills.svc.URL()
	c.Waybill.Timeout = config.Duration(w.timeout())
	c.Waybill.MaxAge = config.Duration(w.maxAge())
}

// waybillLooker is the lanes' looker: the gate's own kind, on a client
// whose timeout wakes the loop (as the face matcher's does), counted as
// work while it runs in real time; nil without a waybill service.
func (e *Engine) waybillLooker() lane.WaybillLooker {
	if e.waybills == nil {
		return nil
	}
	return simLooker{e: e, ws: e.waybills}
}

// simLooker counts each lookup as work until it answers; while the
// service holds a request on its clock, the request is parked and does
// not count (waybillParkClock).
type simLooker struct {
	e  *Engine
	ws *simWaybills
}

func (s simLooker) Lookup(ctx context.Context, laneName, number string, done func(checks.WaybillLookup)) {
	s.e.faceWork(1)
	s.ws.looker.Lookup(ctx, laneName, number, func(l checks.WaybillLookup) {
		done(l)
		s.e.faceWork(-1)
	})
}

// waybillParkClock is the service's clock: a delayed answer is parked
// until its timer fires on the scenario's clock (see parkClock).
type waybillParkClock struct {
	e  *Engine
	ws *simWaybills
}

func (c waybillParkClock) Now() time.Time { return c.e.clk.Now() }

func (c waybillParkClock) AfterFunc(d time.Duration, f func()) clock.Timer {
	t := c.ws.parked.add(c.e.clk, d, func() { c.e.faceWork(1); f() })
	c.e.faceWork(-1)
	return t
}

// waybillWakeClock is the client's clock: when its timeout fires, the
// parked request is dropped and the client works again in real time (see
// wakeClock).
type waybillWakeClock struct {
	e  *Engine
	ws *simWaybills
}

func (c waybillWakeClock) Now() time.Time { return c.e.clk.Now() }

func (c waybillWakeClock) AfterFunc(d time.Duration, f func()) clock.Timer {
	return c.e.clk.AfterFunc(d, func() { c.ws.parked.drop(); c.e.faceWork(1); f() })
}
