package sim

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/config"
	"github.com/hazgate/hazgate/gate"
	"github.com/hazgate/hazgate/lane"
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
}

// Report is a run's result, the JSON that -report writes.
type Report struct {
	Scenario    string        `json:"scenario"`
	Inspections []ReportEntry `json:"inspections"`
	Passed      int           `json:"passed"`
	Failed      int           `json:"failed"`
}

// ReportEntry is one arrival's outcome.
type ReportEntry struct {
	Lane         string                     `json:"lane"`
	Plate        string                     `json:"plate"`
	Trailer      string                     `json:"trailer"`
	Verdict      checks.Verdict             `json:"verdict"`
	Checks       map[string]ReportCheck     `json:"checks"`
	Expect       *Expect                    `json:"expect"`
	OK           bool                       `json:"ok"`
	InspectionID string                     `json:"inspection_id,omitempty"`
	At           float64                    `json:"at_s"`
	DecidedAfter float64                    `json:"decided_after_s"`
	Failed       []string                   `json:"failed"`
	Crossed      bool                       `json:"crossed"`
	Alarms       []string                   `json:"alarms"`
	Messages     map[string][]checks.Reason `json:"-"`
}

// ReportCheck is one check's result in a report.
type ReportCheck struct {
	Result  checks.Result `json:"result"`
	Reasons []string      `json:"reasons"`
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
	gate    *gate.Gate
	st      *store.Store
	lanes   map[string]*simLane
	persons map[string]registry.Person
	log     *slog.Logger
	id      int64  // tells apart the pins of engines in one process
	devDir  string // where the serial devices' paths are
	plates  *plateCamera

	cancel  context.CancelFunc
	wg      sync.WaitGroup
	devWG   sync.WaitGroup
	cleanup []func()

	// The real-time devices' deliveries (hardware.go).
	dev        sync.Mutex
	devChanged chan struct{}
	faceBusy   int
	actions    []func()
	faultErr   error // loop goroutine only
	closing    atomic.Bool

	mu       sync.Mutex
	vehicles []*vehicle
	done     int

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
	e.st = st
	if err := st.ImportSnapshot(ctx, &sc.Registry, "scenario "+sc.file, e.clk.Now()); err != nil {
		return nil, fmt.Errorf("sim: registry: %w", err)
	}
	for _, p := range sc.Registry.Persons {
		e.persons[p.IDNumber] = p
	}
	cfg := e.config()
	e.loc = cfg.Location()
	if e.plates, err = newPlateCamera(); err != nil {
		return nil, err
	}
	e.cleanup = append(e.cleanup, e.plates.close)
	e.gate, err = gate.Assemble(ctx, cfg, st, hardware{e}, gate.Options{
		Log: log, Clock: e.clk,
		UplinkClock: WallTimers{Fake: e.clk}, // status and telemetry paced on the wall clock
		Observer: &gate.Observer{
			Decided: func(laneName, id string, out checks.Outcome, at time.Time) {
				if v := e.lanes[laneName].current(); v != nil {
					e.decided(v, out, id, at)
				}
			},
			Alarm:   func(laneName, kind string) { e.lanes[laneName].alarm(kind) },
			Changed: func(s lane.Snapshot) { e.lanes[s.Lane].changed(s) },
		},
	})
	if err != nil {
		return nil, err
	}
	e.plates.serve(e.gate.PlatePush)
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
	return e, nil
}

// Gate is the simulated gate, assembled as the appliance's is.
func (e *Engine) Gate() *gate.Gate { return e.gate }

// Clock is the scenario's fake clock.
func (e *Engine) Clock() *clock.Fake { return e.clk }

// Store is the store the scenario records into.
func (e *Engine) Store() *store.Store { return e.st }

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
	for i, a := range sc.Arrivals {
		v := &vehicle{index: i, a: a}
		e.vehicles = append(e.vehicles, v)
		l := e.lanes[a.Lane]
		e.clk.AfterFunc(a.At.D(), func() { l.arrive(v) })
	}
	e.scheduleFaults()
	if err := e.loop(ctx); err != nil {
		return nil, err
	}
	if e.faultErr != nil {
		return nil, e.faultErr
	}
	return e.report(), nil
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
	c.Checks.OpenHours = s.OpenHours
	c.MQTT.Broker, c.MQTT.ClientID = e.opt.Broker, e.opt.ClientID
	for _, name := range e.sc.Lanes() {
		dir := lane.DirectionIn
		if IsExit(name) {
			dir = lane.DirectionOut
		}
		c.Lanes = append(c.Lanes, config.Lane{Name: name, Direction: dir, Deadline: c.Deadline, PlateToken: plateToken(name)})
	}
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

// loop advances the fake clock from event to event, pacing by Speed, until
// every vehicle has finished. Between two steps it lets the devices deliver
// what the step caused and every lane settle (settle), so that nothing that
// happens in real time decides what happens at which simulated instant.
func (e *Engine) loop(ctx context.Context) error {
	last := e.sc.Arrivals[0].At.D()
	for _, a := range e.sc.Arrivals {
		last = max(last, a.At.D())
	}
	limit := e.start.Add(last + 24*time.Hour)
	wallStart, simStart := time.Now(), e.clk.Now()
	var restBy time.Time // once every vehicle is done: how long barriers may take to come to rest
	for {
		if err := e.settle(ctx); err != nil {
			return err
		}
		if e.allDone() {
			// The last barrier may still be closing behind its
			// vehicle: let it finish, so that the lanes (the kiosk,
			// the retained status) are left at rest.
			if restBy.IsZero() {
				restBy = e.clk.Now().Add(barrierRest)
			}
			if e.barriersAtRest() {
				return nil
			}
		}
		next, ok := e.clk.Next()
		if !ok && !restBy.IsZero() {
			return nil
		}
		if !ok {
			return fmt.Errorf("sim: %s: stuck at %s with %s unfinished", e.sc.Name, e.offset(e.clk.Now()), e.unfinished())
		}
		if !restBy.IsZero() && next.After(restBy) {
			return nil
		}
		if next.After(limit) {
			return fmt.Errorf("sim: %s: still running a day after the last arrival; unfinished: %s", e.sc.Name, e.unfinished())
		}
		if e.opt.Speed > 0 {
			due := wallStart.Add(time.Duration(float64(next.Sub(simStart)) / e.opt.Speed))
			if d := time.Until(due); d > 0 {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(d):
				}
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		e.clk.AdvanceTo(next)
	}
}

// barrierRest bounds how long the run goes on after the last vehicle for
// the barriers to come to rest.
const barrierRest = time.Minute

// barriersAtRest reports whether no lane's barrier is opening or closing.
func (e *Engine) barriersAtRest() bool {
	for _, l := range e.lanes {
		switch l.gl.Runner.Snapshot().BarrierReported {
		case lane.BarrierOpening, lane.BarrierClosing:
			return false
		}
	}
	return true
}

// Transit is one vehicle's time from pulling up onto the arrival loop to
// the barrier commanded up for it, on the scenario's clock and on the wall
// clock (docs/benchmarks.md, "Inspection time").
type Transit struct {
	Lane, Plate string
	Verdict     checks.Verdict
	Sim, Wall   time.Duration
}

// Transits are the run's vehicles whose barrier was commanded up, in
// arrival order. Call it after Run.
func (e *Engine) Transits() []Transit {
	var out []Transit
	for _, v := range e.vehicles {
		l := e.lanes[v.a.Lane]
		l.mu.Lock()
		t := Transit{Lane: v.a.Lane, Plate: v.a.Plate, Sim: v.commandedAt.Sub(v.arrived), Wall: v.wallCommanded.Sub(v.wallArrived)}
		commanded := !v.wallCommanded.IsZero()
		l.mu.Unlock()
		if !commanded {
			continue
		}
		e.mu.Lock()
		if v.outcome != nil {
			t.Verdict = v.outcome.Verdict
		}
		e.mu.Unlock()
		out = append(out, t)
	}
	return out
}

func (e *Engine) allDone() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.done == len(e.vehicles)
}

func (e *Engine) unfinished() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var s []string
	for _, v := range e.vehicles {
		if !v.finished {
			s = append(s, fmt.Sprintf("arrivals[%d] (%s %s)", v.index, v.a.Lane, v.a.Plate))
		}
	}
	return strings.Join(s, ", ")
}

func (e *Engine) offset(t time.Time) string {
	d := t.Sub(e.start).Round(time.Second)
	return fmt.Sprintf("%02d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
}

// decided notes a vehicle's verdict and prints its progress line.
func (e *Engine) decided(v *vehicle, out checks.Outcome, id string, at time.Time) {
	e.mu.Lock()
	v.outcome = &out
	v.decidedAt = at
	e.mu.Unlock()
	if e.opt.Progress == nil {
		return
	}
	// Whether it crosses, and its alarms, are judged when it has left.
	entry := e.entry(v)
	mark := "ok"
	if x := v.a.Expect; x != nil && !matches(entry, &Expect{Verdict: x.Verdict, Failed: x.Failed}) {
		mark = "DIFFERS from expected " + expectString(v.a.Expect)
	}
	detail := ""
	if f := out.Failed(); len(f) > 0 {
		detail = " failed " + strings.Join(f, ",")
	} else if out.Verdict == checks.VerdictReview {
		detail = " " + strings.Join(unknownCodes(out), ",")
	}
	e.printf("[%s] %s %s %-6s after %4.0fs  %s%s\n", e.offset(at), pad(v.a.Lane, 6), pad(plateString(v.a), 22), out.Verdict, at.Sub(v.arrived).Seconds(), mark, detail)
}

// printf prints a progress line (from any goroutine).
func (e *Engine) printf(format string, args ...any) {
	if e.opt.Progress == nil {
		return
	}
	e.out.Lock()
	defer e.out.Unlock()
	fmt.Fprintf(e.opt.Progress, format, args...)
}

// note prints a progress line about a vehicle.
func (e *Engine) note(v *vehicle, what string) {
	e.printf("[%s] %s %s %s\n", e.offset(e.clk.Now()), pad(v.a.Lane, 6), pad(plateString(v.a), 22), what)
}

func (e *Engine) finished(v *vehicle) {
	e.mu.Lock()
	e.done++
	decided := v.outcome != nil
	e.mu.Unlock()
	if decided {
		if x := v.a.Expect; x != nil && (x.Crossed != nil || x.Alarms != nil) {
			if entry := e.entry(v); !entry.OK {
				e.printf("[%s] %s %s left (crossed %t, alarms %v)  DIFFERS from expected %s\n", e.offset(e.clk.Now()), pad(v.a.Lane, 6), pad(plateString(v.a), 22), entry.Crossed, entry.Alarms, expectString(x))
			}
		}
		return
	}
	if e.opt.Progress != nil {
		// An exit, or a vehicle that left before any verdict.
		entry := e.entry(v)
		mark := "ok"
		if !entry.OK {
			mark = "DIFFERS from expected " + expectString(v.a.Expect)
		}
		what := "left without a verdict"
		if v.opened {
			what = "exit   opened"
		}
		e.printf("[%s] %s %s %s  %s\n", e.offset(e.clk.Now()), pad(v.a.Lane, 6), pad(plateString(v.a), 22), what, mark)
	}
}

func unknownCodes(out checks.Outcome) []string {
	var codes []string
	for _, c := range out.Checks {
		if c.Result == checks.Unknown {
			for _, r := range c.Codes() {
				if !slices.Contains(codes, r) {
					codes = append(codes, r)
				}
			}
		}
	}
	for _, r := range out.Reasons {
		codes = append(codes, r.Code)
	}
	return codes
}

func plateString(a Arrival) string {
	if a.Trailer != "" {
		return a.Plate + "/" + a.Trailer
	}
	if a.Plate == "" {
		return "(no plate)"
	}
	return a.Plate
}

func expectString(x *Expect) string {
	if x == nil {
		return "(none)"
	}
	s := string(x.Verdict)
	if x.Failed != nil {
		s += " failed [" + strings.Join(*x.Failed, ",") + "]"
	}
	if x.Crossed != nil {
		s += map[bool]string{true: " crossed", false: " not crossed"}[*x.Crossed]
	}
	if x.Alarms != nil {
		s += " alarms [" + strings.Join(*x.Alarms, ",") + "]"
	}
	return s
}

// entry is a vehicle's line in the report.
func (e *Engine) entry(v *vehicle) ReportEntry {
	r := ReportEntry{Lane: v.a.Lane, Plate: v.a.Plate, Trailer: v.a.Trailer, Checks: map[string]ReportCheck{}, Expect: v.a.Expect, At: v.a.At.D().Seconds(), Failed: []string{}}
	if l := e.lanes[v.a.Lane]; l != nil {
		l.mu.Lock()
		r.Crossed = v.opened
		r.Alarms = slices.Compact(slices.Sorted(slices.Values(v.alarms)))
		l.mu.Unlock()
	}
	if r.Alarms == nil {
		r.Alarms = []string{}
	}
	switch {
	case v.outcome != nil:
		r.Verdict = v.outcome.Verdict
		for _, c := range v.outcome.Checks {
			r.Checks[c.ID] = ReportCheck{Result: c.Result, Reasons: c.Codes()}
		}
		if f := v.outcome.Failed(); f != nil {
			r.Failed = f
		}
		r.DecidedAfter = v.decidedAt.Sub(v.arrived).Seconds()
	case IsExit(v.a.Lane) && v.opened:
		r.Verdict = checks.VerdictPass // exits run no checks: recorded and opened
	default:
		r.Verdict = checks.VerdictReview // held for the operator, or left undecided
	}
	r.OK = matches(r, v.a.Expect)
	return r
}

// matches compares an entry with its expectation: the verdict, and when
// given, the exact set of failed checks. No expectation always matches.
func matches(r ReportEntry, x *Expect) bool {
	if x == nil {
		return true
	}
	if r.Verdict != x.Verdict {
		return false
	}
	if x.Crossed != nil && *x.Crossed != r.Crossed {
		return false
	}
	if x.Alarms != nil && !sameSet(*x.Alarms, r.Alarms) {
		return false
	}
	return x.Failed == nil || sameSet(*x.Failed, r.Failed)
}

// sameSet compares two lists as sets.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	sort.Strings(a)
	sort.Strings(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

func (e *Engine) report() *Report {
	rep := &Report{Scenario: e.sc.Name, Inspections: []ReportEntry{}}
	for _, v := range e.vehicles {
		r := e.entry(v)
		rep.Inspections = append(rep.Inspections, r)
		if r.OK {
			rep.Passed++
		} else {
			rep.Failed++
		}
	}
	return rep
}
