package sim

import (
	"errors"
	"fmt"

	"github.com/hazgate/hazgate/gate"
)

// inject starts (on) or ends (off) a fault. A device step.
func (e *Engine) inject(f Fault, on bool) error {
	laneName, kind := splitDevice(f.Device)
	if kind == ClockDevice {
		e.setClockSynced(!on)
		return nil
	}
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
	case gate.DeviceIDCard, gate.DeviceEscortIDCard:
		for _, r := range l.readers {
			if r.name == f.Device {
				return r.inject(f.Kind, on)
			}
		}
	case gate.DeviceScanner:
		if l.scanner != nil {
			return l.scanner.inject(f.Kind, on)
		}
	case gate.DeviceScale:
		if l.scale != nil {
			return l.scale.inject(f.Kind, on)
		}
	case devCamera:
		if l.camera != nil {
			l.camera.SetDown(on)
			return nil
		}
	case devBarrier:
		l.gpio.Barrier.Jam(on)
		return nil
	case gate.DevicePlateCamera:
		e.plates.setSilent(laneName, on)
		return nil
	case gate.DeviceVoice:
		return l.voice.inject(f.Kind, on)
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
