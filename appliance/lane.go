package appliance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/hazgate/hazgate/config"
	"github.com/hazgate/hazgate/device/camera"
	"github.com/hazgate/hazgate/device/gpio"
	"github.com/hazgate/hazgate/device/idcard"
	"github.com/hazgate/hazgate/device/scanner"
	"github.com/hazgate/hazgate/device/serialport"
	"github.com/hazgate/hazgate/health"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/registry"
)

// Back-off between attempts to open a lane's GPIO lines.
const (
	gpioMinBackoff = 2 * time.Second
	gpioMaxBackoff = time.Minute
)

// laneDevices is one lane with its devices.
type laneDevices struct {
	a       *Appliance
	cfg     config.Lane
	runner  *lane.Runner
	barrier *slotBarrier
	cam     *camera.Camera
	gpioErr error

	mu    sync.Mutex
	state map[string]string // device -> last reported error ("" when ok)
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

func (a *Appliance) newLane(lc config.Lane, gpioErr error) (*laneDevices, error) {
	ld := &laneDevices{a: a, cfg: lc, barrier: &slotBarrier{}, gpioErr: gpioErr, state: map[string]string{}}
	if lc.Camera.SnapshotURL != "" {
		cam, err := camera.New(camera.Config{URL: lc.Camera.SnapshotURL, Username: lc.Camera.Username, Password: lc.Camera.Password,
			Auth: lc.Camera.Auth, Timeout: lc.Camera.Timeout.D(), Clock: a.clk})
		if err != nil {
			return nil, fmt.Errorf("appliance: lane %s: %w", lc.Name, err)
		}
		ld.cam = cam
	}
	deps := lane.Deps{
		Clock: a.clk, Barrier: ld.barrier, Decider: a.gate, Recorder: a.gate,
		Log: a.log, OnChange: a.lanes.Changed,
	}
	if a.faces != nil {
		deps.Faces = a.faces
	}
	ld.runner = lane.NewRunner(lane.Config{Name: lc.Name, Exit: lc.Direction == "out", Deadline: lc.Deadline.D(), MinPlateConfidence: lc.PlateMinConfidence}, deps)
	a.lanes.Add(ld.runner)
	return ld, nil
}

// run runs the lane and keeps its devices open until ctx ends.
func (ld *laneDevices) run(ctx context.Context) {
	var wg sync.WaitGroup
	start := func(f func(context.Context)) {
		wg.Add(1)
		go func() { defer wg.Done(); f(ctx) }()
	}
	start(func(ctx context.Context) { ld.runner.Run(ctx) })
	start(ld.gpio)
	if ld.cfg.Direction == "in" {
		start(func(ctx context.Context) { ld.idcard(ctx, "idcard", ld.cfg.IDCard, "") })
		if ld.cfg.EscortIDCard != nil {
			start(func(ctx context.Context) { ld.idcard(ctx, "escort_idcard", *ld.cfg.EscortIDCard, registry.RoleEscort) })
		}
		start(ld.scanner)
	}
	wg.Wait()
}

// health records a device's state for status and the kiosk and tells the
// lane when it fails or comes back. A device that keeps failing the same way
// on every retry is reported once.
func (ld *laneDevices) health(device, kind string, err error) {
	msg := ""
	if err != nil {
		msg = err.Error()
		if msg == "" {
			msg = "fault" // never "": that is the health of a working device
		}
	}
	ld.mu.Lock()
	prev, seen := ld.state[device]
	ld.state[device] = msg
	ld.mu.Unlock()
	if seen && prev == msg {
		return
	}
	name := ld.cfg.Name + "/" + device
	d := health.New(name, kind, ld.cfg.Name, msg, ld.a.clk.Now())
	ld.a.lanes.SetDevice(d)
	ld.runner.Send(lane.DeviceFault{Device: name, Fault: err != nil, Detail: d.Detail})
	if err != nil {
		ld.a.log.Error("device fault", "lane", ld.cfg.Name, "device", device, "err", err)
	} else {
		ld.a.log.Info("device ok", "lane", ld.cfg.Name, "device", device)
	}
}

// idcard reads cards from one reader; role "" lets the lane tell the driver
// (first card) from the escort (second).
func (ld *laneDevices) idcard(ctx context.Context, device string, sc config.Serial, role registry.Role) {
	r := idcard.NewReader(idcard.ReaderConfig{
		Open:    func() (io.ReadWriteCloser, error) { return serialport.Open(sc.Port, sc.Baud) },
		Options: idcard.Options{Clock: ld.a.clk, Baud: sc.Baud, Timeout: sc.Timeout.D(), Log: ld.a.log.With("lane", ld.cfg.Name, "device", device)},
	})
	r.Run(ctx, func(ev idcard.Event) {
		switch ev.Kind {
		case idcard.EventCard:
			c := ev.Card
			ld.a.photos.Put(ld.cfg.Name, c.IDNumber, c.Photo)
			ld.a.log.Info("ID card read", "lane", ld.cfg.Name, "device", device, "id", mask(c.IDNumber), "kind", c.Kind)
			ld.runner.Send(lane.CardRead{Person: c.Person(), Role: role})
		case idcard.EventCardError:
			ld.a.log.Warn("ID card could not be read: present it again", "lane", ld.cfg.Name, "device", device, "err", ev.Err)
		case idcard.EventFault:
			ld.health(device, "idcard", ev.Err)
		case idcard.EventRecovered:
			ld.health(device, "idcard", nil)
		}
	})
}

func (ld *laneDevices) scanner(ctx context.Context) {
	sc := ld.cfg.Scanner
	r := scanner.NewReader(scanner.Config{
		Open:  func() (io.ReadCloser, error) { return serialport.Open(sc.Port, sc.Baud) },
		Clock: ld.a.clk, Log: ld.a.log.With("lane", ld.cfg.Name, "device", "scanner"),
	})
	r.Run(ctx, func(ev scanner.Event) {
		switch ev.Kind {
		case scanner.EventScan:
			ld.runner.Send(lane.WaybillScanned{Number: ev.Waybill})
		case scanner.EventRejected:
			ld.a.log.Warn("scan is not a waybill", "lane", ld.cfg.Name, "scan", ev.Raw, "err", ev.Err)
		case scanner.EventFault:
			ld.health("scanner", "scanner", ev.Err)
		case scanner.EventRecovered:
			ld.health("scanner", "scanner", nil)
		}
	})
}

// mask keeps the last four characters of an ID number for the log.
func mask(id string) string {
	if len(id) <= 4 {
		return id
	}
	return "**************"[:min(14, len(id)-4)] + id[len(id)-4:]
}
