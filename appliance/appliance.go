// Package appliance is `hazgate run`: the store, the gate assembled (package
// gate) with the real devices of the configuration, the kiosk and the HTTP
// endpoints in front of it, the hourly retention purge and the disk watch.
// It also puts the kiosk in front of any assembled gate (NewKiosk), for the
// simulator too.
//
// A device that cannot be opened puts its lane in fault (the barrier stays
// closed, a device_fault alarm is recorded) and is retried, while the other
// lanes keep working.
//
// Only cmd/hazgate and tests may import it; it may import any other
// package of ours (docs/design.md, "Package map").
package appliance

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/config"
	"github.com/hazgate/hazgate/gate"
	"github.com/hazgate/hazgate/kiosk"
	"github.com/hazgate/hazgate/lanes"
	"github.com/hazgate/hazgate/store"
)

// Appliance is one running gate.
type Appliance struct {
	cfg     *config.Config
	log     *slog.Logger
	clk     clock.Clock
	st      *store.Store
	gate    *gate.Gate
	kiosk   *kiosk.Server
	hw      *hardware
	disk    string // the database's directory
	started time.Time
	opt     Options
	created bool // the database file was created by this start

	running running // what Run has running (Running)
}

// Options are what the command line adds to the configuration.
type Options struct {
	Log   *slog.Logger
	Clock clock.Clock
	// GPIOInit loads the GPIO driver (gpio.Init by default); tests that
	// register gpiotest pins by name replace it.
	GPIOInit func() error
	// ConfigFile is the configuration's file, for the start-up banner and
	// its warnings.
	ConfigFile string
	// ClockSource says whether the wall clock is synchronised (default
	// clock.Kernel: adjtimex); tests give a fake one.
	ClockSource clock.SyncSource
	// Logs is the last log lines (logs.Ring), for the kiosk's health page.
	Logs kiosk.LogLines
}

// New opens the store and assembles the gate (package gate) with the real
// devices of the configuration, and the kiosk in front of it; Run starts
// them. Errors here stop start-up: a configuration or a certificate that
// cannot be used is never silently worked around.
func New(ctx context.Context, cfg *config.Config, opt Options) (_ *Appliance, err error) {
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Clock == nil {
		opt.Clock = clock.Real{}
	}
	if opt.ClockSource == nil {
		opt.ClockSource = clock.Kernel{}
	}
	a := &Appliance{cfg: cfg, log: opt.Log, clk: opt.Clock, disk: filepath.Dir(cfg.Database), started: opt.Clock.Now(), opt: opt}
	if err := os.MkdirAll(filepath.Dir(cfg.Database), 0o750); err != nil {
		return nil, fmt.Errorf("appliance: database directory: %w", err)
	}
	if _, err := os.Stat(cfg.Database); errors.Is(err, fs.ErrNotExist) {
		a.created = true
	}
	st, err := store.Open(ctx, cfg.Database, store.WithClock(opt.Clock), store.WithOutboxLimit(cfg.MQTT.OutboxMax))
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			st.Close()
		}
	}()
	a.st = st
	// The database says which gate it belongs to, so that a restore can
	// refuse another gate's backup (hazgate restore).
	id := store.GateIdentity{Park: cfg.Park, Gate: cfg.Gate}
	prev, err := st.SetGateIdentity(ctx, id, opt.Clock.Now())
	if err != nil {
		return nil, err
	}
	if prev != (store.GateIdentity{}) && prev != id {
		a.log.Warn("the database belonged to another gate; it now belongs to this one", "was", prev.String(), "now", id.String(), "database", cfg.Database)
	}
	a.hw = newHardware(cfg, opt)
	a.hw.running = &a.running
	a.gate, err = gate.Assemble(ctx, cfg, st, a.hw, gate.Options{Log: opt.Log, Clock: opt.Clock, ClockSource: opt.ClockSource})
	if err != nil {
		return nil, err
	}
	a.kiosk, err = NewKiosk(a.gate, KioskOptions{
		Config: kiosk.Config{
			Addr: cfg.Kiosk.Listen, TLSCertFile: cfg.Kiosk.TLSCert, TLSKeyFile: cfg.Kiosk.TLSKey,
			RegistryMaxAge: cfg.RegistryMaxAge.D(),
		},
		Clock: opt.Clock, Disk: filepath.Dir(cfg.Database), Log: opt.Log, Logs: opt.Logs,
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Store is the appliance's store.
func (a *Appliance) Store() *store.Store { return a.st }

// Lanes is the appliance's lanes.
func (a *Appliance) Lanes() *lanes.Set { return a.gate.Lanes }

// Handler is the appliance's HTTP handler: the kiosk, its API, the plate
// push endpoint, /healthz and /metrics.
func (a *Appliance) Handler() http.Handler { return a.kiosk.Handler() }

// Run runs the gate (every lane, its devices, the uplink) and the HTTP
// server until ctx ends; then the barriers are halted in the fail-secure
// position, the uplink says offline and the store is closed. It returns
// the uplink's error, if it stopped with one.
//
// Running names what has not stopped yet, and Halt puts the barriers in the
// fail-secure position at once, for a process that ends without waiting
// for Run.
func (a *Appliance) Run(ctx context.Context) error {
	defer a.closeStore()
	var wg sync.WaitGroup
	var gateErr error
	run := func(name string, f func()) {
		done := a.running.start(name)
		wg.Go(func() {
			defer done()
			f()
		})
	}
	run("the gate (lanes and MQTT uplink)", func() { gateErr = a.gate.Run(ctx) })
	run("the retention purge", func() { a.retain(ctx) })
	run("the watch on the gate's alarm conditions", func() { a.watchConditions(ctx) })
	run("the probes of the cameras and the face-match service", func() { a.probeServices(ctx) })
	ln, err := net.Listen("tcp", a.cfg.Kiosk.Listen)
	kioskURL := ""
	if err != nil {
		a.log.Error("HTTP listener unavailable: the kiosk and plate pushes are off", "listen", a.cfg.Kiosk.Listen, "err", err)
	} else {
		scheme := "http"
		if a.kiosk.Secure() {
			scheme = "https"
		}
		kioskURL = reachableURL(scheme, ln.Addr())
		run("the kiosk's HTTP server", func() {
			if err := a.kiosk.Serve(ctx, ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.log.Error("kiosk stopped", "err", err)
			}
		})
	}
	a.banner(ctx, kioskURL)
	run("the systemd readiness and watchdog", func() { a.notifySystemd(ctx) })
	<-ctx.Done()
	if _, err := daemon.SdNotify(false, daemon.SdNotifyStopping); err != nil {
		a.log.Error("systemd not told the gate is stopping", "err", err)
	}
	a.log.Info("hazgate stopping: barriers to their fail-secure position, uplink offline, store closed")
	a.haltBarriers()
	wg.Wait()
	return gateErr
}
