package checks

import (
	"fmt"
	"math"

	"github.com/hazgate/hazgate/strictyaml"
)

// DefaultWeightTolerance is checks.weight_tolerance's default: the cargo
// weighed may be 5 % off the waybill's total.
const DefaultWeightTolerance = 0.05

// weigh adds the weighbridge's rules to waybill_consistency, on a lane
// that weighs vehicles (docs/design.md "The check rules"):
//
//   - no stable gross weight by the decision is unknown, weight_unavailable
//     (fail-secure: a scale that is there but gave nothing never passes);
//   - a gross weight over the limit fails, overweight. The limit is the
//     max_gross_kg of the motor vehicle the camera read (a tractor's is
//     its combination's, as registered: 准牵引总质量 plus its own mass;
//     a rigid tanker's its own), since the scale weighs the whole
//     combination; a trailer's own max_gross_kg is not the combination's
//     and is not used. No max_gross_kg is unknown (data_missing);
//   - the cargo estimate, gross minus the curb weights of the tractor and
//     the trailer, more than WeightTolerance of the waybill's total away
//     from it is unknown, weight_mismatch (a scale, a tare or a waybill
//     may be off: the operator looks). A missing curb weight is unknown
//     (data_missing).
//
// A lane without a weighbridge judges none of it. Every comparison is
// written so that a value that is not a number cannot pass it.
func (j *judge) weigh(jd *judgement) *judgement {
	if !j.ev.Weighbridge {
		return jd
	}
	g := j.ev.GrossKg
	if g == nil || !(*g > 0) || !strictyaml.IsFinite(*g) {
		jd.unsure(ReasonWeightUnavailable, "", "")
		return jd
	}
	gross := *g
	if j.ev.Plate == "" {
		return jd // plate_missing is said elsewhere; nothing to weigh against
	}
	tractor, ok := j.reg.Vehicle(j.ev.Plate)
	if !ok {
		return jd // vehicle_documents fails not_registered
	}
	switch max := tractor.MaxGrossKg; {
	case !(max > 0) || !strictyaml.IsFinite(max):
		jd.unsure(ReasonDataMissing, "tractor", "max_gross_kg")
	case !(gross <= max):
		jd.fail(ReasonOverweight, "vehicle", fmt.Sprintf("%s > %s", kg(gross), kg(max)))
	}
	if j.wb == nil {
		return jd // waybill_missing or not_registered is said already
	}
	curb := tractor.CurbWeightKg
	curbOK := curb > 0 && strictyaml.IsFinite(curb)
	if !curbOK {
		jd.unsure(ReasonDataMissing, "tractor", "curb_weight_kg")
	}
	if j.ev.Trailer != "" {
		trailer, ok := j.reg.Vehicle(j.ev.Trailer)
		if !ok {
			return jd
		}
		if c := trailer.CurbWeightKg; c > 0 && strictyaml.IsFinite(c) {
			curb += c
		} else {
			jd.unsure(ReasonDataMissing, "trailer", "curb_weight_kg")
			curbOK = false
		}
	}
	if !curbOK {
		return jd
	}
	var total float64
	for _, gd := range j.wb.Goods {
		if !(gd.QuantityKg >= 0) || !strictyaml.IsFinite(gd.QuantityKg) {
			return jd // load() says data_missing
		}
		total += gd.QuantityKg
	}
	tol := j.p.WeightTolerance
	if !(tol >= 0) || !strictyaml.IsFinite(tol) {
		tol = 0
	}
	cargo := gross - curb
	if !(math.Abs(cargo-total) <= tol*total) {
		jd.unsure(ReasonWeightMismatch, "", fmt.Sprintf("%s ≠ %s", kg(cargo), kg(total)))
	}
	return jd
}

// kg writes a weight for a reason's detail: whole kilograms.
func kg(v float64) string { return fmt.Sprintf("%.0f kg", v) }
