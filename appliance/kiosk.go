package appliance

import (
	"log/slog"
	"net/netip"

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
	// Logs is the gate's last log lines, for supervisors (nil: none).
	Logs kiosk.LogLines
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
	displays(&kc, g)
	deps := kiosk.Deps{
		Lanes: g.Lanes, Store: g.Store, Devices: g.Lanes,
		Disk: kiosk.DiskAt(o.Disk), Clock: o.Clock, GateClock: o.GateClock, Log: o.Log.With("component", "kiosk"),
		Logs: o.Logs,
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

// displays gives the kiosk the lanes' outdoor displays: the prompts'
// words, each display's allowed addresses, and the count of screens that
// show it, which is the display's health (a configured display that no
// screen shows is in fault once the fault window has passed).
func displays(kc *kiosk.Config, g *gate.Gate) {
	kc.Display.Words = g.Config.Words()
	kc.Display.Allow = map[string][]netip.Prefix{}
	for _, l := range g.AllLanes() {
		if d := l.Config.Display; d != nil {
			kc.Display.Allow[l.Config.Name] = d.AllowedPrefixes()
			l.DisplayScreens(0)
		}
	}
	kc.Display.Screens = func(name string, n int) {
		if l := g.Lane(name); l != nil {
			l.DisplayScreens(n)
		}
	}
}
