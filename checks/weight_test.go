package checks

import (
	"math"
	"slices"
	"testing"

	"github.com/hazgate/hazgate/registry"
)

// weighedRegistry gives the tractor, the trailer and the rigid tanker their
// curb weights and limits: tractor 9 000 kg with a 49 000 kg combination,
// trailer 7 000 kg; 24 000 kg of cargo on YD1 makes 40 000 kg gross.
func weighedRegistry() *registry.Snapshot {
	s := baseRegistry()
	s.Vehicles[0].CurbWeightKg, s.Vehicles[0].MaxGrossKg = 9000, 49000
	s.Vehicles[1].CurbWeightKg, s.Vehicles[1].MaxGrossKg = 7000, 40000
	s.Vehicles[2].CurbWeightKg, s.Vehicles[2].MaxGrossKg = 12000, 25000
	return s
}

func weighed(kg float64) func(*Evidence) {
	return func(e *Evidence) { e.Weighbridge, e.GrossKg = true, &kg }
}

func TestWeight(t *testing.T) {
	for _, c := range []struct {
		name    string
		reg     func(*registry.Snapshot)
		ev      func(*Evidence)
		p       func(*Params)
		result  Result
		reasons []string // waybill_consistency's
		verdict Verdict
	}{
		{name: "no weighbridge: nothing judged", ev: func(e *Evidence) {}, result: Pass, verdict: VerdictPass},
		{name: "no weighbridge ignores a weight", ev: func(e *Evidence) { kg := 90000.0; e.GrossKg = &kg }, result: Pass, verdict: VerdictPass},
		{name: "as the waybill says", ev: weighed(40000), result: Pass, verdict: VerdictPass},
		{name: "within 5 %", ev: weighed(41150), result: Pass, verdict: VerdictPass},
		{name: "exactly 5 % off", ev: weighed(41200), result: Pass, verdict: VerdictPass},
		{name: "just over 5 % off", ev: weighed(41210), result: Unknown, reasons: []string{ReasonWeightMismatch}, verdict: VerdictReview},
		{name: "light: part of the cargo is missing", ev: weighed(30000), result: Unknown, reasons: []string{ReasonWeightMismatch}, verdict: VerdictReview},
		{name: "tolerance setting", ev: weighed(41210), p: func(p *Params) { p.WeightTolerance = 0.10 }, result: Pass, verdict: VerdictPass},
		{name: "tolerance not a number is none", ev: weighed(40010), p: func(p *Params) { p.WeightTolerance = math.NaN() }, result: Unknown, reasons: []string{ReasonWeightMismatch}},
		{name: "at the combination's limit", ev: weighed(49000), reg: func(s *registry.Snapshot) {
			s.Waybills[0].Goods[0].QuantityKg = 33000
			s.Vehicles[1].RatedLoadKg = 40000
		},
			p: func(p *Params) {}, result: Pass, verdict: VerdictPass},
		{name: "over the combination's limit", ev: weighed(49020), result: Fail, reasons: []string{ReasonOverweight, ReasonWeightMismatch}, verdict: VerdictReject},
		{name: "over the limit, waybill agrees", ev: weighed(52000), reg: func(s *registry.Snapshot) {
			s.Waybills[0].Goods[0].QuantityKg = 36000
			s.Vehicles[1].RatedLoadKg = 40000
		},
			result: Fail, reasons: []string{ReasonOverweight}, verdict: VerdictReject},
		{name: "the trailer's own limit is not the combination's", ev: weighed(45000), reg: func(s *registry.Snapshot) {
			s.Waybills[0].Goods[0].QuantityKg = 29000
			s.Vehicles[1].RatedLoadKg = 40000
		},
			result: Pass, verdict: VerdictPass},
		{name: "rigid tanker over its limit", ev: func(e *Evidence) { rigid(e); weighed(25500)(e) }, result: Fail, reasons: []string{ReasonOverweight, ReasonWeightMismatch}, verdict: VerdictReject},
		{name: "rigid tanker as the waybill says", ev: func(e *Evidence) { rigid(e); weighed(21000)(e) }, result: Pass, verdict: VerdictPass},
		{name: "no stable reading", ev: func(e *Evidence) { e.Weighbridge = true }, result: Unknown, reasons: []string{ReasonWeightUnavailable}, verdict: VerdictReview},
		{name: "a reading that is not a number", ev: weighed(math.NaN()), result: Unknown, reasons: []string{ReasonWeightUnavailable}, verdict: VerdictReview},
		{name: "a reading of nothing", ev: weighed(0), result: Unknown, reasons: []string{ReasonWeightUnavailable}, verdict: VerdictReview},
		{name: "no limit registered", ev: weighed(40000), reg: func(s *registry.Snapshot) { s.Vehicles[0].MaxGrossKg = 0 }, result: Unknown, reasons: []string{ReasonDataMissing}, verdict: VerdictReview},
		{name: "no curb weight for the trailer", ev: weighed(40000), reg: func(s *registry.Snapshot) { s.Vehicles[1].CurbWeightKg = 0 }, result: Unknown, reasons: []string{ReasonDataMissing}, verdict: VerdictReview},
		{name: "overweight without a waybill still fails", ev: func(e *Evidence) { weighed(50000)(e); e.Waybill = "" }, result: Fail, reasons: []string{ReasonOverweight, ReasonWaybillMissing}, verdict: VerdictReject},
		{name: "unregistered tractor: vehicle_documents says so", ev: func(e *Evidence) { weighed(40000)(e); e.Plate = "浙B99999" }, result: Fail, reasons: []string{ReasonVehicleMismatch}, verdict: VerdictReject},
	} {
		t.Run(c.name, func(t *testing.T) {
			snap := weighedRegistry()
			if c.reg != nil {
				c.reg(snap)
			}
			ev := baseEvidence()
			c.ev(&ev)
			p := params()
			if c.p != nil {
				c.p(&p)
			}
			out := Run(ev, registry.NewIndex(snap, now), now, p)
			r, _ := out.Check(WaybillConsistency)
			if r.Result != c.result || !slices.Equal(r.Codes(), c.reasons) && !(len(c.reasons) == 0 && len(r.Codes()) == 0) {
				t.Fatalf("waybill_consistency %s %v; want %s %v (%+v)", r.Result, r.Codes(), c.result, c.reasons, r.Reasons)
			}
			if c.verdict != "" && out.Verdict != c.verdict {
				t.Fatalf("verdict %s; want %s (%+v)", out.Verdict, c.verdict, out)
			}
		})
	}
}

// The weight reasons read as people read them, in both languages.
func TestWeightReasonText(t *testing.T) {
	ev := baseEvidence()
	weighed(49020)(&ev)
	out := Run(ev, registry.NewIndex(weighedRegistry(), now), now, params())
	r, _ := out.Check(WaybillConsistency)
	want := map[string][2]string{
		ReasonOverweight:     {"车辆地磅总重超过最大允许总质量（49020 kg > 49000 kg）", "The vehicle's gross weight on the weighbridge is over its maximum (49020 kg > 49000 kg)"},
		ReasonWeightMismatch: {"地磅估算货重与运单总量不符（估算 ≠ 运单：33020 kg ≠ 24000 kg）", "The cargo weighed does not match the waybill (weighed ≠ waybill: 33020 kg ≠ 24000 kg)"},
	}
	for _, x := range r.Reasons {
		if w := want[x.Code]; x.ZH != w[0] || x.EN != w[1] {
			t.Errorf("%s: %q / %q; want %q / %q", x.Code, x.ZH, x.EN, w[0], w[1])
		}
	}
}
