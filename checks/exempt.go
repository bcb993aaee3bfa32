package checks

import "github.com/hazgate/hazgate/registry"

// Emergency vehicles (docs/design.md, "Emergency vehicles"): a vehicle the
// registry marks as an emergency vehicle (registry.Vehicle.Emergency: fire,
// rescue, ambulance, police) is let in on its plate read alone. The lane
// decides as soon as the plate is read (Evidence.Exempt, set from the
// registry when the read arrived); the checks confirm it against the
// registry they judge with, and then pass the vehicle with the verdict
// reason exempt_vehicle and every check unknown with exempt_not_checked:
// not checked, never a pass of a check. A plate the registry does not mark
// (any more), or a blacklisted one, is judged as any other vehicle, from
// what the lane has, which is never a pass without the people and the
// waybill.

// Reasons of an emergency vehicle's entry.
const (
	ReasonExemptVehicle    = "exempt_vehicle"     // verdict: an emergency vehicle let in on its plate alone
	ReasonExemptNotChecked = "exempt_not_checked" // a check not made for an emergency vehicle
)

func init() {
	messages[ReasonExemptVehicle] = [2]string{"应急车辆（{d}）：凭车牌放行，未做五必查", "emergency vehicle ({d}): let in on its plate, the checks not made"}
	messages[ReasonExemptNotChecked] = [2]string{"应急车辆，此项未核查", "emergency vehicle: not checked"}
}

// exempt returns the outcome of an emergency vehicle's entry, when the
// registry marks the plate read as the emergency vehicle the lane took it
// for and it is not blacklisted.
func (j *judge) exempt() (Outcome, bool) {
	ev := j.ev
	if ev.Exempt == "" || ev.Plate == "" {
		return Outcome{}, false
	}
	v, ok := j.reg.Vehicle(ev.Plate)
	if !ok || v.Emergency != ev.Exempt {
		return Outcome{}, false
	}
	if _, banned := j.reg.Blacklisted(registry.BlacklistVehicle, ev.Plate); banned {
		return Outcome{}, false
	}
	out := Outcome{Verdict: VerdictPass, Reasons: []Reason{NewReason(ReasonExemptVehicle, "", v.Emergency)}}
	for _, id := range IDs {
		jd := &judgement{id: id}
		jd.unsure(ReasonExemptNotChecked, "", "")
		out.Checks = append(out.Checks, jd.result(false))
	}
	return out, true
}
