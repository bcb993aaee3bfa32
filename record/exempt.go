package record

import (
	"fmt"
	"slices"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/store"
)

// AlarmExemptEntry: an emergency vehicle was let in on its plate alone
// (checks/exempt.go); raised with its inspection, in the same transaction.
const AlarmExemptEntry = "exempt_entry"

// Exempted reports whether an outcome lets an emergency vehicle in on its
// plate alone.
func Exempted(out checks.Outcome) bool {
	return slices.ContainsFunc(out.Reasons, func(r checks.Reason) bool { return r.Code == checks.ReasonExemptVehicle })
}

// exemptAlarm is the exempt_entry alarm of an emergency vehicle's entry.
func (g *Keeper) exemptAlarm(laneName string, ins *store.Inspection, now time.Time) store.OutboxMessage {
	ev := ins.Evidence
	t := Text{
		ZH: fmt.Sprintf("应急车辆 %s（%s）凭车牌放行入园，未做五必查", ev.Plate, emergencyZH[ev.Exempt]),
		EN: fmt.Sprintf("Emergency vehicle %s (%s) let in on its plate; the checks were not made", ev.Plate, ev.Exempt),
	}
	return g.alarmMessage(laneName, AlarmEvent{Kind: AlarmExemptEntry, Code: AlarmExemptEntry, Text: &t, InspectionID: ins.ID}, now)
}

// emergencyZH names the emergency vehicles' kinds in Chinese.
var emergencyZH = map[string]string{"fire": "消防", "rescue": "救援", "ambulance": "救护", "police": "警用"}
