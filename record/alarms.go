package record

import (
	"context"
	"time"

	"github.com/hazgate/hazgate/store"
)

// Alarm kinds that last as long as their condition: raised once with an id,
// cleared with an event that repeats it (device_fault is one of them too).
const (
	AlarmBrokerDown    = "broker_down"    // the park's broker unreachable for a while
	AlarmRegistryStale = "registry_stale" // the registry too old, or never synced
	AlarmDiskLow       = "disk_low"       // the database's disk nearly full
	AlarmLockdown      = "lockdown"       // the gate locked down
)

// The states of an alarm that can end.
const (
	StateRaised  = "raised"
	StateCleared = "cleared"
)

// Text is a message a person reads, in Chinese and English.
type Text struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

// Condition is an alarm that lasts as long as its condition: Key names the
// condition ("device_fault/in-1/idcard"), Code is its stable reason code
// and Text what it means.
type Condition struct {
	Key  string
	Lane string
	Kind string
	Code string
	Text Text
}

// Raise raises the alarm of condition c unless it is already on (raised
// before, perhaps before a restart): then nothing is sent again. It returns
// the alarm's id and whether it was raised now.
func (g *Keeper) Raise(ctx context.Context, c Condition, at time.Time) (string, bool, error) {
	ev := AlarmEvent{Kind: c.Kind, Code: c.Code, Text: &Text{ZH: c.Text.ZH, EN: c.Text.EN}, State: StateRaised}
	msg := g.alarmMessage(c.Lane, ev, at) // its id is the alarm's id
	a, raised, err := g.Store.RaiseActiveAlarm(ctx, c.Key, c.Code,
		store.Alarm{ID: msg.ID, Gate: g.Name, Lane: c.Lane, Kind: c.Kind, Detail: c.Text.EN, At: at}, msg)
	if err != nil {
		return "", false, err
	}
	if raised {
		g.recorded(nil)
	}
	return a.ID, raised, nil
}

// Clear ends the alarm of condition key, if it is on, with a cleared event
// that carries its id, kind and code; text says why it ended. It reports
// whether an alarm was on.
func (g *Keeper) Clear(ctx context.Context, key string, text Text, at time.Time) (bool, error) {
	_, cleared, err := g.Store.ClearActiveAlarm(ctx, key, at, func(a store.ActiveAlarm) []store.OutboxMessage {
		t := text
		if t.EN == "" {
			t = Text{ZH: "告警已解除", EN: "The alarm has ended"}
		}
		ev := AlarmEvent{Kind: a.Kind, Code: a.Code, Text: &t, State: StateCleared, AlarmID: a.ID}
		return []store.OutboxMessage{g.alarmMessage(a.Lane, ev, at)}
	})
	if err != nil {
		return false, err
	}
	if cleared {
		g.recorded(nil)
	}
	return cleared, nil
}

// ActiveAlarms are the alarms still on, oldest first.
func (g *Keeper) ActiveAlarms(ctx context.Context) ([]store.ActiveAlarm, error) {
	return g.Store.ActiveAlarms(ctx)
}

// describe makes an alarm's text, when it has one, its detail. It returns
// the detail it replaced, for the log.
func describe(ev *AlarmEvent) string {
	if ev.Text == nil {
		return ""
	}
	raw := ev.Detail
	ev.Detail = ev.Text.EN
	return raw
}
