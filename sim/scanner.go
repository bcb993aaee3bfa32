package sim

import (
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"time"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/device/scanner"
	"github.com/hazgate/hazgate/device/serialport"
	"github.com/hazgate/hazgate/gate"
	"github.com/hazgate/hazgate/sim/simscanner"
)

// waybillScanner is one simulated scanner and the real driver reading it.
type waybillScanner struct {
	e      *Engine
	l      *simLane
	name   string
	sim    *simscanner.Scanner
	driver *scanner.Reader
	writes sync.WaitGroup // scans being written, joined when the lane stops

	// Guarded by e.dev.
	driverHealth      // unplugged: down
	open         bool // its driver has the port open
	want         string
	wanted       bool // want is held under the scanner, not scanned yet
	written      bool // want was scanned; its line is on its way
}

func (e *Engine) wireScanner(l *simLane) error {
	path := filepath.Join(e.devDir, "hazgate-scanner-"+l.name)
	ss, err := simscanner.New(path, "\r")
	if err != nil {
		return fmt.Errorf("sim: lane %s: %w", l.name, err)
	}
	e.cleanup = append(e.cleanup, func() { ss.Close() })
	s := &waybillScanner{e: e, l: l, name: l.gl.DeviceName(gate.DeviceScanner), sim: ss}
	l.gl.Health(gate.DeviceScanner, gate.KindScanner, nil)
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
	// Written outside the device lock: a scan longer than the pty's buffer
	// is only taken as the driver reads it, and the driver's events take
	// the lock.
	s.written = true
	payload := s.want
	s.writes.Go(func() {
		if err := s.sim.Scan(payload); err != nil {
			s.e.deviceNote(s.l.name, s.name, fmt.Sprintf("scan not written: %v", err))
			s.e.dev.Lock()
			s.wanted, s.written = false, false
			s.e.changedLocked()
			s.e.dev.Unlock()
		}
	})
}

func (s *waybillScanner) busyLocked() string {
	if why := s.driverHealth.busyLocked(); why != "" {
		return why
	}
	switch {
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
		l.gl.Scan(gate.DeviceScanner, ev)
		if ev.Kind == scanner.EventRejected {
			e.rejected(l, l.current(), s.name, rejectedScan, ev.Err)
		}
		e.dev.Lock()
		s.wanted, s.written = false, false
		e.changedLocked()
		e.dev.Unlock()
	case scanner.EventFault:
		e.deviceHealth(l, gate.DeviceScanner, gate.KindScanner, ev.Err, func() { s.faulted, s.open = true, false })
	case scanner.EventRecovered:
		e.deviceHealth(l, gate.DeviceScanner, gate.KindScanner, nil, func() { s.faulted = false })
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

// driverHealth is what a simulated serial device's driver must have reported:
// a device made to fail (down) must be in fault, one put back must have
// recovered. Guarded by the engine's device lock.
type driverHealth struct {
	down    bool // made to fail: its driver must be in fault
	faulted bool // its driver reported a fault and no recovery yet
}

// busyLocked says what the driver still owes about the device's health
// ("" when nothing).
func (h driverHealth) busyLocked() string {
	switch {
	case h.down && !h.faulted:
		return "waiting for the driver to report the fault"
	case !h.down && h.faulted:
		return "waiting for the driver to recover"
	}
	return ""
}
