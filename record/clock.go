package record

import (
	"context"
	"fmt"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/store"
)

// The clock's alarms (docs/uplink.md "Alarms"). clock_unsynced lasts while
// the gate's clock is not known to be right (raised and cleared, like
// broker_down); clock_jumped is one event: the wall clock stepped back.
const (
	AlarmClockUnsynced = "clock_unsynced"
	AlarmClockJumped   = "clock_jumped"
)

// ClockUnsyncedCondition is the clock_unsynced alarm; reason is the
// monitor's code (clock.Reason*), why the clock is not trusted, and is the
// alarm's code.
func ClockUnsyncedCondition(reason string) Condition {
	return Condition{Key: AlarmClockUnsynced, Kind: AlarmClockUnsynced, Code: reason, Text: clockUnsyncedText(reason)}
}

// ClockSyncedText is what the cleared clock_unsynced alarm says.
var ClockSyncedText = Text{ZH: "闸口时钟已同步：有效期检查与指令时效恢复正常", EN: "The gate's clock is synchronised: validity dates and command expiry are judged again"}

func clockUnsyncedText(reason string) Text {
	const tail, tailEN = "：有效期检查结果为未知，车辆待人工复核；园区指令仅按一次性随机数判断", ": validity dates are unknown and vehicles are held for review; the park's commands are judged by their nonce alone"
	switch reason {
	case clock.ReasonBeforeFloor:
		return Text{ZH: "闸口时钟早于配置的可信日期（clock.trusted_after）" + tail, EN: "The gate's clock reads before clock.trusted_after" + tailEN}
	case clock.ReasonSourceFailed:
		return Text{ZH: "无法读取闸口时钟的同步状态" + tail, EN: "The gate's clock sync status cannot be read" + tailEN}
	default:
		return Text{ZH: "闸口时钟尚未通过 NTP 同步" + tail, EN: "The gate's clock is not synchronised by NTP" + tailEN}
	}
}

// ClockJumped records a clock_jumped alarm: the wall clock stepped back
// from from to to. Records stamped since may carry times before earlier
// ones.
func (g *Keeper) ClockJumped(ctx context.Context, from, to, at time.Time) error {
	loc := g.Params.Location
	by := from.Sub(to).Round(time.Second)
	f, t := from.In(loc).Format("2006-01-02 15:04:05"), to.In(loc).Format("2006-01-02 15:04:05")
	text := Text{
		ZH: fmt.Sprintf("闸口时钟回拨 %s（由 %s 回到 %s）：此后记录的时间可能早于之前的记录", by, f, t),
		EN: fmt.Sprintf("The gate's clock stepped back %s (from %s to %s): records stamped since may read earlier than those before", by, f, t),
	}
	msg := g.alarmMessage("", AlarmEvent{Kind: AlarmClockJumped, Code: AlarmClockJumped, Text: &text}, at)
	return g.recorded(g.Store.RecordAlarm(ctx, store.Alarm{ID: msg.ID, Gate: g.Name, Kind: AlarmClockJumped, Detail: text.EN, At: at}, msg))
}

// clockSynced is whether the gate's clock is known to be right now.
func (g *Keeper) clockSynced() bool { return g.ClockSynced == nil || g.ClockSynced() }

// outcomeSynced is the clock's state an outcome was judged on (an outcome
// from before the gate recorded it counts as synced).
func outcomeSynced(out checks.Outcome) bool { return out.ClockSynced == nil || *out.ClockSynced }
