package appliance

import (
	"log/slog"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/gate"
	"github.com/hazgate/hazgate/kiosk"
)

// KioskOptions are how the kiosk in front of a gate is served.
type KioskOptions struct {
	// Config is the kiosk's own settings; the gate's name, its zone and
	// the plate push endpoint are filled from the gate.
	Config kiosk.Config
	// Clock is the kiosk's wall clock (sessions, sign-in limits); GateClock
	// the gate's, when it differs (the simulator's scenario clock).
	Clock, GateClock clock.Clock
	// Disk is the directory whose free space the health page reports.
	Disk string
	Log  *slog.Logger
}

// NewKiosk is the operator's kiosk in front of an assembled gate: its
// lanes, records, devices' health, MQTT connection and plate pushes. The
// kiosk follows every lane change.
func NewKiosk(g *gate.Gate, o KioskOptions) (*kiosk.Server, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	kc := o.Config
	kc.Gate = g.Config.Gate
	kc.Location = g.Config.Location()
	kc.PlatePush = g.PlatePush
	deps := kiosk.Deps{
		Lanes: g.Lanes, Store: g.Store, Devices: g.Lanes,
		Disk: kiosk.DiskAt(o.Disk), Clock: o.Clock, GateClock: o.GateClock, Log: o.Log.With("component", "kiosk"),
	}
	if m := g.ClockMonitor; m != nil {
		deps.ClockState = m.State
	}
	if g.Uplink != nil {
		deps.Broker = kiosk.UplinkBroker(g.Uplink)
	}
	k, err := kiosk.New(kc, deps)
	if err != nil {
		return nil, err
	}
	g.Lanes.Watch(k.Publish)
	return k, nil
}
