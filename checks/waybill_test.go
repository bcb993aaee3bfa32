package checks

import (
	"slices"
	"testing"
	"time"

	"github.com/hazgate/hazgate/registry"
)

// The waybill's status, the service's copy and the appointment rule.
func TestLiveParkData(t *testing.T) {
	serviceCopy := func(mod func(*registry.Waybill)) func(*Evidence) {
		return func(e *Evidence) {
			w := baseRegistry().Waybills[0]
			w.Number = "YD9"
			if mod != nil {
				mod(&w)
			}
			e.Waybill = "YD9"
			e.WaybillLookup = &WaybillLookup{Number: "YD9", Source: WaybillFromService, Waybill: &w}
		}
	}
	appt := func(status, from, until string) func(*registry.Snapshot) {
		return func(s *registry.Snapshot) {
			s.Appointments = []registry.Appointment{{ID: "A1", Plate: "浙B12345", Company: "甬化一厂", From: d(from), Until: d(until), Status: status}}
		}
	}
	required := func(p *Params) { p.Appointments = AppointmentsRequired }
	optional := func(p *Params) { p.Appointments = AppointmentsOptional }
	tests := []struct {
		name    string
		reg     func(*registry.Snapshot)
		ev      func(*Evidence)
		p       func(*Params)
		check   string
		result  Result
		reason  string
		verdict Verdict
	}{
		{name: "registry waybill cancelled", reg: func(s *registry.Snapshot) { s.Waybills[0].Status = registry.WaybillCancelled },
			check: WaybillConsistency, result: Fail, reason: ReasonWaybillCancelled, verdict: VerdictReject},
		{name: "registry waybill completed", reg: func(s *registry.Snapshot) { s.Waybills[0].Status = registry.WaybillCompleted },
			check: WaybillConsistency, result: Fail, reason: ReasonWaybillCompleted, verdict: VerdictReject},
		{name: "registry waybill valid by word", reg: func(s *registry.Snapshot) { s.Waybills[0].Status = registry.WaybillValid },
			check: WaybillConsistency, result: Pass, verdict: VerdictPass},
		{name: "waybill only in the service passes", ev: serviceCopy(nil), check: WaybillConsistency, result: Pass, verdict: VerdictPass},
		{name: "the service's copy is judged over the registry's", ev: func(e *Evidence) {
			serviceCopy(func(w *registry.Waybill) { w.Number = "YD1"; w.Status = registry.WaybillCancelled })(e)
			e.Waybill, e.WaybillLookup.Number = "YD1", "YD1"
		}, check: WaybillConsistency, result: Fail, reason: ReasonWaybillCancelled, verdict: VerdictReject},
		{name: "the service's goods are the tank's media", ev: serviceCopy(func(w *registry.Waybill) { w.Goods[0].UN = "UN1203" }),
			check: TankMedia, result: Fail, reason: ReasonMediumNotSuitable, verdict: VerdictReject},
		{name: "unavailable without a copy is unknown", ev: func(e *Evidence) {
			e.Waybill = "YD9"
			e.WaybillLookup = &WaybillLookup{Number: "YD9", Unavailable: true}
		}, check: WaybillConsistency, result: Unknown, reason: ReasonWaybillUnavailable, verdict: VerdictReview},
		{name: "unavailable with a registry copy judges the copy", ev: func(e *Evidence) {
			e.WaybillLookup = &WaybillLookup{Number: "YD1", Unavailable: true}
		}, check: WaybillConsistency, result: Pass, verdict: VerdictPass},
		{name: "a lookup of another number is not used", ev: func(e *Evidence) {
			serviceCopy(nil)(e)
			e.Waybill = "YD-NONE"
		}, check: WaybillConsistency, result: Fail, reason: ReasonNotRegistered, verdict: VerdictReject},

		{name: "required, none: no_appointment", p: required, check: ParkRules, result: Fail, reason: ReasonNoAppointment, verdict: VerdictReject},
		{name: "optional, none: passes", p: optional, check: ParkRules, result: Pass, verdict: VerdictPass},
		{name: "off, none: passes", check: ParkRules, result: Pass, verdict: VerdictPass},
		{name: "required, window holds", p: required, reg: appt("", "2026-03-15T08:00:00+08:00", "2026-03-15T12:00:00+08:00"), check: ParkRules, result: Pass, verdict: VerdictPass},
		{name: "required, a date-only window holds all day", p: required, reg: appt("approved", "2026-03-15", "2026-03-15"), check: ParkRules, result: Pass, verdict: VerdictPass},
		{name: "required, window over", p: required, reg: appt("", "2026-03-15T06:00:00+08:00", "2026-03-15T08:00:00+08:00"), check: ParkRules, result: Fail, reason: ReasonNoAppointment},
		{name: "required, window not begun", p: required, reg: appt("", "2026-03-15T10:00:00+08:00", "2026-03-15T12:00:00+08:00"), check: ParkRules, result: Fail, reason: ReasonNoAppointment},
		{name: "required, cancelled", p: required, reg: appt(registry.AppointmentCancelled, "2026-03-15", "2026-03-15"), check: ParkRules, result: Fail, reason: ReasonNoAppointment},
		{name: "required, pending", p: required, reg: appt(registry.AppointmentPending, "2026-03-15", "2026-03-15"), check: ParkRules, result: Fail, reason: ReasonNoAppointment},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := baseRegistry()
			if tt.reg != nil {
				tt.reg(snap)
			}
			if ps := snap.Validate(); len(ps) > 0 {
				t.Fatalf("test registry invalid: %v", ps)
			}
			ev := baseEvidence()
			if tt.ev != nil {
				tt.ev(&ev)
			}
			p := params()
			if tt.p != nil {
				tt.p(&p)
			}
			out := Run(ev, registry.NewIndex(snap, time.Time{}), now, p)
			got, _ := out.Check(tt.check)
			if got.Result != tt.result {
				t.Fatalf("%s = %s %v, want %s", tt.check, got.Result, got.Codes(), tt.result)
			}
			if tt.reason != "" && !slices.Contains(got.Codes(), tt.reason) {
				t.Fatalf("%s reasons = %v, want %s", tt.check, got.Codes(), tt.reason)
			}
			if tt.verdict != "" && out.Verdict != tt.verdict {
				t.Fatalf("verdict %s, want %s (%v)", out.Verdict, tt.verdict, out.Checks)
			}
			for _, r := range got.Reasons {
				if r.ZH == r.Code || r.EN == r.Code {
					t.Fatalf("reason %s has no message", r.Code)
				}
			}
		})
	}
}

func TestWaybillStatusValidated(t *testing.T) {
	s := baseRegistry()
	s.Waybills[0].Status = "void"
	ps := s.Validate()
	if len(ps) != 1 || ps[0].Field != "waybills[0].status" {
		t.Fatalf("problems %v, want waybills[0].status", ps)
	}
}
