package record

import (
	"context"
	"fmt"
	"regexp"
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
	AlarmEvacuation    = "evacuation"     // the gate evacuating: exit lanes held open
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

// kindTexts are the texts of the alarms whose callers give a detail meant
// for the log (it may hold an error): the feed gets these instead.
var kindTexts = map[string]struct {
	code string
	text Text
}{
	AlarmRejection:           {"verdict_reject", Text{"车辆不予放行：有检查项未通过（见检查记录）", "Vehicle refused: a check failed (see the inspection)"}},
	AlarmBarrierForced:       {"barrier_forced", Text{"道闸未为车辆开启时，闸下地感被占用", "Something is under the barrier while it is not open for a vehicle"}},
	"barrier_fault":          {"barrier_fault", Text{"道闸报告故障或位置未知", "The barrier reports a fault or an unknown position"}},
	"barrier_command_failed": {"barrier_command_failed", Text{"道闸未执行指令，可能处于开启状态", "The barrier did not take a command and may be open"}},
	"decide_failed":          {"decide_failed", Text{"检查结果无法保存，车辆扣留待查", "The inspection could not be recorded: the vehicle is held"}},
	AlarmRecordFailed:        {"record_failed", Text{"人工决定、通行或出场记录无法保存", "An operator's decision, a passage or an exit could not be recorded"}},
	"no_passage":             {"no_passage", Text{"道闸已开启，但车辆未在规定时间内通过，车辆扣留", "The barrier opened but nothing crossed in time: the vehicle is held"}},
	AlarmDeviceFault:         {"device_fault", Text{"设备故障", "A device is in fault"}},
	"outbox_full":            {"outbox_full", Text{"发件箱已满：遥测数据被丢弃，检查、通行与告警记录保留", "The outbox is full: telemetry is being dropped; inspections, passages and alarms are kept"}},
}

// cmdDetail is the uplink's detail of a command alarm: "cmd/<name>: <reason>...".
// The reason code is optional: a command_failed detail is the failure in
// words, which may start with anything (a count of lanes, say).
var cmdDetail = regexp.MustCompile(`^cmd/([a-z_]+): (?:([a-z_]+)\b)?`)

// heldBack is the rate limit's note at the end of a command_refused detail.
var heldBack = regexp.MustCompile(`; (\d+) more refused as ([a-z_]+) without an alarm`)

// describe gives ev its reason code and zh/en text from its kind and raw
// detail, and makes the English text its detail: the feed never carries a
// raw error. It returns the raw detail, for the log. The command alarms
// keep the uplink's detail, which names the command and the refusal.
func describe(ev *AlarmEvent) string {
	raw := ev.Detail
	if ev.Text != nil {
		ev.Detail = ev.Text.EN
		return raw
	}
	var t Text
	switch ev.Kind {
	case AlarmOverride:
		ev.Code = "operator_" + ev.Action
		if ev.Action == "release" {
			t = Text{fmt.Sprintf("%s 人工放行：%s", ev.Operator, ev.Reason), fmt.Sprintf("Released by %s: %s", ev.Operator, ev.Reason)}
		} else {
			t = Text{fmt.Sprintf("%s 人工拒绝：%s", ev.Operator, ev.Reason), fmt.Sprintf("Refused by %s: %s", ev.Operator, ev.Reason)}
		}
	case AlarmCommandRefused, "command_failed":
		name, reason := "?", "other"
		if m := cmdDetail.FindStringSubmatch(raw); m != nil {
			name = m[1]
			if m[2] != "" {
				reason = m[2]
			}
		}
		if ev.Kind == "command_failed" {
			ev.Code = "command_failed"
			t = Text{fmt.Sprintf("园区指令 %s 已接受，但无法执行", name), fmt.Sprintf("Command %s from the park was accepted but could not be carried out", name)}
			break
		}
		ev.Code = reason
		t = Text{fmt.Sprintf("园区指令 %s 被拒绝（%s）", name, reason), fmt.Sprintf("Command %s from the park refused (%s)", name, reason)}
		if m := heldBack.FindStringSubmatch(raw); m != nil {
			t.ZH += fmt.Sprintf("；此前另有 %s 条同类指令因限流未单独告警", m[1])
			t.EN += fmt.Sprintf("; %s more refused as %s without an alarm since the last one (rate limit)", m[1], m[2])
		}
	case "registry_refused":
		// The uplink's detail names the message and each field with what
		// is wrong, in plain words: the office needs it to fix its data.
		ev.Code = "registry_refused"
		t = Text{"园区登记库数据被拒绝，仍使用原登记库：" + raw, "Registry data from the park refused; the gate keeps the registry it had: " + raw}
	default:
		k, ok := kindTexts[ev.Kind]
		if !ok {
			k.code, k.text = ev.Kind, Text{"告警：" + ev.Kind, "Alarm: " + ev.Kind}
		}
		ev.Code, t = k.code, k.text
	}
	ev.Text, ev.Detail = &t, t.EN
	if ev.Kind == AlarmCommandRefused || ev.Kind == "command_failed" || ev.Kind == "registry_refused" {
		// The uplink's detail, "cmd/<name>: <reason>: ...", is the
		// documented one (docs/uplink.md, "Commands").
		ev.Detail = raw
		return ""
	}
	return raw
}
