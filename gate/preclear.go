package gate

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/config"
	"github.com/hazgate/hazgate/record"
	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/store"
)

// preclearPoll is how often the pre-clearer looks whether the registry
// changed (an appointment arrived in a sync or a delta), a window's lead
// time came, or a recheck is due. A look that finds nothing to do reads
// nothing but the in-memory registry's pointer.
const preclearPoll = 30 * time.Second

// Preclearer pre-clears the registry's appointments (docs/design.md,
// "Pre-clearance"): each approved appointment whose window has not ended
// is judged by the record keeper (record.Keeper.Preclear) when it arrives
// or the registry changes, again when its window opens within the lead
// time, and from then every recheck until its window ends. The keeper publishes a
// result only when it differs from the appointment's last one.
type Preclearer struct {
	Keeper *record.Keeper
	Store  *store.Store
	Clock  clock.Clock
	// Find looks waybills up in the waybill service (nil: none
	// configured, the registry's copy is judged).
	Find record.WaybillFinder
	// Lead and Recheck: config.Preclearance.
	Lead, Recheck time.Duration
	Log           *slog.Logger

	mu        sync.Mutex // one pass at a time
	loaded    bool
	latest    map[string]store.Preclearance // by appointment id
	judged    map[string]time.Time          // when each appointment was last judged
	scheduled map[string]bool               // judged within its lead time
	seen      *registry.Index               // the registry of the last pass
	fmu       sync.Mutex                    // guards first, apart from the passes
	firstOnce sync.Once
	first     chan struct{}
}

// assemblePreclear builds the gate's pre-clearer, unless the
// configuration turns it off.
func (g *Gate) assemblePreclear(cfg *config.Config, st *store.Store, opt Options) {
	if cfg.Preclearance.Off {
		return
	}
	p := &Preclearer{Keeper: g.Keeper, Store: st, Clock: opt.Clock, Lead: cfg.Preclearance.Lead.D(),
		Recheck: cfg.Preclearance.Recheck.D(), Log: opt.Log.With("component", "preclearance")}
	if l := g.Waybills; l != nil {
		p.Find = func(ctx context.Context, number string) checks.WaybillLookup { return l.Find(ctx, "", number) }
	}
	g.Preclear = p
}

// FirstPass is closed once the first pass after Run started has ended.
func (p *Preclearer) FirstPass() <-chan struct{} { return p.firstChan() }

func (p *Preclearer) firstChan() chan struct{} {
	p.fmu.Lock()
	defer p.fmu.Unlock()
	if p.first == nil {
		p.first = make(chan struct{})
	}
	return p.first
}

// Run passes at once, then every preclearPoll on the gate's clock, until
// ctx ends; it returns after the pass under way.
func (p *Preclearer) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	due := make(chan struct{}, 1)
	var timer clock.Timer
	var tmu sync.Mutex
	arm := func() {
		tmu.Lock()
		defer tmu.Unlock()
		if ctx.Err() != nil {
			return
		}
		if timer != nil {
			timer.Stop() // woken by a registry change before it fired
		}
		timer = p.Clock.AfterFunc(preclearPoll, func() {
			select {
			case due <- struct{}{}:
			default:
			}
		})
	}
	defer func() {
		tmu.Lock()
		if timer != nil {
			timer.Stop()
		}
		tmu.Unlock()
	}()
	first := p.firstChan()
	for {
		// Taken before the pass reads the registry, so that a registry
		// swapped in during the pass is not missed.
		changed := p.Store.RegistryChanged()
		p.Pass(ctx)
		p.firstOnce.Do(func() { close(first) })
		arm()
		// A registry swapped in (an appointment arrived in a sync or a
		// delta) is judged at once, not at the next poll.
		select {
		case <-ctx.Done():
			return
		case <-due:
		case <-changed:
		}
	}
}

// Pass judges the appointments that are due (see Preclearer) and returns
// how many results it published.
func (p *Preclearer) Pass(ctx context.Context) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.loaded {
		latest, err := p.Store.LatestPreclearances(ctx)
		if err != nil {
			// Each appointment is then judged as new: a result may be
			// published again, never lost.
			p.Log.Error("the last pre-clearances could not be read", "err", err)
			latest = map[string]store.Preclearance{}
		}
		p.latest, p.judged, p.scheduled, p.loaded = latest, map[string]time.Time{}, map[string]bool{}, true
		for id, pc := range latest {
			p.judged[id] = pc.JudgedAt
		}
	}
	ix, err := p.Store.Lookup(ctx, checks.Evidence{})
	if err != nil || ix == nil {
		p.Log.Error("registry unreadable: no appointment is pre-cleared now", "err", err)
		return 0
	}
	changed := ix != p.seen
	now := p.Clock.Now()
	loc := p.Keeper.Params.Location
	published := 0
	for _, a := range ix.AllAppointments() {
		if ctx.Err() != nil {
			break
		}
		if !a.Approved() || !a.Until.ValidUntil(now, loc) {
			continue // only an approved appointment lets a vehicle in; an ended window is over
		}
		prev, have := p.latest[a.ID]
		inLead := !now.Before(a.From.Start(loc).Add(-p.Lead))
		var trigger string
		switch {
		case !have || changed:
			trigger = store.PreclearRegistry
		case inLead && !p.scheduled[a.ID]:
			trigger = store.PreclearSchedule
		case inLead && now.Sub(p.judged[a.ID]) >= p.Recheck:
			trigger = store.PreclearRecheck
		default:
			continue
		}
		var prevp *store.Preclearance
		if have {
			prevp = &prev
		}
		pc, pub, err := p.Keeper.Preclear(ctx, a, trigger, now, prevp, p.Find)
		if err != nil {
			p.Log.Error("a pre-clearance could not be recorded", "appointment", a.ID, "plate", a.Plate, "err", err)
			continue
		}
		p.judged[a.ID] = now
		if inLead {
			p.scheduled[a.ID] = true
		}
		if pub {
			p.latest[a.ID] = pc
			published++
			p.Log.Info("pre-clearance published", "appointment", a.ID, "plate", a.Plate, "verdict", pc.Verdict, "trigger", trigger)
		}
	}
	p.seen = ix
	return published
}
