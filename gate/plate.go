package gate

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/config"
	"github.com/hazgate/hazgate/device/plate"
	"github.com/hazgate/hazgate/lane"
)

// The plate camera as a lane device: its name and kind in health reports.
const (
	DevicePlateCamera = "plate_camera"
	KindPlateCamera   = "plate_camera"
)

// ErrCameraSilent is a plate camera's fault: no push and no heartbeat for
// its plate_camera.silence.
var ErrCameraSilent = errors.New("gate: plate camera silent: no read and no heartbeat")

// platePush builds the plate push endpoint for the lanes' cameras. A
// camera heard from is working; one watched (plate_camera.silence) that is
// not heard from for that long is in fault.
func (g *Gate) platePush(cfg *config.Config, opt Options) *plate.Handler {
	cams := map[string]plate.Camera{}
	loc := cfg.Location()
	g.watches = map[string]*cameraWatch{}
	for _, lc := range cfg.Lanes {
		c := lc.PushCamera()
		if c == nil {
			continue
		}
		cams[lc.Name] = plate.Camera{Format: c.Format, Token: c.Token, Username: c.Username, Password: c.Password, AllowFrom: c.AllowedPrefixes()}
		g.watches[lc.Name] = &cameraWatch{l: g.Lane(lc.Name), clk: g.clk, silence: c.Silence.D()}
	}
	for _, w := range g.watches {
		w.arm()
	}
	return plate.NewHandler(plate.Config{
		Cameras: cams,
		Deliver: func(name string, r lane.PlateRead) error {
			r.Exempt, r.WaybillByPlate = g.plateFacts(r.Plate, r.Trailer, loc)
			if !g.Lanes.Send(name, r) {
				return fmt.Errorf("no lane %q", name)
			}
			return nil
		},
		Heard: func(name string) {
			if w := g.watches[name]; w != nil {
				w.heard()
			}
		},
		Clock: g.clk,
		Log:   opt.Log.With("component", "plate"),
	})
}

// cameraWatch is one lane's plate camera's silence timer.
type cameraWatch struct {
	l       *Lane
	clk     clock.Clock
	silence time.Duration // 0: not watched

	mu      sync.Mutex
	timer   clock.Timer
	stopped bool
}

// watchCameras stops the cameras' timers when ctx ends. They are armed at
// assembly: a camera not heard from since the start is silent too.
func (g *Gate) watchCameras(ctx context.Context) {
	go func() {
		<-ctx.Done()
		for _, w := range g.watches {
			w.stop()
		}
	}()
}

func (w *cameraWatch) arm() {
	if w.silence <= 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	if w.timer != nil {
		w.timer.Stop()
	}
	w.timer = w.clk.AfterFunc(w.silence, w.silent)
}

func (w *cameraWatch) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
	if w.timer != nil {
		w.timer.Stop()
	}
}

// heard: the camera pushed (a read, a heartbeat): it works, and its
// silence starts again. Only a watched camera is a device with health: of
// one without plate_camera.silence the gate cannot tell when it fails.
func (w *cameraWatch) heard() {
	if w.silence <= 0 {
		return
	}
	w.arm()
	w.l.Health(DevicePlateCamera, KindPlateCamera, nil)
}

func (w *cameraWatch) silent() {
	w.l.Health(DevicePlateCamera, KindPlateCamera, fmt.Errorf("%w for %v", ErrCameraSilent, w.silence))
}

// plateFacts are the registry's facts on a plate read: the kind of
// emergency vehicle the registry marks plate as (registry.Vehicle.Emergency,
// "" for any other), and the waybill found from the plate: the number of
// the one waybill valid now that names the vehicle (and the trailer read),
// "" when there is none or several (the scan is then asked for). When the
// registry cannot be read, neither (the vehicle is checked as any other,
// and its waybill scanned).
func (g *Gate) plateFacts(plate, trailer string, loc *time.Location) (exempt, waybill string) {
	if plate == "" {
		return "", ""
	}
	reg, err := g.Store.Lookup(context.Background(), checks.Evidence{Plate: plate})
	if err != nil {
		g.log.Warn("registry unreadable: a plate read is not looked up as an emergency vehicle nor for its waybill", "plate", plate, "err", err)
		return "", ""
	}
	if v, ok := reg.Vehicle(plate); ok {
		exempt = v.Emergency
	}
	switch ws := reg.WaybillsByPlate(plate, trailer, g.clk.Now(), loc); len(ws) {
	case 1:
		waybill = ws[0].Number
	case 0:
	default:
		g.log.Info("several waybills valid now name the plate: the scan decides", "plate", plate, "waybills", len(ws))
	}
	return exempt, waybill
}
