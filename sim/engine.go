package sim

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/config"
	"github.com/hazgate/hazgate/gate"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/prompt"
	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/store"
)

// Options control a scenario run.
type Options struct {
	// Speed is how many times faster than real time the scenario runs;
	// 0 runs as fast as the machine can. Verdicts never depend on it.
	Speed float64
	// DB is the SQLite file to record into; empty uses a temporary file
	// that is removed afterwards.
	DB string
	// Progress receives a line per vehicle as it is decided (nil: none).
	Progress io.Writer
	// Log receives the gate's structured log (nil: discarded).
	Log *slog.Logger
	// Gate names the simulated gate in records (default "sim").
	Gate string
	// Store, when set, is used instead of opening DB (the caller keeps it
	// open afterwards, e.g. for the kiosk). It should use Clock.
	Store *store.Store
	// Clock, when set, is the fake clock to run on (it must stand at the
	// scenario's clock); by default New makes one.
	Clock *clock.Fake
	// Park names the simulated park (default "demo"): the MQTT root is
	// hazgate/<park>/<gate>.
	Park string
	// Broker, when set, is the MQTT broker the gate publishes to (its
	// uplink, as on the appliance), with ClientID.
	Broker, ClientID string
	// RegistryKey, with Broker, is the simulated platform's registry
	// key: the gate trusts only registry data it signed, and New returns
	// once the gate applied the platform's signed sync (registry.go).
	RegistryKey ed25519.PrivateKey
	// TakeRegistry has New hand the scenario's vehicles and tanks over
	// to the store's import, which reuses them in place, and let go of
	// them: the scenario's Registry.Vehicles and Registry.Tanks are nil
	// after New (nothing in the run reads them; its persons, waybills
	// and appointments are kept). For a caller that runs its scenario
	// once (`hazgate sim`): a city's registry is then not held twice
	// over while it is imported, nor beside the store's index during the
	// run (docs/benchmarks.md "Footprint").
	TakeRegistry bool
}

// Engine is one scenario run: the gate, its lanes and the simulated devices
// on a fake clock. New sets it up; Run plays the arrivals; Close ends it.
type Engine struct {
	sc      *Scenario
	opt     Options
	clk     *clock.Fake
	timings Timings
	start   time.Time
	loc     *time.Location
	words   prompt.Words // the displays' and voice boards' (voice.go)
	gate    *gate.Gate
	lanes   map[string]*simLane
	persons map[string]registry.Person
	log     *slog.Logger
	id      int64  // tells apart the pins of engines in one process
	devDir  string // where the serial devices' paths are
	plates  *plateCamera
	// clockSrc is the simulated clock's sync status (clockfault.go).
	clockSrc *clock.FakeSource
	// waybills is the scenario's waybill service (nil: none).
	waybills *simWaybills

	cancel  context.CancelFunc
	wg      sync.WaitGroup
	cleanup []func()

	// The real-time devices' deliveries (hardware.go).
	dev        sync.Mutex
	devChanged chan struct{}
	faceBusy   int // face matches and waybill lookups at work in real time
	actions    []func()
	faultErr   error // loop goroutine only
	closing    atomic.Bool

	mu       sync.Mutex
	vehicles []*vehicle
	done     int
	orphans  []Rejection // rejected while no vehicle was at the lane
	raised   []string    // every alarm kind raised in the run, in order

	out sync.Mutex // serialises progress lines
}

var engines atomic.Int64

// Run runs the scenario against the real lane machine, checks and store on a
// fake clock, and returns the report.
func Run(ctx context.Context, sc *Scenario, opt Options) (*Report, error) {
	e, err := New(ctx, sc, opt)
	if err != nil {
		return nil, err
	}
	defer e.Close()
	return e.Run(ctx)
}

// New opens the store (or takes Options.Store), loads the scenario's
// registry and starts one lane runner per lane, idle until Run.
func New(ctx context.Context, sc *Scenario, opt Options) (_ *Engine, err error) {
	e := &Engine{sc: sc, opt: opt, clk: opt.Clock, timings: sc.Timings.merged(), start: sc.Clock.Time, lanes: map[string]*simLane{}, persons: map[string]registry.Person{},
		id: engines.Add(1), devChanged: make(chan struct{})}
	if e.clk == nil {
		e.clk = clock.NewFake(sc.Clock.Time)
	}
	e.clockSrc = clock.NewFakeSource(e.clk)
	defer func() {
		if err != nil {
			e.Close()
		}
	}()
	if opt.Gate == "" {
		opt.Gate = "sim"
	}
	if opt.Park == "" {
		opt.Park = "demo"
	}
	e.opt = opt
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e.log = log
	devDir, err := os.MkdirTemp("", "hazgate-sim-dev-")
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	e.cleanup = append(e.cleanup, func() { os.RemoveAll(devDir) })
	e.devDir = devDir
	st := opt.Store
	if st == nil {
		path := opt.DB
		if path == "" {
			dir, err := os.MkdirTemp("", "hazgate-sim-")
			if err != nil {
				return nil, fmt.Errorf("sim: %w", err)
			}
			e.cleanup = append(e.cleanup, func() { os.RemoveAll(dir) })
			path = filepath.Join(dir, "sim.db")
		}
		st, err = store.Open(ctx, path, store.WithClock(e.clk))
		if err != nil {
			return nil, err
		}
		e.cleanup = append(e.cleanup, func() { st.Close() })
	}
	if err := e.importRegistry(ctx, st); err != nil {
		return nil, err
	}
	for _, p := range sc.Registry.Persons {
		e.persons[p.IDNumber] = p
	}
	if err := e.startWaybillService(st); err != nil {
		return nil, err
	}
	cfg := e.config()
	e.loc = cfg.Location()
	e.words = cfg.Words()
	if e.plates, err = newPlateCamera(sc.Settings.PlateCamera); err != nil {
		return nil, err
	}
	e.cleanup = append(e.cleanup, e.plates.close)
	e.gate, err = gate.Assemble(ctx, cfg, st, hardware{e}, gate.Options{
		Log: log, Clock: e.clk,
		UplinkClock: WallTimers{Fake: e.clk}, // status and telemetry paced on the wall clock
		ClockSource: e.clockSrc,              // synchronised unless a clock fault says otherwise
		Observer: &gate.Observer{
			Decided: func(laneName, id string, out checks.Outcome, at time.Time) {
				if v := e.lanes[laneName].current(); v != nil {
					e.decided(v, out, id, at)
				}
			},
			Alarm: func(laneName, kind string) {
				e.mu.Lock()
				e.raised = append(e.raised, kind)
				e.mu.Unlock()
				if l := e.lanes[laneName]; l != nil {
					l.alarm(kind)
				}
			},
			Changed: func(s lane.Snapshot) { e.lanes[s.Lane].displayed(s); e.lanes[s.Lane].changed(s) },
		},
	})
	if err != nil {
		return nil, err
	}
	e.plates.serve(e.gate.PlatePush)
	e.startHeartbeats() // plate.go
	// The pins' and the barrier's initial states reach each lane before
	// anything else, as their drivers' Run reports them.
	for _, name := range sc.Lanes() {
		e.lanes[name].initialState()
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	e.cancel = cancel
	e.wg.Go(func() {
		if err := e.gate.Run(rctx); err != nil {
			log.Error("the simulated gate stopped", "err", err)
		}
	})
	if e.opt.RegistryKey != nil && e.opt.Broker != "" {
		if err := e.syncRegistry(ctx); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Gate is the simulated gate, assembled as the appliance's is.
func (e *Engine) Gate() *gate.Gate { return e.gate }

// Clock is the scenario's fake clock.
func (e *Engine) Clock() *clock.Fake { return e.clk }

// Store is the store the scenario records into.
func (e *Engine) Store() *store.Store { return e.gate.Store }

// Close stops the lanes and closes what New opened. The lanes keep running
// (and serving the kiosk) until Close.
func (e *Engine) Close() {
	if e.cancel != nil {
		e.cancel() // the lanes, their devices (runDevices) and the uplink
	}
	e.wg.Wait()
	for i := len(e.cleanup) - 1; i >= 0; i-- {
		e.cleanup[i]()
	}
	e.cleanup = nil
}

// Run plays the scenario's arrivals until every vehicle has finished and
// returns the report.
func (e *Engine) Run(ctx context.Context) (*Report, error) {
	sc := e.sc
	if err := e.awaitPreclear(ctx); err != nil { // preclear.go
		return nil, err
	}
	for i, a := range sc.Arrivals {
		v := &vehicle{index: i, a: a}
		e.vehicles = append(e.vehicles, v)
		l := e.lanes[a.Lane]
		e.clk.AfterFunc(a.At.D(), func() { l.arrive(v) })
	}
	e.scheduleFaults()
	e.scheduleEvacuation() // evacuation.go
	if err := e.loop(ctx); err != nil {
		return nil, err
	}
	if e.faultErr != nil {
		return nil, e.faultErr
	}
	rep := e.report()
	e.preclearReport(ctx, rep) // preclear.go
	return rep, nil
}

// config is the simulated gate's configuration: the defaults with the
// scenario's settings, one lane per lane name of the arrivals (a name that
// starts with "out" is an exit), each with its plate camera's token.
func (e *Engine) config() *config.Config {
	c := config.Default()
	c.Park, c.Gate = e.opt.Park, e.opt.Gate
	s := e.sc.Settings
	if s.Timezone != "" {
		c.Timezone = s.Timezone
	}
	if s.Deadline != nil {
		c.Deadline = *s.Deadline
	}
	if s.FaceThreshold != nil {
		c.Checks.FaceThreshold = *s.FaceThreshold
	}
	if s.RegistryMaxAge != nil {
		c.RegistryMaxAge = *s.RegistryMaxAge
	}
	if s.MaxStay != nil {
		c.Presence.MaxStay = *s.MaxStay
	}
	c.Checks.OpenHours = s.OpenHours
	if s.WeightTolerance != nil {
		c.Checks.WeightTolerance = *s.WeightTolerance
	}
	c.Checks.Appointments = s.Appointments
	e.configureWaybills(&c)
	c.Clock = simClock()
	c.MQTT.Broker, c.MQTT.ClientID = e.opt.Broker, e.opt.ClientID
	c.MQTT.RegistryKeys = e.opt.registryKeys()
	for _, name := range e.sc.Lanes() {
		dir := lane.DirectionIn
		if IsExit(name) {
			dir = lane.DirectionOut
		}
		l := config.Lane{Name: name, Direction: dir, Deadline: c.Deadline, Scale: e.scaleConfig(name)}
		e.plateCameraConfig(&l) // plate.go
		c.Lanes = append(c.Lanes, l)
	}
	c.Checks.RequirePlacard = s.RequirePlacard
	return &c
}

// card is the ID card the simulated reader makes for a presenter: the
// registry person's card fields, overridden by the arrival's.
func (e *Engine) card(p *Presenter) checks.PersonEvidence {
	reg := e.persons[p.IDNumber]
	c := checks.PersonEvidence{IDNumber: p.IDNumber, Name: reg.Name, CardValidFrom: reg.CardValidFrom, CardValidUntil: reg.CardValidUntil}
	if c.Name == "" {
		c.Name = "未登记"
	}
	if p.Name != "" {
		c.Name = p.Name
	}
	if p.CardValidFrom != nil {
		c.CardValidFrom = *p.CardValidFrom
	}
	if p.CardValidUntil != nil {
		c.CardValidUntil = *p.CardValidUntil
	}
	return c
}

// importRegistry imports the scenario's registry into st (see
// Options.TakeRegistry).
func (e *Engine) importRegistry(ctx context.Context, st *store.Store) error {
	sc := e.sc
	reg, opts := &sc.Registry, []store.ImportOption(nil)
	if e.opt.TakeRegistry {
		// The records the run reads after (persons, waybills) are
		// copied, not handed over; the import takes the rest in place.
		own := sc.Registry
		own.Persons, own.Waybills = slices.Clone(own.Persons), slices.Clone(own.Waybills)
		reg, opts = &own, []store.ImportOption{store.ConsumeSnapshot}
	}
	if err := st.ImportSnapshot(ctx, reg, "scenario "+sc.file, e.clk.Now(), opts...); err != nil {
		return fmt.Errorf("sim: registry: %w", err)
	}
	if e.opt.TakeRegistry {
		sc.Registry.Vehicles, sc.Registry.Tanks = nil, nil
	}
	return nil
}
