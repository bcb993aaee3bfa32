package gate

import (
	"io"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/device/scale"
	"github.com/hazgate/hazgate/lane"
)

// The weighbridge's device name and kind.
const (
	DeviceScale = "scale"
	KindScale   = "scale"
)

// ScaleReader is the driver of the lane's weighbridge indicator, reading
// the stream open opens (the serial port on the gate, a pty in the
// simulator) with the lane's scale settings on clk; nil when the lane has
// no scale.
func (l *Lane) ScaleReader(open func() (io.ReadCloser, error), clk clock.Clock) *scale.Reader {
	sc := l.Config.Scale
	if sc == nil {
		return nil
	}
	return scale.NewReader(scale.Config{
		Open: open, Clock: clk, Log: l.log.With("device", DeviceScale),
		KgPerUnit: sc.KgPerUnit(), StableFor: sc.StableFor.D(), BandKg: sc.BandKg, Silence: sc.Timeout.D(),
	})
}

// Weigh delivers what the weighbridge's indicator reported: a stable weight
// goes to the lane (which takes it as evidence only for the vehicle on its
// arrival loop), a fault or a recovery is the scale's health. Single
// readings and skipped garbage stay with the driver (its log).
func (l *Lane) Weigh(ev scale.Event) {
	switch ev.Kind {
	case scale.EventStable:
		l.Runner.Send(lane.WeightStable{Kg: ev.Stable.Kg, Since: ev.Stable.Since})
	case scale.EventFault:
		l.Health(DeviceScale, KindScale, ev.Err)
	case scale.EventRecovered:
		l.Health(DeviceScale, KindScale, nil)
	}
}
