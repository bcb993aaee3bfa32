package appliance

import (
	"context"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"

	"github.com/hazgate/hazgate/clock"
)

// notifySystemd tells systemd (Type=notify) that the gate is ready once
// every lane's loop has turned, then, when the unit has WatchdogSec=, pings
// the watchdog at half its period, but only while every lane's loop turns:
// a stuck lane withholds the pings and systemd restarts the gate. Outside
// systemd ($NOTIFY_SOCKET unset) it does nothing. It returns when ctx ends;
// Run says STOPPING=1 itself.
func (a *Appliance) notifySystemd(ctx context.Context) {
	every, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		a.log.Error("systemd watchdog settings unreadable: no watchdog pings", "err", err)
		every = 0
	}
	every /= 2
	bound := every
	if bound <= 0 {
		bound = 10 * time.Second // for READY alone
	}
	// READY once every lane's loop has turned.
	for {
		probe, cancel := context.WithTimeout(ctx, bound)
		err := a.gate.Lanes.Alive(probe)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			break
		}
		a.log.Warn("not ready for systemd yet", "why", err.Error())
		// A stuck lane used up the bound; a stopped one answers at once:
		// wait a bound before asking again rather than spin.
		if !clock.Sleep(ctx, a.clk, bound) {
			return
		}
	}
	if sent, err := daemon.SdNotify(false, daemon.SdNotifyReady); err != nil {
		a.log.Error("systemd not told the gate is ready", "err", err)
	} else if sent {
		a.log.Info("systemd told the gate is ready")
	}
	if every <= 0 {
		return
	}
	a.log.Info("systemd watchdog on: pinged while every lane turns", "every", every)
	stuck := false
	for clock.Sleep(ctx, a.clk, every) {
		// A lane that does not turn within one period withholds the ping.
		probe, cancel := context.WithTimeout(ctx, every)
		err := a.gate.Lanes.Alive(probe)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			a.log.Error("systemd watchdog ping withheld: a lane is stuck, systemd will restart the gate", "why", err.Error())
			stuck = true
			continue
		}
		if stuck {
			a.log.Info("every lane turns again: systemd watchdog pings resumed")
			stuck = false
		}
		if _, err := daemon.SdNotify(false, daemon.SdNotifyWatchdog); err != nil {
			a.log.Error("systemd watchdog ping not sent", "err", err)
		}
	}
}
