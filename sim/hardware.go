package sim

// The simulated gate's hardware, driven through the gate's real drivers:
//
//   - per lane, periph gpiotest pins (simgpio) for the arrival and safety
//     loops, the barrier's relays and limit switches, read and driven by
//     device/gpio's Loop and Barrier on the scenario's fake clock;
//   - per entry lane, two GA 467 readers on ptys (simreader), the driver's
//     (<lane>/idcard, the configuration's idcard) and the escort's
//     (<lane>/escort_idcard), each read by idcard.Reader over serialport; a
//     waybill scanner on a pty (simscanner) read by scanner.Reader; an IP
//     camera and the face-match service on loopback (simhttp) called by
//     camera and facematch;
//   - the plate camera pushing its reads to the gate's endpoint
//     (device/plate), in process.
//
// The pins and the barrier run on the fake clock and are exact. The serial
// devices and the HTTP calls run in real time, so the loop keeps verdicts
// independent of the speed by waiting, after every step of the fake clock,
// until every effect that the step had on a device has reached its lane: a
// card presented on a working reader has been read, a fault has been noticed
// and a recovery reported, a scan has been read, a face match has answered
// (or is waiting on the fake clock). Steps that touch such devices run one at
// a time (Engine.act), each followed by that wait.

import (
	"context"
	"fmt"
	"sync"
	"time"

	devgpio "github.com/hazgate/hazgate/device/gpio"
	"github.com/hazgate/hazgate/gate"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/sim/simgpio"
)

// Device settings of the simulated gate.
const (
	readerBaud  = 115200
	scannerBaud = 9600
	// readerPoll is the readers' "find card" period (real time): a card is
	// read within about this long of its presentation.
	readerPoll = 10 * time.Millisecond
	// readerTimeout is how long a reader may take to start answering (real
	// time): a silent reader is noticed after two of them.
	readerTimeout = 500 * time.Millisecond
	// absentPolls is the readers' AbsentPolls: "no card" answers in a row
	// after which the same card presented again is a new presentation.
	absentPolls = 2
	// loopDebounce is the loop detectors' debounce, on the fake clock.
	loopDebounce = 200 * time.Millisecond
	// minOnLoop is the least time a vehicle stays on a loop, so that the
	// debounced detector sees it.
	minOnLoop = 2 * loopDebounce
	// faceTimeout is the face matcher's timeout per attempt (the
	// configuration's default), and faceSlow how late a slow service
	// answers: beyond both attempts.
	faceTimeout = 3 * time.Second
	faceSlow    = 10 * time.Second
	// settleBound bounds each wait for the real-time devices: a device that
	// has not delivered by then is a bug, reported as an error.
	settleBound = 60 * time.Second
	// maxCardTries is how often a card that fails to read is presented.
	maxCardTries = 3
)

// Device names of the simulator's faults, after the lane, beside the
// gate's (gate.DeviceIDCard...).
const (
	devCamera  = "camera"
	devBarrier = "barrier"
)

// deviceHealth reports a device's fault (err) or recovery (nil) through
// the lane's adapter, applies update to the simulated device's state under
// the device lock, and notes it in the progress.
func (e *Engine) deviceHealth(l *simLane, device, kind string, err error, update func()) {
	note := "recovered"
	if err != nil {
		note = "fault: " + plainReason(err)
	}
	l.gl.Health(device, kind, err)
	e.dev.Lock()
	update()
	e.changedLocked()
	e.dev.Unlock()
	e.deviceNote(l.name, l.gl.DeviceName(device), note)
}

// deviceNote prints a progress line about a device.
func (e *Engine) deviceNote(laneName, device, what string) {
	e.printf("[%s] %s device %s %s\n", e.offset(e.clk.Now()), pad(laneName, 6), device, what)
}

// hardware is the simulated gate's hardware (gate.Hardware).
type hardware struct{ e *Engine }

var _ gate.Hardware = hardware{}

// Devices builds one lane's simulated devices and the real drivers on them.
func (h hardware) Devices(gl *gate.Lane) (gate.Devices, error) {
	e := h.e
	l := &simLane{sim: e, name: gl.Config.Name, exit: gl.Config.Direction == lane.DirectionOut, phase: lane.PhaseIdle, gl: gl}
	if err := e.wire(l); err != nil {
		return gate.Devices{}, err
	}
	e.lanes[l.name] = l
	devs := gate.Devices{Barrier: l.barrier, Run: l.runDevices, Voice: l.voice.driver}
	if !l.exit {
		devs.Faces = faces{l: l}
		devs.Waybills = e.waybillLooker()
	}
	return devs, nil
}

// wire builds a lane's hardware and its drivers. The lane's runner does not
// exist yet: the drivers' callbacks only use it once the run starts.
func (e *Engine) wire(l *simLane) error {
	if err := e.wireGPIO(l); err != nil {
		return err
	}
	if err := e.wireVoice(l); err != nil {
		return err
	}
	if l.exit {
		return nil
	}
	for _, role := range []registry.Role{registry.RoleDriver, registry.RoleEscort} {
		if err := e.wireReader(l, role); err != nil {
			return err
		}
	}
	if err := e.wireScanner(l); err != nil {
		return err
	}
	if err := e.wireScale(l); err != nil {
		return err
	}
	return e.wireFace(l)
}

// wireGPIO registers the lane's pins and opens them by name with the real
// loop and barrier drivers. Every pin tells its driver the instant the
// simulation changes it, so debouncing and limit switches run exactly on the
// fake clock.
func (e *Engine) wireGPIO(l *simLane) error {
	travel := e.timings.BarrierOpen.D()
	if travel <= 0 {
		travel = time.Nanosecond
	}
	sl, err := simgpio.NewLane(simgpio.LaneConfig{Name: fmt.Sprintf("%s.%d", l.name, e.id), Clock: e.clk, Travel: travel,
		LoopActiveLow: true, RelayActiveLow: true, LimitActiveLow: true})
	if err != nil {
		return fmt.Errorf("sim: lane %s: %w", l.name, err)
	}
	e.cleanup = append(e.cleanup, func() { sl.Close() })
	l.gpio = sl
	l.gl.Health(gate.DeviceGPIO, gate.KindGPIO, nil)
	names := sl.PinNames()
	pin := func(key string) (*simgpio.Pin, error) {
		p, err := devgpio.Lookup(names[key])
		if err != nil {
			return nil, fmt.Errorf("sim: lane %s %s: %w", l.name, key, err)
		}
		sp, ok := p.(*simgpio.Pin)
		if !ok {
			return nil, fmt.Errorf("sim: lane %s %s: %s is not a simulated pin", l.name, key, names[key])
		}
		return sp, nil
	}
	loop := func(key string, onChange func(bool)) (*devgpio.Loop, error) {
		p, err := pin(key)
		if err != nil {
			return nil, err
		}
		lp, err := devgpio.NewLoop(devgpio.LoopConfig{Name: l.name + "/" + key, Pin: p, ActiveLow: true,
			Debounce: loopDebounce, Clock: e.clk, OnChange: onChange})
		if err != nil {
			return nil, fmt.Errorf("sim: %w", err)
		}
		p.Watch(lp.Sample)
		return lp, nil
	}
	if l.arrival, err = loop("arrival_loop", l.gl.ArrivalLoop); err != nil {
		return err
	}
	if l.safety, err = loop("safety_loop", l.gl.SafetyLoop); err != nil {
		return err
	}
	var pins [4]*simgpio.Pin
	for i, key := range []string{"open_pin", "close_pin", "open_limit_pin", "closed_limit_pin"} {
		if pins[i], err = pin(key); err != nil {
			return err
		}
	}
	b, err := devgpio.NewBarrier(devgpio.BarrierConfig{Name: l.name + "/" + devBarrier, Mode: devgpio.ModePulse,
		OpenRelay: pins[0], CloseRelay: pins[1], RelayActiveLow: true,
		OpenLimit: pins[2], ClosedLimit: pins[3], LimitActiveLow: true,
		FeedbackTimeout: max(10*time.Second, 2*travel), Safety: l.safety, Clock: e.clk, Log: e.log,
		OnState: l.barrierState})
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	pins[2].Watch(b.Sample)
	pins[3].Watch(b.Sample)
	l.barrier = b
	return nil
}

// barrierState is the barrier driver's feedback: it goes to the lane, and
// a barrier that reports open lets the waiting vehicle through. It runs
// under the driver's lock, so the vehicle moves on the clock.
func (l *simLane) barrierState(state lane.BarrierState) {
	l.gl.BarrierState(state)
	if state == lane.BarrierOpen {
		l.sim.clk.AfterFunc(0, l.vehicleDrivesThrough)
	}
}

// initialState reports the pins' and the barrier's initial states, as
// their drivers' Run does.
func (l *simLane) initialState() {
	l.gl.BarrierState(l.barrier.State())
	if l.arrival.Occupied() {
		l.gl.ArrivalLoop(true)
	}
	l.gl.SafetyLoop(l.safety.Occupied())
}

// runDevices runs the lane's serial drivers until ctx ends; then the
// serial devices are unplugged, which wakes their drivers at once.
func (l *simLane) runDevices(ctx context.Context) {
	e := l.sim
	var wg sync.WaitGroup
	for _, r := range l.readers {
		wg.Go(func() { r.driver.Run(ctx, r.event) })
	}
	if s := l.scanner; s != nil {
		wg.Go(func() { s.driver.Run(ctx, s.event) })
	}
	wg.Go(func() { l.voice.driver.Run(ctx, l.voice.event) })
	if w := l.scale; w != nil {
		wg.Go(func() { w.driver.Run(ctx, w.event) })
	}
	<-ctx.Done()
	e.closing.Store(true)
	l.voice.sim.Close()
	for _, r := range l.readers {
		r.sim.Close()
	}
	if l.scanner != nil {
		l.scanner.sim.Close() // a scan still being written fails and ends
		l.scanner.writes.Wait()
	}
	if l.scale != nil {
		l.scale.sim.Close()
	}
	wg.Wait()
}
