// Package appliance assembles the gate from its configuration: the store,
// the checks, one lane runner per lane with its real devices, the MQTT uplink
// and the HTTP endpoints. `hazgate run` is this package and a signal handler.
//
// A device that cannot be opened puts its lane in fault (the barrier stays
// closed, a device_fault alarm is recorded) and is retried, while the other
// lanes keep working.
package appliance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/config"
	"github.com/hazgate/hazgate/device/facematch"
	"github.com/hazgate/hazgate/device/plate"
	"github.com/hazgate/hazgate/kiosk"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/lanes"
	"github.com/hazgate/hazgate/record"
	"github.com/hazgate/hazgate/store"
	"github.com/hazgate/hazgate/uplink"
)

// Appliance is one running gate.
type Appliance struct {
	cfg   *config.Config
	log   *slog.Logger
	clk   clock.Clock
	st    *store.Store
	gate  *record.Keeper
	lanes *lanes.Set
	up    *uplink.Uplink
	kiosk *kiosk.Server
	faces *facematch.Matcher

	photos   *facematch.Photos
	gpioInit func() error
	lanesS   []*laneDevices
}

// Options are what the command line adds to the configuration.
type Options struct {
	Log   *slog.Logger
	Clock clock.Clock
	// GPIOInit loads the GPIO driver (gpio.Init by default); tests that
	// register gpiotest pins by name replace it.
	GPIOInit func() error
}

// New opens the store and builds the gate, its lanes and the uplink; Run
// starts them. Errors here stop start-up: a configuration or a certificate
// that cannot be used is never silently worked around.
func New(ctx context.Context, cfg *config.Config, opt Options) (*Appliance, error) {
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Clock == nil {
		opt.Clock = clock.Real{}
	}
	a := &Appliance{cfg: cfg, log: opt.Log, clk: opt.Clock, lanes: lanes.New(), photos: facematch.NewPhotos(64)}
	if err := os.MkdirAll(filepath.Dir(cfg.Database), 0o750); err != nil {
		return nil, fmt.Errorf("appliance: database directory: %w", err)
	}
	st, err := store.Open(ctx, cfg.Database, store.WithClock(opt.Clock), store.WithOutboxLimit(cfg.MQTT.OutboxMax))
	if err != nil {
		return nil, err
	}
	a.st = st
	a.lanes.KeepLockdown(st, opt.Clock.Now)
	a.gate = record.New(cfg.Gate, st, cfg.Params(), opt.Log.With("component", "gate"))
	if cfg.MQTT.Broker != "" {
		a.up, err = uplink.New(uplink.ConfigFrom(cfg), st, uplink.Deps{
			Clock: opt.Clock, Log: opt.Log.With("component", "uplink"),
			Status: a.lanes, Commands: a.lanes, Alarms: a.gate,
		})
		if err != nil {
			st.Close()
			return nil, err
		}
		a.gate.OnRecord = a.up.Kick
		a.lanes.Watch(func(lane.Snapshot) { a.up.StatusChanged() })
	}
	if cfg.FaceMatch.URL != "" {
		a.faces = facematch.New(facematch.Config{
			URL: cfg.FaceMatch.URL, Timeout: cfg.FaceMatch.Timeout.D(), Photos: a.photos, Clock: opt.Clock,
			Cameras: a.camera, Log: opt.Log.With("component", "facematch"),
		})
	}
	a.gpioInit = opt.GPIOInit
	if a.gpioInit == nil {
		a.gpioInit = defaultGPIOInit
	}
	gpioErr := a.retryGPIOInit()
	if gpioErr != nil {
		a.log.Error("GPIO unavailable: every lane's loops and barrier are in fault and retried", "err", gpioErr)
	}
	tokens := map[string]string{}
	for _, lc := range cfg.Lanes {
		ld, err := a.newLane(lc, gpioErr)
		if err != nil {
			st.Close()
			return nil, err
		}
		a.lanesS = append(a.lanesS, ld)
		if lc.PlateToken != "" {
			tokens[lc.Name] = lc.PlateToken
		}
	}
	// A lock-down outlives a restart (or a power cut): the lanes take it
	// before anything else.
	if ls, err := a.lanes.RestoreLockdown(ctx); err != nil {
		a.log.Error("lock-down state unreadable: every lane is locked down", "err", err)
	} else if ls.On {
		a.log.Warn("the gate was locked down before this start: every lane stays locked down until it is lifted",
			"by", ls.By, "since", ls.At)
	}
	push := plate.NewHandler(plate.Config{Tokens: tokens, Deliver: func(name string, r lane.PlateRead) error {
		if !a.lanes.Send(name, r) {
			return fmt.Errorf("no lane %q", name)
		}
		return nil
	}})
	kdeps := kiosk.Deps{
		Lanes: a.lanes, Store: st, Devices: a.lanes,
		Disk: kiosk.DiskAt(filepath.Dir(cfg.Database)), Clock: opt.Clock, Log: opt.Log.With("component", "kiosk"),
	}
	if a.up != nil {
		kdeps.Broker = kiosk.UplinkBroker(a.up)
	}
	a.kiosk, err = kiosk.New(kiosk.Config{
		Addr: cfg.Kiosk.Listen, TLSCertFile: cfg.Kiosk.TLSCert, TLSKeyFile: cfg.Kiosk.TLSKey,
		Gate: cfg.Gate, Location: cfg.Location(), RegistryMaxAge: cfg.RegistryMaxAge.D(), PlatePush: push,
	}, kdeps)
	if err != nil {
		st.Close()
		return nil, err
	}
	a.lanes.Watch(a.kiosk.Publish)
	return a, nil
}

// Store is the appliance's store.
func (a *Appliance) Store() *store.Store { return a.st }

// Lanes is the appliance's lanes.
func (a *Appliance) Lanes() *lanes.Set { return a.lanes }

// Handler is the appliance's HTTP handler: the kiosk, its API, the plate
// push endpoint, /healthz and /metrics.
func (a *Appliance) Handler() http.Handler { return a.kiosk.Handler() }

// Run runs every lane, its devices, the uplink and the HTTP server until ctx
// ends; then the barriers are halted in the fail-secure position, the uplink
// says offline and the store is closed.
func (a *Appliance) Run(ctx context.Context) error {
	defer a.st.Close()
	var wg sync.WaitGroup
	go1 := func(f func(context.Context)) {
		wg.Add(1)
		go func() { defer wg.Done(); f(ctx) }()
	}
	for _, ld := range a.lanesS {
		go1(ld.run)
	}
	if a.up != nil {
		go1(func(ctx context.Context) { a.up.Run(ctx) })
	}
	go1(a.purge)
	ln, err := net.Listen("tcp", a.cfg.Kiosk.Listen)
	if err != nil {
		a.log.Error("HTTP listener unavailable: the kiosk and plate pushes are off", "listen", a.cfg.Kiosk.Listen, "err", err)
	} else {
		go1(func(ctx context.Context) {
			if err := a.kiosk.Serve(ctx, ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.log.Error("kiosk stopped", "err", err)
			}
		})
	}
	a.log.Info("hazgate running", "gate", a.cfg.Gate, "lanes", len(a.lanesS))
	<-ctx.Done()
	wg.Wait()
	return nil
}

// purge deletes face images past the retention setting, hourly.
func (a *Appliance) purge(ctx context.Context) {
	for {
		if n, err := a.st.PurgeMedia(ctx, a.clk.Now().Add(-a.cfg.Retention.D())); err != nil {
			a.log.Error("purging face images failed", "err", err)
		} else if n > 0 {
			a.log.Info("purged face images past retention", "n", n)
		}
		done := make(chan struct{})
		t := a.clk.AfterFunc(time.Hour, func() { close(done) })
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-done:
		}
	}
}

// camera returns the camera that sees the people at a lane.
func (a *Appliance) camera(name string) facematch.Camera {
	for _, ld := range a.lanesS {
		if ld.cfg.Name == name && ld.cam != nil {
			return ld.cam
		}
	}
	return nil
}
