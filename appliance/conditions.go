package appliance

import (
	"context"
	"fmt"
	"time"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/record"
)

// The gate-wide conditions that raise an alarm while they last and clear
// it when they end (a device's is the gate's: gate.Lane.Health).
const (
	conditionEvery   = 5 * time.Second  // how often they are looked at
	brokerDownAfter  = 60 * time.Second // a broker away this long is down (a reconnect is not)
	keyBrokerDown    = record.AlarmBrokerDown
	keyRegistryStale = record.AlarmRegistryStale
	keyDiskLow       = record.AlarmDiskLow
	keyLockdown      = record.AlarmLockdown
)

// watchConditions raises and clears the gate-wide alarms that can end:
// broker_down, registry_stale, disk_low and lockdown, every conditionEvery
// until ctx ends. A condition already on at start (kept in the store from
// before a restart) is not raised again.
func (a *Appliance) watchConditions(ctx context.Context) {
	for {
		a.checkConditions(ctx)
		if !clock.Sleep(ctx, a.clk, conditionEvery) {
			return
		}
	}
}

// condition is one condition's state now: on, with its alarm, or off, with
// what the cleared event says.
type condition struct {
	key     string
	on      bool
	code    string
	text    record.Text
	cleared record.Text
}

func (a *Appliance) checkConditions(ctx context.Context) {
	now := a.clk.Now()
	var cs []condition
	cs = append(cs, a.registryCondition(ctx, now))
	if up := a.gate.Uplink; up != nil {
		c := up.Connection()
		down := !c.Connected && !c.Since.IsZero() && now.Sub(c.Since) >= brokerDownAfter
		if !c.Connected && c.Since.IsZero() {
			down = now.Sub(a.started) >= brokerDownAfter // never connected since start
		}
		since := c.Since
		if since.IsZero() {
			since = a.started
		}
		at := since.In(a.cfg.Location()).Format("2006-01-02 15:04:05")
		cs = append(cs, condition{key: keyBrokerDown, on: down, code: "broker_unreachable",
			text:    record.Text{ZH: fmt.Sprintf("自 %s 起无法连接园区 MQTT 服务器，事件在发件箱中等待", at), EN: fmt.Sprintf("The park's MQTT broker has been unreachable since %s: events wait in the outbox", at)},
			cleared: record.Text{ZH: "已重新连接园区 MQTT 服务器", EN: "Connected to the park's MQTT broker again"}})
	}
	if ld, err := a.st.Lockdown(ctx); err == nil {
		cs = append(cs, condition{key: keyLockdown, on: ld.On, code: "lockdown",
			text:    record.Text{ZH: fmt.Sprintf("闸口已被 %s 封锁：道闸不会为任何车辆开启", ld.By), EN: fmt.Sprintf("The gate was locked down by %s: no barrier opens for a vehicle", ld.By)},
			cleared: record.Text{ZH: "闸口封锁已解除", EN: "The lock-down was lifted"}})
	}
	if c, ok := a.diskCondition(); ok { // appliance/retention.go
		cs = append(cs, c)
	}
	for _, c := range cs {
		if c.on {
			_, raised, err := a.gate.Keeper.Raise(ctx, record.Condition{Key: c.key, Kind: c.key, Code: c.code, Text: c.text}, now)
			if err != nil {
				a.log.Error("alarm not recorded", "alarm", c.key, "err", err)
			} else if raised {
				a.log.Warn("alarm raised", "alarm", c.key, "code", c.code)
			}
			continue
		}
		cleared, err := a.gate.Keeper.Clear(ctx, c.key, c.cleared, now)
		if err != nil {
			a.log.Error("alarm not cleared", "alarm", c.key, "err", err)
		} else if cleared {
			a.log.Info("alarm cleared", "alarm", c.key)
		}
	}
}

// registryCondition: the registry never synced (registry_empty) or older
// than registry_max_age (registry_stale).
func (a *Appliance) registryCondition(ctx context.Context, now time.Time) condition {
	c := condition{key: keyRegistryStale, cleared: record.Text{ZH: "名录已同步", EN: "The registry is up to date again"}}
	m, err := a.st.RegistryMeta(ctx)
	if err != nil {
		c.on, c.code = true, "registry_unreadable"
		c.text = record.Text{ZH: "无法读取名录：需要名录的检查结果为未知，车辆待人工复核", EN: "The registry cannot be read: checks that need it are unknown and vehicles are held for review"}
		return c
	}
	maxAge := a.cfg.RegistryMaxAge.D()
	switch {
	case m.Version == 0 || m.SyncedAt.IsZero():
		c.on, c.code = true, "registry_empty"
		c.text = record.Text{ZH: "闸口尚无名录（从未同步）：需要名录的检查结果为未知，车辆待人工复核", EN: "The gate has no registry (never synced): checks that need it are unknown and vehicles are held for review"}
	case now.Sub(m.SyncedAt) > maxAge:
		c.on, c.code = true, "registry_stale"
		c.text = record.Text{ZH: fmt.Sprintf("名录已过期：上次同步于 %s 前（上限 %s）", roundAge(now.Sub(m.SyncedAt)), maxAge), EN: fmt.Sprintf("The registry is stale: last synced %s ago (limit %s)", roundAge(now.Sub(m.SyncedAt)), maxAge)}
	}
	return c
}

func roundAge(d time.Duration) time.Duration { return d.Round(time.Minute) }
