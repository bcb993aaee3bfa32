package gate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/device/idcard"
	"github.com/hazgate/hazgate/device/scale"
	"github.com/hazgate/hazgate/device/scanner"
	"github.com/hazgate/hazgate/health"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/record"
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

// DefaultFaultWindow is how long a device must fail to answer before it is
// in fault when the configuration does not say (fault_window).
const DefaultFaultWindow = 3 * time.Second

// deviceHealth is what the lane knows of one device's health.
type deviceHealth struct {
	seen    bool        // reported at least once (working, or in fault past the window)
	fault   string      // the fault reported ("" while it works)
	pending error       // a fault waiting out the window
	timer   clock.Timer // ends the window
	kind    string
}

// Health records a device's state (err nil: working) for the status feed
// and the kiosk, tells the lane when it fails or comes back, and raises the
// device's device_fault alarm and clears it. A device is in fault only once
// it has failed for the gate's fault window without coming back: a reader
// that misses one poll under load and answers the next is not. A device
// that keeps failing the same way is reported once. A device found working
// at start clears an alarm left on from before a restart; one still in
// fault after a restart is not raised again (the store keeps the alarms
// that are on).
func (l *Lane) Health(device, kind string, err error) {
	if err != nil {
		l.mu.Lock()
		h := l.deviceHealth(device, kind)
		if h.fault != "" || h.timer != nil {
			h.pending = err // already in fault, or waiting: nothing new to tell
			l.mu.Unlock()
			return
		}
		h.pending = err
		h.timer = l.g.clk.AfterFunc(l.g.faultWindow, func() { l.faultConfirmed(device) })
		l.mu.Unlock()
		l.log.Debug("device not answering; in fault if it does not come back within the fault window",
			"device", device, "window", l.g.faultWindow, "err", err)
		return
	}
	l.mu.Lock()
	h := l.deviceHealth(device, kind)
	if h.timer != nil {
		h.timer.Stop()
		h.timer, h.pending = nil, nil
	}
	first, was := !h.seen, h.fault
	h.seen, h.fault = true, ""
	l.mu.Unlock()
	if !first && was == "" {
		return
	}
	name := l.DeviceName(device)
	now := l.g.clk.Now()
	l.g.Lanes.SetDevice(health.New(name, kind, l.Config.Name, "", now))
	l.clearFault(name, kind, now)
	if first {
		return // a device found working at start: nothing to tell the lane
	}
	l.Runner.Send(lane.DeviceFault{Device: name, Fault: false})
	l.log.Info("device ok", "device", device)
}

// faultConfirmed: the device's fault window ended without it coming back.
func (l *Lane) faultConfirmed(device string) {
	l.mu.Lock()
	h := l.health[device]
	if h == nil || h.pending == nil {
		l.mu.Unlock()
		return // it came back meanwhile
	}
	err := h.pending
	msg := err.Error()
	if msg == "" {
		msg = "fault" // never "": that is the health of a working device
	}
	h.timer, h.pending = nil, nil
	h.seen, h.fault = true, msg
	kind := h.kind
	l.mu.Unlock()
	name := l.DeviceName(device)
	now := l.g.clk.Now()
	code, text := DeviceFaultReason(kind, name, err)
	d := health.New(name, kind, l.Config.Name, text.EN, now)
	d.Code, d.DetailZH = code, text.ZH
	l.g.Lanes.SetDevice(d)
	l.Runner.Send(lane.DeviceFault{Device: name, Fault: true, Detail: text.EN})
	l.log.Error("device fault", "device", device, "code", code, "err", err)
	c := record.Condition{Key: AlarmKeyDevice(name), Lane: l.Config.Name, Kind: record.AlarmDeviceFault, Code: code, Text: text}
	ctx, cancel := context.WithTimeout(context.Background(), alarmWriteBound)
	defer cancel()
	_, raised, err := l.g.Keeper.Raise(ctx, c, now)
	if err != nil {
		l.log.Error("device_fault alarm not recorded", "device", device, "err", err)
	}
	if raised && l.g.obs != nil && l.g.obs.Alarm != nil {
		l.g.obs.Alarm(l.Config.Name, record.AlarmDeviceFault)
	}
}

// clearFault clears the device's device_fault alarm, if it is on.
func (l *Lane) clearFault(name, kind string, now time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), alarmWriteBound)
	defer cancel()
	what := deviceWords(kind)
	text := record.Text{ZH: fmt.Sprintf("%s %s 恢复正常", what.ZH, name), EN: fmt.Sprintf("%s %s works again", what.EN, name)}
	if _, err := l.g.Keeper.Clear(ctx, AlarmKeyDevice(name), text, now); err != nil {
		l.log.Error("device_fault alarm not cleared", "device", name, "err", err)
	}
}

// alarmWriteBound bounds an alarm's write to the store.
const alarmWriteBound = 10 * time.Second

// AlarmKeyDevice is the key of a device's device_fault alarm.
func AlarmKeyDevice(name string) string { return record.AlarmDeviceFault + "/" + name }

func (l *Lane) deviceHealth(device, kind string) *deviceHealth {
	h := l.health[device]
	if h == nil {
		h = &deviceHealth{}
		l.health[device] = h
	}
	h.kind = kind
	return h
}

// The reason codes of a device fault.
const (
	FaultUnplugged     = "device_unplugged"      // cannot be opened, or its stream ended
	FaultNotResponding = "device_not_responding" // open, but does not answer
	FaultOther         = "device_fault"          // anything else the driver calls a fault
)

// DeviceFaultReason is a device fault's stable reason code and its text
// for people (the driver's error goes to the log).
func DeviceFaultReason(kind, name string, err error) (string, record.Text) {
	what := deviceWords(kind)
	if code, text := driverFacingFault(what, name, err); code != "" {
		return code, text
	}
	switch {
	case errors.Is(err, idcard.ErrNotResponding), errors.Is(err, ErrCameraSilent), errors.Is(err, scale.ErrSilent):
		return FaultNotResponding, record.Text{ZH: fmt.Sprintf("%s %s 无应答", what.ZH, name), EN: fmt.Sprintf("%s %s does not answer", what.EN, name)}
	case errors.Is(err, idcard.ErrUnplugged), errors.Is(err, scanner.ErrUnplugged), errors.Is(err, scale.ErrUnplugged):
		return FaultUnplugged, record.Text{ZH: fmt.Sprintf("%s %s 未连接或无法打开", what.ZH, name), EN: fmt.Sprintf("%s %s is unplugged or cannot be opened", what.EN, name)}
	}
	return FaultOther, record.Text{ZH: fmt.Sprintf("%s %s 故障", what.ZH, name), EN: fmt.Sprintf("%s %s is in fault", what.EN, name)}
}

// deviceWords names a kind of device for people.
func deviceWords(kind string) record.Text {
	switch kind {
	case KindIDCard:
		return record.Text{ZH: "身份证阅读器", EN: "ID-card reader"}
	case KindScanner:
		return record.Text{ZH: "运单扫描枪", EN: "Waybill scanner"}
	case KindGPIO:
		return record.Text{ZH: "地感与道闸接口", EN: "Loop and barrier I/O"}
	case KindScale:
		return record.Text{ZH: "地磅仪表", EN: "Weighbridge indicator"}
	case "camera":
		return record.Text{ZH: "摄像机", EN: "Camera"}
	case KindPlateCamera:
		return record.Text{ZH: "车牌识别摄像机", EN: "Plate camera"}
	case "facematch":
		return record.Text{ZH: "人脸比对服务", EN: "Face-match service"}
	case KindVoice:
		return record.Text{ZH: "语音播报器", EN: "Voice board"}
	case KindDisplay:
		return record.Text{ZH: "室外显示屏", EN: "Outdoor display"}
	}
	return record.Text{ZH: "设备", EN: "Device"}
}

// mask keeps the last four characters of an ID number for the log.
func mask(id string) string {
	if len(id) <= 4 {
		return id
	}
	return "**************"[:min(14, len(id)-4)] + id[len(id)-4:]
}
