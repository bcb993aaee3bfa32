package gate

import (
	"github.com/hazgate/hazgate/device/idcard"
	"github.com/hazgate/hazgate/device/scanner"
	"github.com/hazgate/hazgate/health"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/registry"
)

// The device names of a lane, as the configuration names them; a device's
// full name is "<lane>/<device>" (in-1/idcard).
const (
	DeviceIDCard       = "idcard"
	DeviceEscortIDCard = "escort_idcard"
	DeviceScanner      = "scanner"
	DeviceGPIO         = "gpio"
)

// The device kinds in health reports.
const (
	KindIDCard  = "idcard" // both readers
	KindScanner = "scanner"
	KindGPIO    = "gpio"
)

// DeviceName is the full name of one of the lane's devices.
func (l *Lane) DeviceName(device string) string { return l.Config.Name + "/" + device }

// Card delivers what an ID-card reader reported: a card goes to the lane
// (role "" lets the lane tell the driver, first, from the escort) and its
// photo to the face matcher; a fault or a recovery is the reader's health.
func (l *Lane) Card(device string, role registry.Role, ev idcard.Event) {
	switch ev.Kind {
	case idcard.EventCard:
		c := ev.Card
		l.g.Photos.Put(l.Config.Name, c.IDNumber, c.Photo)
		l.log.Info("ID card read", "device", device, "id", mask(c.IDNumber), "kind", c.Kind)
		l.Runner.Send(lane.CardRead{Person: c.Person(), Role: role})
	case idcard.EventCardError:
		l.log.Warn("ID card could not be read: present it again", "device", device, "err", ev.Err)
	case idcard.EventFault:
		l.Health(device, KindIDCard, ev.Err)
	case idcard.EventRecovered:
		l.Health(device, KindIDCard, nil)
	}
}

// Scan delivers what the waybill scanner reported.
func (l *Lane) Scan(device string, ev scanner.Event) {
	switch ev.Kind {
	case scanner.EventScan:
		l.Runner.Send(lane.WaybillScanned{Number: ev.Waybill})
	case scanner.EventRejected:
		l.log.Warn("scan is not a waybill", "device", device, "scan", ev.Raw, "err", ev.Err)
	case scanner.EventFault:
		l.Health(device, KindScanner, ev.Err)
	case scanner.EventRecovered:
		l.Health(device, KindScanner, nil)
	}
}

// ArrivalLoop delivers the arrival loop detector's state.
func (l *Lane) ArrivalLoop(occupied bool) {
	if occupied {
		l.Runner.Send(lane.VehiclePresent{})
	} else {
		l.Runner.Send(lane.VehicleGone{})
	}
}

// SafetyLoop delivers the state of the loop under the barrier.
func (l *Lane) SafetyLoop(occupied bool) { l.Runner.Send(lane.SafetyLoop{Occupied: occupied}) }

// BarrierState delivers the barrier's reported state.
func (l *Lane) BarrierState(state lane.BarrierState) {
	l.Runner.Send(lane.BarrierFeedback{State: state})
}

// Health records a device's state (err nil: working) for the status feed
// and the kiosk and tells the lane when it fails or comes back. A device
// that keeps failing the same way is reported once.
func (l *Lane) Health(device, kind string, err error) {
	msg := ""
	if err != nil {
		msg = err.Error()
		if msg == "" {
			msg = "fault" // never "": that is the health of a working device
		}
	}
	l.mu.Lock()
	prev, seen := l.health[device]
	l.health[device] = msg
	l.mu.Unlock()
	if seen && prev == msg {
		return
	}
	name := l.DeviceName(device)
	d := health.New(name, kind, l.Config.Name, msg, l.g.clk.Now())
	l.g.Lanes.SetDevice(d)
	if !seen && err == nil {
		return // a device found working at start: nothing to tell the lane
	}
	l.Runner.Send(lane.DeviceFault{Device: name, Fault: err != nil, Detail: d.Detail})
	if err != nil {
		l.log.Error("device fault", "device", device, "err", err)
	} else {
		l.log.Info("device ok", "device", device)
	}
}

// mask keeps the last four characters of an ID number for the log.
func mask(id string) string {
	if len(id) <= 4 {
		return id
	}
	return "**************"[:min(14, len(id)-4)] + id[len(id)-4:]
}
