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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/device/camera"
	"github.com/hazgate/hazgate/device/facematch"
	devgpio "github.com/hazgate/hazgate/device/gpio"
	"github.com/hazgate/hazgate/device/idcard"
	"github.com/hazgate/hazgate/device/plate"
	"github.com/hazgate/hazgate/device/scanner"
	"github.com/hazgate/hazgate/device/serialport"
	"github.com/hazgate/hazgate/health"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/sim/simgpio"
	"github.com/hazgate/hazgate/sim/simhttp"
	"github.com/hazgate/hazgate/sim/simreader"
	"github.com/hazgate/hazgate/sim/simscanner"
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

// Device names, as the configuration names them, after the lane.
const (
	devIDCard       = "idcard"
	devEscortIDCard = "escort_idcard"
	devScanner      = "scanner"
	kindIDCard      = "idcard" // the device kind of both readers
	devGPIO         = "gpio"
	devCamera       = "camera"
	devBarrier      = "barrier"
)

// act queues a step that touches a real-time device; the loop runs the
// queued steps one at a time, each followed by a wait for its effects. Call
// it from fake-clock timers.
func (e *Engine) act(f func()) {
	e.dev.Lock()
	e.actions = append(e.actions, f)
	e.dev.Unlock()
}

// changedLocked wakes whoever waits for the devices. e.dev is held.
func (e *Engine) changedLocked() {
	close(e.devChanged)
	e.devChanged = make(chan struct{})
}

// faceWork counts face matches at work in real time (not waiting on the
// fake clock).
func (e *Engine) faceWork(n int) {
	e.dev.Lock()
	e.faceBusy += n
	e.changedLocked()
	e.dev.Unlock()
}

// settle runs the queued device steps one at a time and returns when the
// devices and the lanes are quiet: nothing happens any more until the fake
// clock moves.
func (e *Engine) settle(ctx context.Context) error {
	for {
		if err := e.quiesce(ctx); err != nil {
			return err
		}
		e.dev.Lock()
		if len(e.actions) == 0 {
			e.dev.Unlock()
			return nil
		}
		f := e.actions[0]
		e.actions = e.actions[1:]
		e.dev.Unlock()
		f()
	}
}

// quiesce waits for the devices to deliver what they owe, then for the
// lanes to handle it, until both are quiet.
func (e *Engine) quiesce(ctx context.Context) error {
	for {
		if err := e.devicesQuiet(ctx); err != nil {
			return err
		}
		for _, name := range e.sc.Lanes() {
			if err := e.lanes[name].runner.Sync(ctx); err != nil {
				return fmt.Errorf("sim: lane %s: %w", name, err)
			}
		}
		e.dev.Lock()
		why := e.busyLocked()
		e.dev.Unlock()
		if why == "" {
			return nil
		}
	}
}

// devicesQuiet waits, at most settleBound, until no device owes a delivery.
func (e *Engine) devicesQuiet(ctx context.Context) error {
	var bound *time.Timer
	for {
		e.dev.Lock()
		e.pumpLocked()
		why := e.busyLocked()
		ch := e.devChanged
		e.dev.Unlock()
		if why == "" {
			return nil
		}
		if bound == nil {
			bound = time.NewTimer(settleBound)
			defer bound.Stop()
		}
		select {
		case <-ch:
		case <-bound.C:
			return fmt.Errorf("sim: %s: at %s the simulated devices did not settle within %v: %s", e.sc.Name, e.offset(e.clk.Now()), settleBound, why)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// pumpLocked carries out what waited for a device to be ready: a card
// presented again once the reader has seen its field empty, a scan once
// the scanner's driver has it open.
func (e *Engine) pumpLocked() {
	for _, name := range e.sc.Lanes() {
		l := e.lanes[name]
		for _, r := range l.readers {
			r.pumpLocked()
		}
		if l.scanner != nil {
			l.scanner.pumpLocked()
		}
	}
}

// busyLocked says what the devices still owe ("" when nothing).
func (e *Engine) busyLocked() string {
	if e.faceBusy > 0 {
		return fmt.Sprintf("%d face match(es) unanswered", e.faceBusy)
	}
	for _, name := range e.sc.Lanes() {
		l := e.lanes[name]
		for _, r := range l.readers {
			if why := r.busyLocked(); why != "" {
				return r.name + ": " + why
			}
		}
		if s := l.scanner; s != nil {
			if why := s.busyLocked(); why != "" {
				return s.name + ": " + why
			}
		}
	}
	return ""
}

// deviceNote prints a progress line about a device.
// deviceHealth reports a device's fault (with err) or recovery to its lane,
// applies update to the simulated device's state under the device lock, and
// notes it in the progress.
func (e *Engine) deviceHealth(l *simLane, device, kind string, fault bool, err error, update func()) {
	detail, note, faultText := "recovered", "recovered", ""
	if fault {
		detail = errText(err)
		note, faultText = "fault: "+detail, detail
	}
	e.reportDevice(l, device, kind, faultText)
	l.runner.Send(lane.DeviceFault{Device: device, Fault: fault, Detail: detail})
	e.dev.Lock()
	update()
	e.changedLocked()
	e.dev.Unlock()
	e.deviceNote(l.name, device, note)
}

// reportDevice puts a device's health where the appliance puts it: in the
// status feed (uplink) and on the kiosk's health page.
func (e *Engine) reportDevice(l *simLane, device, kind, fault string) {
	e.all.SetDevice(health.New(device, kind, l.name, fault, e.clk.Now()))
}

func (e *Engine) deviceNote(laneName, device, what string) {
	e.printf("[%s] %s device %s %s\n", e.offset(e.clk.Now()), pad(laneName, 6), device, what)
}

// wire builds a lane's hardware and its drivers. The lane's runner does not
// exist yet: the drivers' callbacks only use it once the run starts.
func (e *Engine) wire(l *simLane) error {
	if err := e.wireGPIO(l); err != nil {
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
	e.reportDevice(l, l.name+"/"+devGPIO, devGPIO, "")
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
	if l.arrival, err = loop("arrival_loop", func(occupied bool) {
		if occupied {
			l.runner.Send(lane.VehiclePresent{})
		} else {
			l.runner.Send(lane.VehicleGone{})
		}
	}); err != nil {
		return err
	}
	if l.safety, err = loop("safety_loop", func(occupied bool) { l.runner.Send(lane.SafetyLoop{Occupied: occupied}) }); err != nil {
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
	l.runner.Send(lane.BarrierFeedback{State: state})
	if state == lane.BarrierOpen {
		l.sim.clk.AfterFunc(0, l.vehicleDrivesThrough)
	}
}

// startDevices reports the pins' and the barrier's initial states, as their
// drivers' Run does, and starts the serial drivers.
func (e *Engine) startDevices(ctx context.Context, l *simLane) {
	l.runner.Send(lane.BarrierFeedback{State: l.barrier.State()})
	if l.arrival.Occupied() {
		l.runner.Send(lane.VehiclePresent{})
	}
	l.runner.Send(lane.SafetyLoop{Occupied: l.safety.Occupied()})
	for _, r := range l.readers {
		e.devWG.Go(func() { r.driver.Run(ctx, r.event) })
	}
	if s := l.scanner; s != nil {
		e.devWG.Go(func() { s.driver.Run(ctx, s.event) })
	}
}

// pushPlate is the lane's plate camera pushing its read to the gate's push
// endpoint (device/plate), as ANPR cameras do, with the lane's token. The
// endpoint answers at once; a push it refuses reaches no lane.
func (l *simLane) pushPlate(v *vehicle) {
	e := l.sim
	one := 1.0
	body, _ := json.Marshal(plate.Push{Plate: v.a.Plate, Trailer: v.a.Trailer, Confidence: &one})
	req := httptest.NewRequest(http.MethodPost, "/api/v1/lanes/"+url.PathEscape(l.name)+"/plate", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+plateToken(l.name))
	rec := httptest.NewRecorder()
	e.plates.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted {
		e.deviceNote(l.name, l.name+"/plate_camera", fmt.Sprintf("push refused: %d %s", rec.Code, strings.TrimSpace(rec.Body.String())))
	}
}

// plateToken is a lane's plate camera token.
func plateToken(laneName string) string { return "sim-plate-" + laneName }

// plateEndpoint is the gate's plate push endpoint for the scenario's lanes.
func (e *Engine) plateEndpoint() *plate.Handler {
	tokens := map[string]string{}
	for _, name := range e.sc.Lanes() {
		tokens[name] = plateToken(name)
	}
	return plate.NewHandler(plate.Config{Tokens: tokens, Deliver: func(laneName string, read lane.PlateRead) error {
		l := e.lanes[laneName]
		if l == nil {
			return fmt.Errorf("no lane %s", laneName)
		}
		l.runner.Send(read)
		return nil
	}})
}

// cardReader is one simulated GA 467 reader and the real driver reading it.
type cardReader struct {
	e      *Engine
	l      *simLane
	name   string        // "in-1/idcard"
	role   registry.Role // the role of every card read on it
	sim    *simreader.Reader
	driver *idcard.Reader

	// Guarded by e.dev.
	down     bool          // unplugged or silent: its driver must be in fault
	faulted  bool          // its driver reported a fault and no recovery yet
	want     *presentation // the card someone holds to it, not read yet
	placed   bool          // want is in the reader's field
	finds    int           // "find card" commands answered
	lastID   string        // the card last read (or that failed to read)
	lastFind int           // finds when it was
}

// presentation is a card held to a reader until it is read.
type presentation struct {
	id    string
	card  idcard.Card
	tries int
}

func (e *Engine) wireReader(l *simLane, role registry.Role) error {
	dev := devIDCard
	if role == registry.RoleEscort {
		dev = devEscortIDCard
	}
	path := filepath.Join(e.devDir, "hazgate-"+strings.ReplaceAll(dev, "_", "-")+"-"+l.name)
	sr, err := simreader.New(path)
	if err != nil {
		return fmt.Errorf("sim: lane %s: %w", l.name, err)
	}
	e.cleanup = append(e.cleanup, func() { sr.Close() })
	r := &cardReader{e: e, l: l, name: l.name + "/" + dev, role: role, sim: sr}
	e.reportDevice(l, r.name, kindIDCard, "")
	sr.Fake().OnFind(r.found)
	r.driver = idcard.NewReader(idcard.ReaderConfig{
		Open: func() (io.ReadWriteCloser, error) {
			p, err := serialport.Open(path, readerBaud)
			if err != nil {
				return nil, err
			}
			return p, nil
		},
		Options:     idcard.Options{Clock: clock.Real{}, Timeout: readerTimeout, Baud: readerBaud, Log: e.log.With("device", r.name)},
		Poll:        readerPoll,
		MinBackoff:  20 * time.Millisecond,
		MaxBackoff:  200 * time.Millisecond,
		AbsentPolls: absentPolls,
	})
	l.readers = append(l.readers, r)
	return nil
}

// found counts the reader's answers to "find card".
func (r *cardReader) found() {
	r.e.dev.Lock()
	r.finds++
	r.e.changedLocked()
	r.e.dev.Unlock()
}

// present has p hold their card to the reader until it is read (or the
// vehicle leaves). A device step.
func (r *cardReader) present(p *Presenter) {
	card := r.e.cardFor(p)
	r.e.dev.Lock()
	defer r.e.dev.Unlock()
	if r.placed {
		r.sim.Remove()
	}
	r.want, r.placed = &presentation{id: strings.ToUpper(p.IDNumber), card: card}, false
	r.e.changedLocked()
}

// takeAway removes any card still held to the reader. A device step.
func (r *cardReader) takeAway() {
	r.e.dev.Lock()
	defer r.e.dev.Unlock()
	if r.placed {
		r.sim.Remove()
	}
	r.want, r.placed = nil, false
}

// pumpLocked puts the held card in the field once the driver will take it
// as a new presentation: after a card was read, the driver must see the
// field empty before the same card counts again.
func (r *cardReader) pumpLocked() {
	if r.want == nil || r.placed {
		return
	}
	if !r.down && !r.faulted && r.lastID == r.want.id && r.finds-r.lastFind <= absentPolls {
		return
	}
	if err := r.sim.Present(r.want.card); err != nil {
		r.e.deviceNote(r.l.name, r.name, fmt.Sprintf("cannot make card %s: %v", r.want.id, err))
		r.want = nil
		return
	}
	r.placed = true
}

func (r *cardReader) busyLocked() string {
	switch {
	case r.down && !r.faulted:
		return "waiting for the driver to report the fault"
	case !r.down && r.faulted:
		return "waiting for the driver to recover"
	case r.want != nil && !r.placed:
		return "waiting for the driver to see the field empty"
	case r.placed && !r.down:
		return "waiting for the driver to read the card"
	}
	return ""
}

// event handles what the driver reports, from its goroutine: the lane gets
// it first, then the loop learns that it was delivered.
func (r *cardReader) event(ev idcard.Event) {
	e, l := r.e, r.l
	if e.closing.Load() {
		return
	}
	switch ev.Kind {
	case idcard.EventCard:
		c := ev.Card
		e.photos.Put(l.name, c.IDNumber, c.Photo)
		l.runner.Send(lane.CardRead{Person: c.Person(), Role: r.role})
		r.sim.Remove() // the person takes the card back
		e.dev.Lock()
		r.want, r.placed = nil, false
		r.lastID, r.lastFind = strings.ToUpper(c.IDNumber), r.finds
		e.changedLocked()
		e.dev.Unlock()
	case idcard.EventCardError:
		r.sim.Remove() // taken away, to be presented again
		e.dev.Lock()
		r.placed = false
		r.lastFind = r.finds
		if w := r.want; w != nil {
			r.lastID = w.id
			if w.tries++; w.tries >= maxCardTries {
				r.want = nil
			}
		}
		e.changedLocked()
		e.dev.Unlock()
		e.deviceNote(l.name, r.name, fmt.Sprintf("could not read a card: %v", ev.Err))
	case idcard.EventFault:
		e.deviceHealth(l, r.name, kindIDCard, true, ev.Err, func() { r.faulted = true })
	case idcard.EventRecovered:
		e.deviceHealth(l, r.name, kindIDCard, false, nil, func() { r.faulted = false })
	}
}

// inject starts (on) or ends (off) a fault of kind. A device step.
func (r *cardReader) inject(kind string, on bool) error {
	e := r.e
	var err error
	switch kind {
	case "unplug":
		if on {
			err = r.sim.Unplug()
		} else {
			err = r.sim.Plug()
		}
	case "silence":
		r.sim.Silence(on)
	case "noise":
		r.sim.Noise(on)
		return nil
	default:
		return fmt.Errorf("sim: %s: unknown fault %q", r.name, kind)
	}
	e.dev.Lock()
	r.down = on
	e.changedLocked()
	e.dev.Unlock()
	return err
}

// cardFor is the card a presenter holds: the registry's person with the
// arrival's overrides. A card with no valid-from date in the registry was
// issued ten (or twenty) years before it expires, or a year before the
// scenario for a long-term card.
func (e *Engine) cardFor(p *Presenter) idcard.Card {
	ev := e.card(p)
	if ev.CardValidFrom.IsZero() {
		ev.CardValidFrom = e.issued(ev.CardValidUntil)
	}
	return simreader.CardFor(ev, e.persons[p.IDNumber])
}

func (e *Engine) issued(until registry.Validity) registry.Validity {
	now := e.start.In(e.loc)
	if !until.IsZero() {
		u := until.Start(e.loc)
		for _, years := range []int{10, 20} {
			from := registry.Date(u.Year()-years, u.Month(), u.Day())
			if !from.Start(e.loc).After(now) {
				return from
			}
		}
	} else if from := registry.Date(2016, 1, 1); !from.Start(e.loc).After(now) {
		return from
	}
	return registry.Date(now.Year()-1, now.Month(), now.Day())
}

func errText(err error) string {
	if err == nil || err.Error() == "" {
		return "fault"
	}
	return err.Error()
}

// waybillScanner is one simulated scanner and the real driver reading it.
type waybillScanner struct {
	e      *Engine
	l      *simLane
	name   string
	sim    *simscanner.Scanner
	driver *scanner.Reader

	// Guarded by e.dev.
	down    bool // unplugged: its driver must be in fault
	faulted bool // its driver reported a fault and no recovery yet
	open    bool // its driver has the port open
	want    string
	wanted  bool // want is held under the scanner, not scanned yet
	written bool // want was scanned; its line is on its way
}

func (e *Engine) wireScanner(l *simLane) error {
	path := filepath.Join(e.devDir, "hazgate-scanner-"+l.name)
	ss, err := simscanner.New(path, "\r")
	if err != nil {
		return fmt.Errorf("sim: lane %s: %w", l.name, err)
	}
	e.cleanup = append(e.cleanup, func() { ss.Close() })
	s := &waybillScanner{e: e, l: l, name: l.name + "/" + devScanner, sim: ss}
	e.reportDevice(l, s.name, devScanner, "")
	s.driver = scanner.NewReader(scanner.Config{
		Open: func() (io.ReadCloser, error) {
			p, err := serialport.Open(path, scannerBaud)
			if err != nil {
				return nil, err
			}
			e.dev.Lock()
			s.open = true
			e.changedLocked()
			e.dev.Unlock()
			return p, nil
		},
		Clock:      clock.Real{},
		Log:        e.log.With("device", s.name),
		MinBackoff: 20 * time.Millisecond,
		MaxBackoff: 200 * time.Millisecond,
	})
	l.scanner = s
	return nil
}

// scan holds payload under the scanner until it is scanned. A device step.
func (s *waybillScanner) scan(payload string) {
	s.e.dev.Lock()
	defer s.e.dev.Unlock()
	s.want, s.wanted, s.written = payload, true, false
	s.e.changedLocked()
}

// takeAway drops a scan that has not happened. A device step.
func (s *waybillScanner) takeAway() {
	s.e.dev.Lock()
	defer s.e.dev.Unlock()
	if !s.written {
		s.wanted = false
	}
}

func (s *waybillScanner) pumpLocked() {
	if !s.wanted || s.written || s.down || s.faulted || !s.open {
		return
	}
	if err := s.sim.Scan(s.want); err != nil {
		s.e.deviceNote(s.l.name, s.name, fmt.Sprintf("scan not written: %v", err))
		s.wanted = false
		return
	}
	s.written = true
}

func (s *waybillScanner) busyLocked() string {
	switch {
	case s.down && !s.faulted:
		return "waiting for the driver to report the fault"
	case !s.down && s.faulted:
		return "waiting for the driver to recover"
	case s.wanted && !s.written && !s.down:
		return "waiting for the driver to open the port"
	case s.written:
		return "waiting for the driver to read the scan"
	}
	return ""
}

func (s *waybillScanner) event(ev scanner.Event) {
	e, l := s.e, s.l
	if e.closing.Load() {
		return
	}
	switch ev.Kind {
	case scanner.EventScan, scanner.EventRejected:
		if ev.Kind == scanner.EventScan {
			l.runner.Send(lane.WaybillScanned{Number: ev.Waybill})
		} else {
			e.deviceNote(l.name, s.name, fmt.Sprintf("rejected a scan: %v", ev.Err))
		}
		e.dev.Lock()
		s.wanted, s.written = false, false
		e.changedLocked()
		e.dev.Unlock()
	case scanner.EventFault:
		e.deviceHealth(l, s.name, devScanner, true, ev.Err, func() { s.faulted, s.open = true, false })
	case scanner.EventRecovered:
		e.deviceHealth(l, s.name, devScanner, false, nil, func() { s.faulted = false })
	}
}

// inject unplugs the scanner (on) or plugs it back (off). A device step.
func (s *waybillScanner) inject(kind string, on bool) error {
	if kind != "unplug" {
		return fmt.Errorf("sim: %s: unknown fault %q", s.name, kind)
	}
	var err error
	if on {
		err = s.sim.Unplug()
	} else {
		err = s.sim.Plug()
	}
	s.e.dev.Lock()
	s.down = on
	s.e.changedLocked()
	s.e.dev.Unlock()
	return err
}

// wireFace starts the lane's camera and its face-match service on loopback
// and the real camera and matcher drivers on them. Each entry lane has its
// own service, so that the scores the scenario gives each arrival stay
// apart.
func (e *Engine) wireFace(l *simLane) error {
	const user, password = "admin", "hazgate-sim"
	cam, err := simhttp.NewCamera(simhttp.CameraConfig{Auth: camera.AuthDigest, Username: user, Password: password, Clock: e.clk})
	if err != nil {
		return fmt.Errorf("sim: lane %s: %w", l.name, err)
	}
	e.cleanup = append(e.cleanup, func() { cam.Close() })
	drv, err := camera.New(camera.Config{URL: cam.SnapshotURL(), Username: user, Password: password, Auth: camera.AuthDigest})
	if err != nil {
		return fmt.Errorf("sim: lane %s: %w", l.name, err)
	}
	svc, err := simhttp.NewFace(parkClock{e, l})
	if err != nil {
		return fmt.Errorf("sim: lane %s: %w", l.name, err)
	}
	e.cleanup = append(e.cleanup, func() { svc.Close() })
	l.camera, l.face = cam, svc
	l.matcher = facematch.New(facematch.Config{
		URL: svc.URL(), Timeout: faceTimeout, Photos: e.photos,
		Cameras: func(string) facematch.Camera { return drv },
		Clock:   wakeClock{e, l}, Log: e.log.With("device", l.name+"/face_match"),
	})
	return nil
}

// setFace puts the face-match service in the state of a fault of kind
// (on), or back to working (off). A device step.
func (l *simLane) setFace(kind string, on bool) {
	switch kind {
	case "down":
		l.face.SetDown(on)
	case "slow":
		if on {
			l.face.SetSlow(faceSlow)
		} else {
			l.face.SetSlow(0)
		}
	}
}

// faces is a lane's FaceMatcher: the face is captured one face time after
// the card (on the fake clock), then the real matcher calls the lane's
// camera and face-match service, which answers the score the scenario gives
// this arrival's presenter (none: no face found).
type faces struct{ l *simLane }

var _ lane.FaceMatcher = faces{}

func (f faces) Match(ctx context.Context, laneName string, p checks.PersonEvidence, done func(*float64)) {
	l := f.l
	l.sim.clk.AfterFunc(l.sim.timings.Face.D(), func() {
		l.sim.act(func() { l.capture(ctx, laneName, p, done) })
	})
}

// capture is the face capture: a device step.
func (l *simLane) capture(ctx context.Context, laneName string, p checks.PersonEvidence, done func(*float64)) {
	var score *float64
	if v := l.current(); v != nil {
		for _, pr := range []*Presenter{v.a.Driver, v.a.Escort} {
			if pr != nil && strings.EqualFold(pr.IDNumber, p.IDNumber) && pr.Face != nil {
				s := *pr.Face
				score = &s
			}
		}
	}
	l.face.SetScore(p.IDNumber, score)
	e := l.sim
	e.faceWork(1)
	l.matcher.Match(ctx, laneName, p, func(s *float64) {
		done(s)
		e.faceWork(-1)
	})
}

// wakeClock is the fake clock for a lane's face matcher: when one of its
// timers fires (an attempt timed out), the matcher works again in real
// time, and the loop waits for it. Its timers only fire while the matcher
// waits on a slow service (a parkClock timer): otherwise the loop does not
// move the clock until the matcher has answered, and the matcher stops its
// timer. The attempt it ends is cancelled, so the requests parked at the
// lane's service are dropped first (see parkClock).
type wakeClock struct {
	e *Engine
	l *simLane
}

func (c wakeClock) Now() time.Time { return c.e.clk.Now() }

func (c wakeClock) AfterFunc(d time.Duration, f func()) clock.Timer {
	return c.e.clk.AfterFunc(d, func() { c.l.parked.drop(); c.e.faceWork(1); f() })
}

// parkClock is the fake clock for a lane's face-match service: a request
// that waits on one of its timers (a slow answer) is parked until the timer
// fires, so the loop may move the clock; when it fires, the answer goes out
// in real time and the loop waits for it again.
//
// A slow answer comes after the matcher's timeout (faceSlow > faceTimeout),
// so a parked request is always given up by its matcher first: the
// matcher's timeout (wakeClock) stops the parked timers on the fake clock
// before it cancels the request. Left to the service, which stops its timer
// only once net/http has seen the cancelled request (asynchronously, in
// real time), a busy machine could let the clock reach the timer first,
// count an answer nobody waits for, and hang the loop.
type parkClock struct {
	e *Engine
	l *simLane
}

func (c parkClock) Now() time.Time { return c.e.clk.Now() }

func (c parkClock) AfterFunc(d time.Duration, f func()) clock.Timer {
	// Parked before it stops counting as work: until then the loop does
	// not move the clock, so neither this timer nor a drop can come first.
	t := c.l.parked.add(c.e.clk, d, func() { c.e.faceWork(1); f() })
	c.e.faceWork(-1)
	return t
}

// parked are the timers of a lane's parked face requests.
type parked struct {
	mu     sync.Mutex
	timers map[*parkedTimer]bool
}

type parkedTimer struct {
	p *parked
	t clock.Timer
}

func (t *parkedTimer) Stop() bool {
	t.p.mu.Lock()
	delete(t.p.timers, t)
	t.p.mu.Unlock()
	return t.t.Stop()
}

// add starts a timer on clk that runs f after d unless drop or Stop comes
// first.
func (p *parked) add(clk clock.Clock, d time.Duration, f func()) clock.Timer {
	pt := &parkedTimer{p: p}
	pt.t = clk.AfterFunc(d, func() {
		p.mu.Lock()
		live := p.timers[pt]
		delete(p.timers, pt)
		p.mu.Unlock()
		if live {
			f()
		}
	})
	p.mu.Lock()
	if p.timers == nil {
		p.timers = map[*parkedTimer]bool{}
	}
	p.timers[pt] = true
	p.mu.Unlock()
	return pt
}

// drop stops every parked timer.
func (p *parked) drop() {
	p.mu.Lock()
	ts := p.timers
	p.timers = nil
	p.mu.Unlock()
	for pt := range ts {
		pt.t.Stop()
	}
}

// inject starts (on) or ends (off) a fault. A device step.
func (e *Engine) inject(f Fault, on bool) error {
	laneName, kind := splitDevice(f.Device)
	if kind == FaceDevice {
		for _, name := range e.sc.Lanes() {
			if l := e.lanes[name]; l.face != nil {
				l.setFace(f.Kind, on)
			}
		}
		return nil
	}
	l := e.lanes[laneName]
	if l == nil {
		return fmt.Errorf("sim: fault on %s: no lane %s", f.Device, laneName)
	}
	switch kind {
	case devIDCard, devEscortIDCard:
		for _, r := range l.readers {
			if r.name == f.Device {
				return r.inject(f.Kind, on)
			}
		}
	case devScanner:
		if l.scanner != nil {
			return l.scanner.inject(f.Kind, on)
		}
	case devCamera:
		if l.camera != nil {
			l.camera.SetDown(on)
			return nil
		}
	case devBarrier:
		l.gpio.Barrier.Jam(on)
		return nil
	}
	return fmt.Errorf("sim: fault on %s: no such device", f.Device)
}

// scheduleFaults puts the scenario's faults on the fake clock.
func (e *Engine) scheduleFaults() {
	for _, f := range e.sc.AllFaults() {
		what := f.Kind
		laneName, _ := splitDevice(f.Device)
		run := func(on bool) {
			state := "starts"
			if !on {
				state = "ends"
			}
			e.deviceNote(laneName, f.Device, fmt.Sprintf("fault %s %s (scenario)", what, state))
			if err := e.inject(f, on); err != nil {
				e.faultErr = errors.Join(e.faultErr, err)
			}
		}
		e.clk.AfterFunc(f.At.D(), func() { e.act(func() { run(true) }) })
		if end, ok := f.end(); ok {
			e.clk.AfterFunc(end, func() { e.act(func() { run(false) }) })
		}
	}
}
