package appliance

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/hazgate/hazgate/config"
	"github.com/hazgate/hazgate/device/camera"
	"github.com/hazgate/hazgate/device/facematch"
	"github.com/hazgate/hazgate/device/gpio"
	"github.com/hazgate/hazgate/device/idcard"
	"github.com/hazgate/hazgate/device/scanner"
	"github.com/hazgate/hazgate/device/serialport"
	"github.com/hazgate/hazgate/device/voice"
	"github.com/hazgate/hazgate/gate"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/registry"
)

// hardware is the gate's real devices, opened from the configuration: the
// serial ID-card readers and scanner, the GPIO loops and barrier, the
// cameras and the park's face-match service.
type hardware struct {
	cfg      *config.Config
	opt      Options
	gpioErr  error // the GPIO driver could not be loaded at start
	gpioInit func() error

	faces *facematch.Matcher // gate-wide, made with the first lane
	mu    sync.Mutex
	cams  map[string]*camera.Camera // lane -> the camera that sees its people
	slots []*slotBarrier            // every lane's barrier

	running *running // the lanes' devices, while they run (Appliance.Running)
}

var _ gate.Hardware = (*hardware)(nil)

func newHardware(cfg *config.Config, opt Options) *hardware {
	h := &hardware{cfg: cfg, opt: opt, gpioInit: opt.GPIOInit, cams: map[string]*camera.Camera{}}
	if h.gpioInit == nil {
		h.gpioInit = func() error { return gpio.Init() }
	}
	h.gpioErr = h.retryGPIOInit()
	if h.gpioErr != nil {
		opt.Log.Error("GPIO unavailable: every lane's loops and barrier are in fault and retried", "err", h.gpioErr)
	}
	return h
}

var gpioInitMu sync.Mutex

// retryGPIOInit loads the GPIO driver (the configured one: Options.GPIOInit),
// at start-up and again when a lane retries (a chip that appeared late).
func (h *hardware) retryGPIOInit() error {
	gpioInitMu.Lock()
	defer gpioInitMu.Unlock()
	return h.gpioInit()
}

// Devices opens nothing yet: the lane's devices are opened (and reopened
// after a fault) by its Run.
func (h *hardware) Devices(l *gate.Lane) (gate.Devices, error) {
	lc := l.Config
	if lc.Camera.SnapshotURL != "" {
		cam, err := camera.New(camera.Config{URL: lc.Camera.SnapshotURL, Username: lc.Camera.Username, Password: lc.Camera.Password,
			Auth: lc.Camera.Auth, Timeout: lc.Camera.Timeout.D(), Clock: h.opt.Clock})
		if err != nil {
			return gate.Devices{}, err
		}
		h.mu.Lock()
		h.cams[lc.Name] = cam
		h.mu.Unlock()
	}
	if h.faces == nil && h.cfg.FaceMatch.URL != "" {
		h.faces = facematch.New(facematch.Config{
			URL: h.cfg.FaceMatch.URL, Timeout: h.cfg.FaceMatch.Timeout.D(), Photos: l.Gate().Photos, Clock: h.opt.Clock,
			Cameras: h.camera, Log: h.opt.Log.With("component", "facematch"),
		})
	}
	ld := &laneDevices{h: h, l: l, barrier: &slotBarrier{}, gpioErr: h.gpioErr}
	h.mu.Lock()
	h.slots = append(h.slots, ld.barrier)
	h.mu.Unlock()
	devs := gate.Devices{Barrier: ld.barrier, Run: ld.run}
	if v := lc.Voice; v != nil {
		ld.voice = l.NewVoiceBoard(func() (io.ReadWriteCloser, error) { return serialport.Open(v.Port, v.Baud) }, h.opt.Clock)
		devs.Voice = ld.voice
	}
	if h.faces != nil {
		devs.Faces = h.faces
	}
	return devs, nil
}

// barriers are the lanes' barriers whose GPIO lines are open.
func (h *hardware) barriers() []*gpio.Barrier {
	h.mu.Lock()
	defer h.mu.Unlock()
	var bs []*gpio.Barrier
	for _, s := range h.slots {
		if b := s.get(); b != nil {
			bs = append(bs, b)
		}
	}
	return bs
}

// camera returns the camera that sees the people at a lane.
func (h *hardware) camera(name string) facematch.Camera {
	h.mu.Lock()
	defer h.mu.Unlock()
	if cam := h.cams[name]; cam != nil {
		return cam
	}
	return nil
}

// laneDevices is one lane's real devices.
type laneDevices struct {
	h       *hardware
	l       *gate.Lane
	barrier *slotBarrier
	gpioErr error
	voice   *voice.Board // nil: the lane has none
}

// run opens the lane's devices and keeps them open until ctx ends.
func (ld *laneDevices) run(ctx context.Context) {
	var wg sync.WaitGroup
	start := func(device string, f func(context.Context)) {
		done := func() {}
		if r := ld.h.running; r != nil {
			done = r.start(ld.l.DeviceName(device))
		}
		wg.Go(func() {
			defer done()
			f(ctx)
		})
	}
	lc := ld.l.Config
	start(gate.DeviceGPIO, ld.gpio)
	if ld.voice != nil {
		start(gate.DeviceVoice, func(ctx context.Context) { ld.voice.Run(ctx, ld.l.Voice) })
	}
	if lc.Direction == lane.DirectionIn {
		start(gate.DeviceIDCard, func(ctx context.Context) { ld.idcard(ctx, gate.DeviceIDCard, lc.IDCard, "") })
		if lc.EscortIDCard != nil {
			start(gate.DeviceEscortIDCard, func(ctx context.Context) {
				ld.idcard(ctx, gate.DeviceEscortIDCard, *lc.EscortIDCard, registry.RoleEscort)
			})
		}
		start(gate.DeviceScanner, ld.scanner)
		if lc.Scale != nil {
			start(gate.DeviceScale, ld.scale)
		}
	}
	wg.Wait()
}

// idcard reads cards from one reader; role "" lets the lane tell the driver
// (first card) from the escort (second).
func (ld *laneDevices) idcard(ctx context.Context, device string, sc config.Serial, role registry.Role) {
	r := idcard.NewReader(idcard.ReaderConfig{
		Open:    func() (io.ReadWriteCloser, error) { return serialport.Open(sc.Port, sc.Baud) },
		Options: idcard.Options{Clock: ld.h.opt.Clock, Baud: sc.Baud, Timeout: sc.Timeout.D(), Log: ld.l.Log().With("device", device)},
	})
	r.Run(ctx, func(ev idcard.Event) { ld.l.Card(device, role, ev) })
}

func (ld *laneDevices) scanner(ctx context.Context) {
	sc := ld.l.Config.Scanner
	r := scanner.NewReader(scanner.Config{
		Open:  func() (io.ReadCloser, error) { return serialport.Open(sc.Port, sc.Baud) },
		Clock: ld.h.opt.Clock, Log: ld.l.Log().With("device", gate.DeviceScanner),
	})
	r.Run(ctx, func(ev scanner.Event) { ld.l.Scan(gate.DeviceScanner, ev) })
}

// scale reads the weighbridge's indicator.
func (ld *laneDevices) scale(ctx context.Context) {
	sc := ld.l.Config.Scale
	r := ld.l.ScaleReader(func() (io.ReadCloser, error) { return serialport.Open(sc.Port, sc.Baud) }, ld.h.opt.Clock)
	r.Run(ctx, ld.l.Weigh)
}

// slotBarrier is the lane's barrier: the GPIO barrier once its lines are
// open, an error before (the lane then treats the barrier as possibly open
// and raises an alarm; the relays, not driven, stay de-energised: closed).
type slotBarrier struct {
	mu sync.Mutex
	b  *gpio.Barrier
}

var _ lane.Barrier = (*slotBarrier)(nil)

var errNoBarrier = errors.New("appliance: the barrier's GPIO lines are not open")

func (s *slotBarrier) get() *gpio.Barrier {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b
}

func (s *slotBarrier) set(b *gpio.Barrier) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b = b
}

func (s *slotBarrier) Open() error {
	if b := s.get(); b != nil {
		return b.Open()
	}
	return errNoBarrier
}

func (s *slotBarrier) Close() error {
	if b := s.get(); b != nil {
		return b.Close()
	}
	return errNoBarrier
}
