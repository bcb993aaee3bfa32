package gate

import (
	"context"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/config"
	"github.com/hazgate/hazgate/record"
)

// watchClock builds the gate's clock monitor on src (docs/design.md "The
// clock"): the record keeper judges and stamps with its state, the uplink
// judges commands and reports the status with it, and it raises and clears
// clock_unsynced and raises clock_jumped. Gate.Run starts it before the
// lanes, so no vehicle is judged before the clock was looked at.
func (g *Gate) watchClock(cfg *config.Config, src clock.SyncSource) error {
	floor, err := cfg.Clock.TrustedAfterTime(cfg.Location())
	if err != nil {
		return err // Validate refused it already; a config built in code may not have been validated
	}
	m := clock.NewMonitor(g.clk, src, clock.MonitorConfig{
		Source: cfg.Clock.Sync, TrustedAfter: floor, // "" (a config built in code) is kernel
		MaxBackwardJump: cfg.Clock.MaxBackwardJump.D(), Every: cfg.Clock.CheckEvery.D(),
	})
	log := g.log.With("component", "clock")
	m.OnChange = func(ctx context.Context, s clock.State) {
		now := g.clk.Now()
		if s.Synced {
			log.Info("the clock is trusted", "source", s.Source, "detail", s.Detail)
			if _, err := g.Keeper.Clear(ctx, record.AlarmClockUnsynced, record.ClockSyncedText, now); err != nil {
				log.Error("alarm not cleared", "alarm", record.AlarmClockUnsynced, "err", err)
			}
		} else {
			log.Warn("the clock is not trusted: validity dates are unknown and commands are judged by their nonce alone",
				"source", s.Source, "reason", s.Reason, "detail", s.Detail, "err", s.Err)
			if _, _, err := g.Keeper.Raise(ctx, record.ClockUnsyncedCondition(s.Reason), now); err != nil {
				log.Error("alarm not recorded", "alarm", record.AlarmClockUnsynced, "err", err)
			}
		}
		if g.Uplink != nil {
			g.Uplink.StatusChanged()
		}
	}
	m.OnJump = func(ctx context.Context, j clock.Jump) {
		log.Warn("the wall clock stepped back", "from", j.From, "to", j.To, "by", j.By)
		if err := g.Keeper.ClockJumped(ctx, j.From, j.To, j.To); err != nil {
			log.Error("alarm not recorded", "alarm", record.AlarmClockJumped, "err", err)
		}
	}
	g.ClockMonitor = m
	g.Keeper.ClockSynced = m.Synced
	return nil
}

// clockState is the uplink's view of the monitor (nil without one).
func (g *Gate) clockState() func() clock.State {
	if g.ClockMonitor == nil {
		return nil
	}
	return g.ClockMonitor.State
}
