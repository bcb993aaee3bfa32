// Package gate assembles one gate, once: the record keeper, one lane runner
// per configured lane with its devices, the lanes as the kiosk and the
// uplink see them, the lock-down kept in the store, the plate push endpoint
// and the MQTT uplink. `hazgate run` (package appliance, with the real
// devices), `hazgate sim` (package sim, with simulated devices on the same
// drivers) and the kiosk's tests all build their gate with Assemble.
//
// Devices reach the lanes only through this package's adapters
// (devices.go): a card read, a scan, a loop or a barrier state becomes the
// lane's event here, and a device's fault or recovery its health here.
// Adding a device kind to a lane means one adapter here and one field in
// the hardware that runs it.
//
// Imported by appliance, sim, cmd/hazgate and tests; it imports the layers
// below it (record, lanes, uplink, lane, store, config, device/*), never
// kiosk.
package gate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/config"
	"github.com/hazgate/hazgate/device/facematch"
	"github.com/hazgate/hazgate/device/plate"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/lanes"
	"github.com/hazgate/hazgate/record"
	"github.com/hazgate/hazgate/store"
	"github.com/hazgate/hazgate/uplink"
	"github.com/hazgate/hazgate/waybill"
)

// Hardware builds each lane's devices: the real ones from the lane's
// configuration (appliance), or simulated ones (sim, tests).
type Hardware interface {
	// Devices builds the devices of lane l. They report to l's adapters
	// once their Run starts.
	Devices(l *Lane) (Devices, error)
}

// Devices are one lane's devices as the lane uses them.
type Devices struct {
	// Barrier is commanded by the lane. Required.
	Barrier lane.Barrier
	// Faces matches the people's faces (nil: none, every face unknown).
	Faces lane.FaceMatcher
	// Waybills, when set, replaces the gate's waybill looker for this
	// lane (the simulator's, which counts its work); used only when the
	// configuration names a waybill service.
	Waybills lane.WaybillLooker
	// Run runs the devices until ctx ends, delivering what they report
	// through the lane's adapters (nil: nothing to run).
	Run func(ctx context.Context)
	// Voice speaks the lane's prompts to the driver (nil: no voice
	// board; voice.go).
	Voice Speaker
}

// Options are what the caller adds to the configuration.
type Options struct {
	Log *slog.Logger
	// Clock is the gate's clock: the lanes' timers and every record.
	Clock clock.Clock
	// UplinkClock stamps payloads and paces telemetry (default Clock); the
	// simulator's tells the scenario's time on wall-clock timers.
	UplinkClock clock.Clock
	// Observer, when set, sees what the lanes decide and record (the
	// simulator's report).
	Observer *Observer
	// ClockSource, when set, says whether the wall clock is synchronised
	// (clock.Kernel on the appliance, the scenario's in the simulator):
	// the gate then watches its clock (clock.go). Nil: the clock is taken
	// to be right and nothing watches it.
	ClockSource clock.SyncSource
}

// Observer is told what each lane decided and recorded, after it was
// committed.
type Observer struct {
	// Decided: a verdict committed for an inspection on lane.
	Decided func(laneName, inspectionID string, out checks.Outcome, at time.Time)
	// Alarm: an alarm of kind committed on lane (a rejection, an
	// operator's opening, a device fault...); lane "" for the alarms that
	// belong to no vehicle's stay at a lane (double_entry, overstay).
	Alarm func(laneName, kind string)
	// Changed: a lane's snapshot changed (before the gate's watchers).
	Changed func(lane.Snapshot)
}

// Gate is one assembled gate.
type Gate struct {
	Config *config.Config
	Store  *store.Store
	Keeper *record.Keeper
	Lanes  *lanes.Set
	// Uplink is nil when the configuration names no broker.
	Uplink *uplink.Uplink
	// Photos are the card photos read at each lane, for the face matcher.
	Photos *facematch.Photos
	// PlatePush is the plate cameras' push endpoint (device/plate).
	PlatePush *plate.Handler
	// Waybills looks scanned waybills up in the waybill service; nil when
	// the configuration names none (gate/waybill.go).
	Waybills *waybill.Looker
	// Preclear pre-clears the appointments before their vehicles arrive;
	// nil when preclearance.off (gate/preclear.go).
	Preclear *Preclearer
	// Lockdown is the lock-down state found in the store at start, and
	// LockdownErr why it could not be read (every lane is then locked
	// down: the gate cannot know).
	Lockdown    store.LockdownState
	LockdownErr error
	// Evacuation is the evacuation found in the store at start (the lanes
	// carry it on), and EvacuationErr why it could not be read (none is
	// then started: it opens barriers).
	Evacuation    store.EvacuationState
	EvacuationErr error
	// ClockMonitor watches the wall clock (nil: Options.ClockSource was
	// not given).
	ClockMonitor *clock.Monitor

	clk         clock.Clock
	log         *slog.Logger
	lanes       []*Lane
	faultWindow time.Duration
	obs         *Observer
	watches     map[string]*cameraWatch // the plate cameras' silence, by lane (plate.go)
	parkDue     chan struct{}           // a sibling's passage: look at the overstays again
}

// Lane is one lane of the gate: its configuration, its runner and its
// devices. Its methods are the adapters from device events to lane events
// (devices.go).
type Lane struct {
	Config config.Lane
	Runner *lane.Runner

	g       *Gate
	log     *slog.Logger
	devices Devices

	mu     sync.Mutex
	health map[string]*deviceHealth // by device
}

// Assemble builds the gate described by cfg on st, with each lane's devices
// from hw. Nothing runs until Run. Errors here stop start-up: a
// configuration or a certificate that cannot be used is never silently
// worked around.
func Assemble(ctx context.Context, cfg *config.Config, st *store.Store, hw Hardware, opt Options) (*Gate, error) {
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Clock == nil {
		opt.Clock = clock.Real{}
	}
	if opt.UplinkClock == nil {
		opt.UplinkClock = opt.Clock
	}
	g := &Gate{
		Config: cfg, Store: st, Lanes: lanes.New(), Photos: facematch.NewPhotos(64),
		clk: opt.Clock, log: opt.Log, faultWindow: cfg.FaultWindow.D(), obs: opt.Observer,
	}
	if g.faultWindow <= 0 {
		g.faultWindow = DefaultFaultWindow
	}
	g.Keeper = record.New(cfg.Gate, st, cfg.Params(), opt.Log.With("component", "record"))
	g.parkDue = make(chan struct{}, 1)
	if o := opt.Observer; o != nil && o.Alarm != nil {
		// The keeper's own alarms (double_entry with a passage, overstay)
		// belong to no vehicle's stay at a lane: they reach the observer
		// with no lane (the simulator counts them for the run).
		g.Keeper.OnAlarm = func(_, kind string) { o.Alarm("", kind) }
	}
	g.Keeper.Faces = g.Photos
	if opt.ClockSource != nil {
		if err := g.watchClock(cfg, opt.ClockSource); err != nil {
			return nil, fmt.Errorf("gate: clock.trusted_after: %w", err)
		}
	}
	if err := g.assembleWaybills(cfg, st, opt); err != nil {
		return nil, err
	}
	g.assemblePreclear(cfg, st, opt) // preclear.go
	g.Lanes.KeepLockdown(st, opt.Clock.Now)
	g.Lanes.KeepEvacuation(st, opt.Clock.Now)
	if cfg.MQTT.Broker != "" {
		up, err := uplink.New(uplinkConfig(cfg), st, uplink.Deps{
			Clock: opt.UplinkClock, Log: opt.Log.With("component", "uplink"),
			Status: g.Lanes, Commands: g.Lanes, Alarms: g.Keeper, ClockState: g.clockState(),
			ParkChanged: g.parkChanged,
		})
		if err != nil {
			return nil, err
		}
		g.Uplink = up
		g.Keeper.OnRecord = up.Kick
		g.Lanes.Watch(func(lane.Snapshot) { up.StatusChanged() })
	}
	for _, lc := range cfg.Lanes {
		l, err := g.addLane(lc, hw, opt)
		if err != nil {
			return nil, err
		}
		g.lanes = append(g.lanes, l)
	}
	g.PlatePush = g.platePush(cfg, opt) // plate.go
	// A lock-down outlives a restart (or a power cut): the lanes take it
	// before anything else.
	g.Lockdown, g.LockdownErr = g.Lanes.RestoreLockdown(ctx)
	if g.LockdownErr != nil {
		g.log.Error("lock-down state unreadable: every lane is locked down", "err", g.LockdownErr)
	} else if g.Lockdown.On {
		g.log.Warn("the gate was locked down before this start: every lane stays locked down until it is lifted",
			"by", g.Lockdown.By, "since", g.Lockdown.At)
	}
	// So does an evacuation, ended only by the authority that started it.
	g.Evacuation, g.EvacuationErr = g.Lanes.RestoreEvacuation(ctx)
	if g.EvacuationErr != nil {
		g.log.Error("evacuation state unreadable: no evacuation restored", "err", g.EvacuationErr)
	} else if g.Evacuation.On {
		g.log.Warn("the gate was evacuating before this start: exit lanes stay open and entry lanes closed until it is ended",
			"by", g.Evacuation.By, "authority", g.Evacuation.Authority, "since", g.Evacuation.At)
	}
	return g, nil
}

// addLane builds one lane: its devices from hw, its runner, its place in
// the gate's lanes.
func (g *Gate) addLane(lc config.Lane, hw Hardware, opt Options) (*Lane, error) {
	l := &Lane{Config: lc, g: g, log: g.log.With("lane", lc.Name), health: map[string]*deviceHealth{}}
	devs, err := hw.Devices(l)
	if err != nil {
		return nil, fmt.Errorf("gate: lane %s: %w", lc.Name, err)
	}
	if devs.Barrier == nil {
		return nil, fmt.Errorf("gate: lane %s: no barrier", lc.Name)
	}
	l.devices = devs
	var (
		decider  lane.Decider  = g.Keeper
		recorder lane.Recorder = g.Keeper
		onChange               = g.Lanes.Changed
	)
	if obs := opt.Observer; obs != nil {
		decider = observed{Keeper: g.Keeper, obs: obs}
		recorder = observed{Keeper: g.Keeper, obs: obs}
		if obs.Changed != nil {
			onChange = func(s lane.Snapshot) { obs.Changed(s); g.Lanes.Changed(s) }
		}
	}
	l.Runner = lane.NewRunner(lane.Config{
		Name: lc.Name, Exit: lc.Direction == lane.DirectionOut, Deadline: lc.Deadline.D(), MinPlateConfidence: lc.PlateMinConfidence,
		Weighbridge:   lc.Scale != nil,
		LookupWaybill: g.Waybills != nil,
	}, lane.Deps{
		Clock: g.clk, Barrier: devs.Barrier, Decider: decider, Faces: devs.Faces, Recorder: recorder, Waybills: g.waybillsFor(devs),
		Log: g.log, OnChange: onChange,
	})
	g.Lanes.Add(l.Runner)
	if devs.Voice != nil {
		l.startVoice(devs.Voice)
	}
	return l, nil
}

// Lane is the lane named name (nil: none).
func (g *Gate) Lane(name string) *Lane {
	for _, l := range g.lanes {
		if l.Config.Name == name {
			return l
		}
	}
	return nil
}

// AllLanes are the gate's lanes in configuration order.
func (g *Gate) AllLanes() []*Lane { return g.lanes }

// Gate is the lane's gate.
func (l *Lane) Gate() *Gate { return l.g }

// Log is the lane's logger.
func (l *Lane) Log() *slog.Logger { return l.log }

// overstayInterval is how often the gate looks for vehicles inside longer
// than presence.max_stay.
const overstayInterval = time.Minute

// parkChanged wakes the overstay watch: a sibling's passage came in.
func (g *Gate) parkChanged() {
	select {
	case g.parkDue <- struct{}{}:
	default:
	}
}

// Run runs every lane and its devices, the overstay watch and the uplink,
// until ctx ends, and
// waits for all of them. It returns the uplink's error, if it stopped with
// one.
func (g *Gate) Run(ctx context.Context) error {
	if m := g.ClockMonitor; m != nil {
		// The first look is taken before any lane runs.
		stop := m.Start(ctx)
		defer stop()
	}
	var wg sync.WaitGroup
	g.watchCameras(ctx)
	for _, l := range g.lanes {
		wg.Go(func() { l.Runner.Run(ctx) })
		if run := l.devices.Run; run != nil {
			wg.Go(func() { run(ctx) })
		}
	}
	wg.Go(func() { g.Keeper.WatchPark(ctx, g.clk, g.Config.Presence.MaxStay.D(), overstayInterval, g.parkDue) })
	if g.Preclear != nil {
		wg.Go(func() { g.Preclear.Run(ctx) })
	}
	var upErr error
	if g.Uplink != nil {
		wg.Go(func() {
			if err := g.Uplink.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				upErr = fmt.Errorf("gate: the MQTT uplink stopped: %w", err)
			}
		})
	}
	wg.Wait()
	// The face images of the last inspections are written in the
	// background: done before the caller closes the store.
	g.Keeper.WaitFaces()
	if g.Waybills != nil {
		g.Waybills.Wait()
	}
	return upErr
}

// observed is the record keeper, telling an Observer what it committed.
type observed struct {
	*record.Keeper
	obs *Observer
}

func (o observed) Decide(ctx context.Context, laneName string, ev checks.Evidence, now time.Time) (string, checks.Outcome, error) {
	id, out, err := o.Keeper.Decide(ctx, laneName, ev, now)
	if err != nil {
		return id, out, err
	}
	if out.Verdict == checks.VerdictReject {
		o.alarm(laneName, lane.AlarmRejection) // committed with the inspection
	}
	if record.Exempted(out) {
		o.alarm(laneName, record.AlarmExemptEntry) // committed with the inspection
	}
	if o.obs.Decided != nil {
		o.obs.Decided(laneName, id, out, now)
	}
	return id, out, nil
}

func (o observed) RaiseAlarm(ctx context.Context, laneName, kind, detail string, at time.Time) error {
	err := o.Keeper.RaiseAlarm(ctx, laneName, kind, detail, at)
	if err == nil {
		o.alarm(laneName, kind)
	}
	return err
}

func (o observed) RecordDecision(ctx context.Context, laneName, inspectionID, operator, action, reason string, at time.Time) error {
	err := o.Keeper.RecordDecision(ctx, laneName, inspectionID, operator, action, reason, at)
	if err == nil {
		o.alarm(laneName, lane.AlarmOperatorOpen) // committed with the decision
	}
	return err
}

func (o observed) alarm(laneName, kind string) {
	if o.obs.Alarm != nil {
		o.obs.Alarm(laneName, kind)
	}
}
