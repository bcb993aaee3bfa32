package checks

import (
	"slices"
	"time"
)

// Reason codes of a pre-clearance only (docs/checks.md).
const (
	// ReasonTrailerUnknown: neither the appointment nor a waybill names a
	// trailer, and no tank is registered on the tractor: the tank cannot
	// be known before the vehicle arrives.
	ReasonTrailerUnknown = "trailer_unknown"
	// ReasonNoWaybillYet: the appointment names no waybill and none valid
	// at its window names the plate (yet): the cargo is not known.
	ReasonNoWaybillYet = "no_waybill_yet"
)

func init() {
	messages[ReasonTrailerUnknown] = [2]string{"预约未写明挂车，运单亦未写明：罐体待到闸时确认", "neither the appointment nor a waybill names the trailer: the tank is judged at arrival"}
	messages[ReasonNoWaybillYet] = [2]string{"尚未找到该预约的电子运单", "no waybill is known for the appointment yet"}
}

// Pre-clearance (docs/design.md, "Pre-clearance"): an appointment's
// documentary checks, judged before its vehicle arrives, against the
// registry (and the waybill service's copy) and the time it may first
// arrive. What only the lane can see (the people's cards and faces, the
// camera's plate colour and danger mark, the weighbridge) is not judged,
// nor is park_rules. A pre-clearance is never a pass at the lane: the
// lane judges every check again on arrival.

// PreclearIDs are the checks a pre-clearance judges, in order: the four
// documentary checks, and personnel_qualification when the appointment
// names the people.
func PreclearIDs(people bool) []string {
	if people {
		return []string{VehicleDocuments, PersonnelQualification, InspectionValidity, WaybillConsistency, TankMedia}
	}
	return []string{VehicleDocuments, InspectionValidity, WaybillConsistency, TankMedia}
}

// Preclear judges ev (plate, trailer, waybill and its lookup, and the
// people's ID numbers when named) against reg at, the instant the vehicle
// may first arrive, on a clock known to be right or not (RunAt). Its
// outcome holds the PreclearIDs checks only; its verdict follows from
// them as at the lane (pass, reject, review). A person ev does not name
// is not expected: waybill_consistency does not compare them, and with
// neither named personnel_qualification is not judged.
func Preclear(ev Evidence, reg Registry, at time.Time, synced bool, p Params) Outcome {
	if p.Location == nil {
		p.Location = time.UTC
	}
	// Nothing the lane's devices see is expected yet.
	ev.PlateColor, ev.Placard, ev.Pictures, ev.Weighbridge, ev.GrossKg, ev.Exempt = "", nil, nil, false, nil, ""
	ev.DeadlineExceeded = false
	p.RequirePlacard = false
	people := ev.Driver != nil || ev.Escort != nil
	j := &judge{ev: ev, reg: reg, now: at, p: p, unsynced: !synced, preclear: true}
	j.takeWaybill()
	stale := Stale(reg.Meta(), at, p.RegistryMaxAge)
	// A tractor with no trailer named and no tank of its own: the tank is
	// on a trailer not known yet, not an unregistered one.
	_, ownTank := reg.TankOn(ev.Plate)
	noTrailer := ev.Trailer == "" && ev.Plate != "" && !ownTank
	out := Outcome{ClockSynced: &synced}
	for _, id := range PreclearIDs(people) {
		var jd *judgement
		switch id {
		case VehicleDocuments:
			jd = j.vehicleDocuments()
		case PersonnelQualification:
			jd = j.personnelQualification()
		case InspectionValidity:
			jd = j.inspectionValidity()
		case WaybillConsistency:
			jd = j.waybillConsistency()
		case TankMedia:
			jd = j.tankMedia()
		}
		if noTrailer && (id == InspectionValidity || id == TankMedia) {
			jd.fails = slices.DeleteFunc(jd.fails, func(r Reason) bool { return r.Code == ReasonNotRegistered && r.Subject == "tank" })
			jd.unsure(ReasonTrailerUnknown, "trailer", "")
		}
		for i, r := range jd.unknown {
			if r.Code == ReasonWaybillMissing {
				jd.unknown[i] = NewReason(ReasonNoWaybillYet, "", "")
			}
		}
		out.Checks = append(out.Checks, jd.result(stale))
	}
	out.Verdict = verdict(out.Checks, false)
	return out
}

// PreclearWithoutRegistry is Preclear when the registry could not be read:
// every check is unknown (registry_unavailable), never a pass.
func PreclearWithoutRegistry(people bool, synced bool) Outcome {
	out := Outcome{ClockSynced: &synced}
	for _, id := range PreclearIDs(people) {
		jd := &judgement{id: id}
		jd.unsure(ReasonRegistryError, "", "")
		out.Checks = append(out.Checks, jd.result(false))
	}
	out.Verdict = verdict(out.Checks, false)
	return out
}
