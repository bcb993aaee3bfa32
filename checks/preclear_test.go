package checks

import (
	"slices"
	"testing"
	"time"

	"github.com/hazgate/hazgate/registry"
)

func preclearEvidence() Evidence {
	return Evidence{Plate: "浙B12345", Trailer: "浙B6789挂", Waybill: "YD1"}
}

func TestPreclear(t *testing.T) {
	tests := []struct {
		name    string
		reg     func(*registry.Snapshot)
		ev      func(*Evidence)
		at      time.Time // zero: now
		synced  *bool
		ids     []string // the checks judged, in order
		check   string
		result  Result
		reason  string
		verdict Verdict
	}{
		{name: "compliant appointment with no people passes the four documentary checks",
			ids: []string{VehicleDocuments, InspectionValidity, WaybillConsistency, TankMedia}, check: WaybillConsistency, result: Pass, verdict: VerdictPass},
		{name: "tank inspection expired", reg: func(s *registry.Snapshot) { s.Tanks[0].InspectionValidUntil = d("2026-03-01") },
			check: InspectionValidity, result: Fail, reason: ReasonInspectionExpired, verdict: VerdictReject},
		{name: "valid now but expired at the window's opening", reg: func(s *registry.Snapshot) { s.Tanks[0].InspectionValidUntil = d("2026-03-15") },
			at: time.Date(2026, 3, 16, 8, 0, 0, 0, cst), check: InspectionValidity, result: Fail, reason: ReasonInspectionExpired, verdict: VerdictReject},
		{name: "medium not suitable", reg: func(s *registry.Snapshot) { s.Tanks[0].Media = []string{"UN1203"} },
			check: TankMedia, result: Fail, reason: ReasonMediumNotSuitable, verdict: VerdictReject},
		{name: "cancelled waybill", reg: func(s *registry.Snapshot) { s.Waybills[0].Status = registry.WaybillCancelled },
			check: WaybillConsistency, result: Fail, reason: ReasonWaybillCancelled, verdict: VerdictReject},
		{name: "no waybill yet is unknown", ev: func(e *Evidence) { e.Waybill = "" },
			check: WaybillConsistency, result: Unknown, reason: ReasonNoWaybillYet, verdict: VerdictReview},
		{name: "waybill service down with no copy is unknown", ev: func(e *Evidence) {
			e.Waybill = "YD9"
			e.WaybillLookup = &WaybillLookup{Number: "YD9", Unavailable: true}
		}, check: WaybillConsistency, result: Unknown, reason: ReasonWaybillUnavailable, verdict: VerdictReview},
		{name: "no trailer named: the tank is unknown, not unregistered", ev: func(e *Evidence) { e.Trailer = ""; e.Waybill = "" },
			check: TankMedia, result: Unknown, reason: ReasonTrailerUnknown, verdict: VerdictReview},
		{name: "no trailer named: the tractor's inspection is still judged", ev: func(e *Evidence) { e.Trailer = ""; e.Waybill = "" },
			reg:   func(s *registry.Snapshot) { s.Vehicles[0].InspectionValidUntil = d("2026-01-01") },
			check: InspectionValidity, result: Fail, reason: ReasonInspectionExpired, verdict: VerdictReject},
		{name: "people named: personnel_qualification is judged",
			ev: func(e *Evidence) {
				e.Driver, e.Escort = &PersonEvidence{IDNumber: driverID}, &PersonEvidence{IDNumber: escortID}
			},
			reg:   func(s *registry.Snapshot) { s.Persons[1].Certificates[0].ValidUntil = d("2026-03-01") },
			ids:   []string{VehicleDocuments, PersonnelQualification, InspectionValidity, WaybillConsistency, TankMedia},
			check: PersonnelQualification, result: Fail, reason: ReasonCertificateExpired, verdict: VerdictReject},
		{name: "people named who are not the waybill's",
			ev: func(e *Evidence) {
				e.Driver, e.Escort = &PersonEvidence{IDNumber: otherID}, &PersonEvidence{IDNumber: escortID}
			},
			check: WaybillConsistency, result: Fail, reason: ReasonDriverMismatch, verdict: VerdictReject},
		{name: "stale registry never passes", reg: func(s *registry.Snapshot) { s.SyncedAt = d("2026-03-01T08:00:00+08:00") },
			check: VehicleDocuments, result: Unknown, reason: ReasonRegistryStale, verdict: VerdictReview},
		{name: "unsynced clock: dates unknown", synced: new(bool),
			check: InspectionValidity, result: Unknown, reason: ReasonClockUnsynced, verdict: VerdictReview},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap := baseRegistry()
			if tc.reg != nil {
				tc.reg(snap)
			}
			ev := preclearEvidence()
			if tc.ev != nil {
				tc.ev(&ev)
			}
			at := now
			if !tc.at.IsZero() {
				at = tc.at
			}
			synced := true
			if tc.synced != nil {
				synced = *tc.synced
			}
			p := params()
			p.RequirePlacard = true // nothing the camera sees is judged before arrival
			out := Preclear(ev, registry.NewIndex(snap, time.Time{}), at, synced, p)
			var ids []string
			for _, c := range out.Checks {
				ids = append(ids, c.ID)
			}
			want := tc.ids
			if want == nil && ev.Driver == nil && ev.Escort == nil {
				want = PreclearIDs(false)
			} else if want == nil {
				want = PreclearIDs(true)
			}
			if !slices.Equal(ids, want) {
				t.Fatalf("checks %v, want %v", ids, want)
			}
			c, ok := out.Check(tc.check)
			if !ok || c.Result != tc.result {
				t.Fatalf("%s = %+v, want %s", tc.check, c, tc.result)
			}
			if tc.reason != "" && !slices.Contains(c.Codes(), tc.reason) {
				t.Fatalf("%s reasons %v, want %s", tc.check, c.Codes(), tc.reason)
			}
			if tc.verdict != "" && out.Verdict != tc.verdict {
				t.Fatalf("verdict %s, want %s (%+v)", out.Verdict, tc.verdict, out.Checks)
			}
			for _, c := range out.Checks {
				for _, r := range c.Reasons {
					if r.ZH == "" || r.EN == "" || r.ZH == r.Code {
						t.Errorf("%s: reason %s lacks its words: %+v", c.ID, r.Code, r)
					}
					if r.Code == ReasonDriverMissing || r.Code == ReasonEscortMissing || r.Code == ReasonPlacardNotSeen {
						t.Errorf("%s: %s is not expected before arrival", c.ID, r.Code)
					}
				}
			}
		})
	}
}

func TestPreclearWithoutRegistryNeverPasses(t *testing.T) {
	for _, people := range []bool{false, true} {
		out := PreclearWithoutRegistry(people, true)
		if out.Verdict != VerdictReview || len(out.Checks) != len(PreclearIDs(people)) {
			t.Fatalf("people %v: %+v", people, out)
		}
		for _, c := range out.Checks {
			if c.Result != Unknown || c.Reasons[0].Code != ReasonRegistryError {
				t.Fatalf("%s = %+v", c.ID, c)
			}
		}
	}
}
