package checks

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/hazgate/hazgate/idnumber"
	"github.com/hazgate/hazgate/registry"
)

var cst = time.FixedZone("CST", 8*3600)

// Synthetic people: made-up numbers with valid check digits.
var (
	driverID = mustID("99000019800101001")
	escortID = mustID("99000019850505002")
	otherID  = mustID("99000019900909003")
)

func mustID(first17 string) string {
	id, err := idnumber.Complete(first17)
	if err != nil {
		panic(err)
	}
	return id
}

func d(s string) registry.Validity {
	v, err := registry.ParseValidity(s)
	if err != nil {
		panic(err)
	}
	return v
}

func score(f float64) *float64 { return &f }

// now is 2026-03-15 09:00 in the park.
var now = time.Date(2026, 3, 15, 9, 0, 0, 0, cst)

func baseRegistry() *registry.Snapshot {
	return &registry.Snapshot{
		Vehicles: []registry.Vehicle{
			{Plate: "浙B12345", Kind: "tractor", Carrier: "宁波安运", LicenceValidUntil: d("2027-01-31"), PermitNo: "330200100001",
				PermitValidUntil: d("2027-06-30"), PermitClasses: []string{"2", "3"}, InspectionValidUntil: d("2026-12-31"), RatedLoadKg: 40000},
			{Plate: "浙B6789挂", Kind: "trailer", LicenceValidUntil: d("2027-01-31"), PermitNo: "330200100002",
				PermitValidUntil: d("2027-06-30"), PermitClasses: []string{"2", "3"}, InspectionValidUntil: d("2026-12-31"), RatedLoadKg: 25000},
			{Plate: "浙B55555", Kind: "rigid", LicenceValidUntil: d("2027-01-31"), PermitNo: "330200100003",
				PermitValidUntil: d("2027-06-30"), PermitClasses: []string{"3"}, InspectionValidUntil: d("2026-12-31"), RatedLoadKg: 10000},
		},
		Tanks: []registry.Tank{
			{ID: "TK-0001", Vehicle: "浙B6789挂", InspectionValidUntil: d("2026-09-30"), Media: []string{"UN1077", "UN1075", "UN1978"}},
			{ID: "TK-0002", Vehicle: "浙B55555", InspectionValidUntil: d("2026-09-30"), Media: []string{"UN1203"}},
		},
		Persons: []registry.Person{
			{IDNumber: driverID, Name: "测试甲", Certificates: []registry.Certificate{{Role: "driver", Number: "D1", ValidUntil: d("2027-05-01")}}},
			{IDNumber: escortID, Name: "测试乙", Certificates: []registry.Certificate{{Role: "escort", Number: "E1", ValidUntil: d("2027-05-01")}}},
			{IDNumber: otherID, Name: "测试丙", Certificates: []registry.Certificate{{Role: "driver", Number: "D3", ValidUntil: d("2027-05-01")}, {Role: "escort", Number: "E3", ValidUntil: d("2027-05-01")}}},
		},
		Waybills: []registry.Waybill{
			{Number: "YD1", Vehicle: "浙B12345", Trailer: "浙B6789挂", Driver: driverID, Escort: escortID,
				ValidFrom: d("2026-03-15T00:00:00+08:00"), ValidUntil: d("2026-03-16T00:00:00+08:00"),
				Goods: []registry.Good{{UN: "UN1077", Name: "丙烯", Class: "2.1", QuantityKg: 24000}}},
			{Number: "YD2", Vehicle: "浙B55555", Driver: driverID, Escort: escortID,
				ValidFrom: d("2026-03-15"), ValidUntil: d("2026-03-15"),
				Goods: []registry.Good{{UN: "UN1203", Name: "汽油", Class: "3", QuantityKg: 9000}}},
		},
		SyncedAt: d("2026-03-15T08:00:00+08:00"),
	}
}

func baseEvidence() Evidence {
	return Evidence{
		Lane: "in-1", Arrived: now.Add(-20 * time.Second),
		Plate: "浙B12345", Trailer: "浙B6789挂",
		Driver:  &PersonEvidence{IDNumber: driverID, Name: "测试甲", CardValidUntil: d("2036-01-01"), Face: score(0.93)},
		Escort:  &PersonEvidence{IDNumber: escortID, Name: "测试乙", CardValidUntil: d("2036-01-01"), Face: score(0.91)},
		Waybill: "YD1",
	}
}

func params() Params {
	p := DefaultParams()
	p.Location = cst
	return p
}

func TestRun(t *testing.T) {
	tests := []struct {
		name    string
		reg     func(*registry.Snapshot)
		ev      func(*Evidence)
		at      time.Time // zero: now
		p       func(*Params)
		check   string // the check that must have result and reason
		result  Result
		reason  string
		verdict Verdict
	}{
		{name: "compliant tanker passes", check: TankMedia, result: Pass, verdict: VerdictPass},

		// vehicle_documents
		{name: "tractor not registered", ev: func(e *Evidence) { e.Plate = "浙B99999" }, check: VehicleDocuments, result: Fail, reason: ReasonNotRegistered, verdict: VerdictReject},
		{name: "trailer not registered", ev: func(e *Evidence) { e.Trailer = "浙B0000挂" }, check: VehicleDocuments, result: Fail, reason: ReasonNotRegistered, verdict: VerdictReject},
		{name: "licence expired the day before", reg: func(s *registry.Snapshot) { s.Vehicles[0].LicenceValidUntil = d("2026-03-14") }, check: VehicleDocuments, result: Fail, reason: ReasonLicenceExpired, verdict: VerdictReject},
		{name: "licence valid on its last day", reg: func(s *registry.Snapshot) { s.Vehicles[0].LicenceValidUntil = d("2026-03-15") }, at: time.Date(2026, 3, 15, 23, 59, 59, 0, cst), check: VehicleDocuments, result: Pass},
		{name: "licence expired one second after its last day", reg: func(s *registry.Snapshot) { s.Vehicles[0].LicenceValidUntil = d("2026-03-15") }, at: time.Date(2026, 3, 16, 0, 0, 1, 0, cst), check: VehicleDocuments, result: Fail, reason: ReasonLicenceExpired},
		{name: "date-only judged in park zone, not UTC", reg: func(s *registry.Snapshot) { s.Vehicles[0].LicenceValidUntil = d("2026-03-15") }, at: time.Date(2026, 3, 15, 16, 30, 0, 0, time.UTC), check: VehicleDocuments, result: Fail, reason: ReasonLicenceExpired},
		{name: "trailer permit expired", reg: func(s *registry.Snapshot) { s.Vehicles[1].PermitValidUntil = d("2026-01-01") }, check: VehicleDocuments, result: Fail, reason: ReasonPermitExpired, verdict: VerdictReject},
		{name: "class 2.1 under permit class 2", check: VehicleDocuments, result: Pass},
		{name: "class 2.1 not under permit 21", reg: func(s *registry.Snapshot) { s.Vehicles[0].PermitClasses = []string{"21", "3"} }, check: VehicleDocuments, result: Fail, reason: ReasonClassNotPermitted, verdict: VerdictReject},
		{name: "class 2.1 not under permit 3 on trailer", reg: func(s *registry.Snapshot) { s.Vehicles[1].PermitClasses = []string{"3"} }, check: VehicleDocuments, result: Fail, reason: ReasonClassNotPermitted},
		{name: "exact division permit 2.1 covers 2.1", reg: func(s *registry.Snapshot) { s.Vehicles[0].PermitClasses = []string{"2.1"} }, check: VehicleDocuments, result: Pass},
		{name: "permit 2.2 does not cover 2.1", reg: func(s *registry.Snapshot) { s.Vehicles[0].PermitClasses = []string{"2.2"} }, check: VehicleDocuments, result: Fail, reason: ReasonClassNotPermitted},
		{name: "no plate read", ev: func(e *Evidence) { e.Plate = "" }, check: VehicleDocuments, result: Unknown, reason: ReasonPlateMissing, verdict: VerdictReview},
		{name: "licence date missing is unknown", reg: func(s *registry.Snapshot) { s.Vehicles[0].LicenceValidUntil = registry.Validity{} }, check: VehicleDocuments, result: Unknown, reason: ReasonDataMissing, verdict: VerdictReview},
		{name: "cargo unknown without waybill", ev: func(e *Evidence) { e.Waybill = "" }, check: VehicleDocuments, result: Unknown, reason: ReasonCargoUnknown, verdict: VerdictReview},
		{name: "full-width plate with spaces matches", ev: func(e *Evidence) { e.Plate = "浙Ｂ 1２345"; e.Trailer = "浙b6789挂" }, check: WaybillConsistency, result: Pass, verdict: VerdictPass},

		// personnel_qualification
		{name: "driver not registered", ev: func(e *Evidence) { e.Driver.IDNumber = mustID("99000019700101005") }, check: PersonnelQualification, result: Fail, reason: ReasonNotRegistered, verdict: VerdictReject},
		{name: "driver certificate expired", reg: func(s *registry.Snapshot) { s.Persons[0].Certificates[0].ValidUntil = d("2026-03-14") }, check: PersonnelQualification, result: Fail, reason: ReasonCertificateExpired},
		{name: "driver certificate valid on its last day", reg: func(s *registry.Snapshot) { s.Persons[0].Certificates[0].ValidUntil = d("2026-03-15") }, check: PersonnelQualification, result: Pass},
		{name: "escort holds only a driver certificate", reg: func(s *registry.Snapshot) { s.Persons[1].Certificates[0].Role = "driver" }, check: PersonnelQualification, result: Fail, reason: ReasonCertificateMissing},
		{name: "certificate not yet valid", reg: func(s *registry.Snapshot) { s.Persons[1].Certificates[0].ValidFrom = d("2026-03-16") }, check: PersonnelQualification, result: Fail, reason: ReasonCertificateNotValid},
		{name: "no escort card by the deadline", ev: func(e *Evidence) { e.Escort = nil; e.DeadlineExceeded = true }, check: PersonnelQualification, result: Unknown, reason: ReasonEscortMissing, verdict: VerdictReview},
		{name: "no driver card", ev: func(e *Evidence) { e.Driver = nil }, check: PersonnelQualification, result: Unknown, reason: ReasonDriverMissing, verdict: VerdictReview},
		{name: "escort is the driver", ev: func(e *Evidence) { e.Driver.IDNumber = otherID; e.Escort.IDNumber = otherID }, check: PersonnelQualification, result: Fail, reason: ReasonEscortIsDriver},

		// inspection_validity
		{name: "tractor inspection expired", reg: func(s *registry.Snapshot) { s.Vehicles[0].InspectionValidUntil = d("2026-03-01") }, check: InspectionValidity, result: Fail, reason: ReasonInspectionExpired, verdict: VerdictReject},
		{name: "trailer inspection expired", reg: func(s *registry.Snapshot) { s.Vehicles[1].InspectionValidUntil = d("2026-03-14") }, check: InspectionValidity, result: Fail, reason: ReasonInspectionExpired},
		{name: "tank inspection expired", reg: func(s *registry.Snapshot) { s.Tanks[0].InspectionValidUntil = d("2026-03-14") }, check: InspectionValidity, result: Fail, reason: ReasonInspectionExpired},
		{name: "tank inspection valid through its last day", reg: func(s *registry.Snapshot) { s.Tanks[0].InspectionValidUntil = d("2026-03-15") }, check: InspectionValidity, result: Pass},
		{name: "trailer without registered tank", reg: func(s *registry.Snapshot) { s.Tanks = s.Tanks[1:] }, check: InspectionValidity, result: Fail, reason: ReasonNotRegistered, verdict: VerdictReject},
		{name: "tank on the tractor does not count when a trailer is read", reg: func(s *registry.Snapshot) { s.Tanks[0].Vehicle = "浙B12345" }, check: TankMedia, result: Fail, reason: ReasonNotRegistered},
		{name: "rigid tanker with no trailer passes", ev: rigid, check: TankMedia, result: Pass, verdict: VerdictPass},
		{name: "rigid tanker without tank", ev: rigid, reg: func(s *registry.Snapshot) { s.Tanks = s.Tanks[:1] }, check: TankMedia, result: Fail, reason: ReasonNotRegistered, verdict: VerdictReject},

		// waybill_consistency
		{name: "waybill not registered", ev: func(e *Evidence) { e.Waybill = "YD404" }, check: WaybillConsistency, result: Fail, reason: ReasonNotRegistered, verdict: VerdictReject},
		{name: "waybill not scanned", ev: func(e *Evidence) { e.Waybill = "" }, check: WaybillConsistency, result: Unknown, reason: ReasonWaybillMissing, verdict: VerdictReview},
		{name: "waybill expired at its until instant plus one second", at: time.Date(2026, 3, 16, 0, 0, 1, 0, cst), check: WaybillConsistency, result: Fail, reason: ReasonWaybillExpired},
		{name: "waybill valid at its until instant", at: time.Date(2026, 3, 16, 0, 0, 0, 0, cst), check: WaybillConsistency, result: Pass},
		{name: "waybill not yet valid", at: time.Date(2026, 3, 14, 23, 59, 59, 0, cst), check: WaybillConsistency, result: Fail, reason: ReasonWaybillNotYetValid},
		{name: "waybill valid from its instant", at: time.Date(2026, 3, 15, 0, 0, 0, 0, cst), check: WaybillConsistency, result: Pass},
		{name: "date-only waybill valid all day", ev: rigid, at: time.Date(2026, 3, 15, 23, 59, 0, 0, cst), check: WaybillConsistency, result: Pass},
		{name: "waybill names another vehicle", reg: func(s *registry.Snapshot) { s.Waybills[0].Vehicle = "浙B55555" }, check: WaybillConsistency, result: Fail, reason: ReasonVehicleMismatch, verdict: VerdictReject},
		{name: "waybill names another trailer", reg: func(s *registry.Snapshot) { s.Waybills[0].Trailer = "浙B0000挂" }, check: WaybillConsistency, result: Fail, reason: ReasonTrailerMismatch},
		{name: "waybill has a trailer the camera did not see", ev: func(e *Evidence) { e.Trailer = "" }, check: WaybillConsistency, result: Fail, reason: ReasonTrailerMismatch},
		{name: "driver mismatch", reg: func(s *registry.Snapshot) { s.Waybills[0].Driver = otherID }, check: WaybillConsistency, result: Fail, reason: ReasonDriverMismatch},
		{name: "escort mismatch", reg: func(s *registry.Snapshot) { s.Waybills[0].Escort = otherID }, check: WaybillConsistency, result: Fail, reason: ReasonEscortMismatch},
		{name: "driver and escort swapped", ev: func(e *Evidence) { e.Driver, e.Escort = e.Escort, e.Driver }, check: WaybillConsistency, result: Fail, reason: ReasonDriverMismatch},
		{name: "several goods over the rated load", reg: func(s *registry.Snapshot) {
			s.Waybills[0].Goods = append(s.Waybills[0].Goods, registry.Good{UN: "UN1075", Name: "液化石油气", Class: "2.1", QuantityKg: 1001})
		}, check: WaybillConsistency, result: Fail, reason: ReasonOverloaded, verdict: VerdictReject},
		{name: "several goods exactly at the rated load", reg: func(s *registry.Snapshot) {
			s.Waybills[0].Goods = append(s.Waybills[0].Goods, registry.Good{UN: "UN1075", Name: "液化石油气", Class: "2.1", QuantityKg: 1000})
		}, check: WaybillConsistency, result: Pass, verdict: VerdictPass},
		{name: "NaN quantity is unknown, not under the rated load", reg: func(s *registry.Snapshot) {
			s.Waybills[0].Goods = append(s.Waybills[0].Goods, registry.Good{UN: "UN1075", Class: "2.1", QuantityKg: math.NaN()})
		}, check: WaybillConsistency, result: Unknown, reason: ReasonDataMissing, verdict: VerdictReview},
		{name: "minus infinite quantity is unknown", reg: func(s *registry.Snapshot) {
			s.Waybills[0].Goods = append(s.Waybills[0].Goods, registry.Good{UN: "UN1075", Class: "2.1", QuantityKg: math.Inf(-1)})
		}, check: WaybillConsistency, result: Unknown, reason: ReasonDataMissing},
		{name: "negative quantity cannot hide an overload", reg: func(s *registry.Snapshot) {
			s.Waybills[0].Goods = append(s.Waybills[0].Goods, registry.Good{UN: "UN1075", Class: "2.1", QuantityKg: -5000})
		}, check: WaybillConsistency, result: Unknown, reason: ReasonDataMissing},
		{name: "NaN rated load is unknown", reg: func(s *registry.Snapshot) { s.Vehicles[1].RatedLoadKg = math.NaN() }, check: WaybillConsistency, result: Unknown, reason: ReasonDataMissing, verdict: VerdictReview},
		{name: "infinite rated load is unknown", reg: func(s *registry.Snapshot) { s.Vehicles[1].RatedLoadKg = math.Inf(1) }, check: WaybillConsistency, result: Unknown, reason: ReasonDataMissing},

		// tank_media
		{name: "good not in suitable media", reg: func(s *registry.Snapshot) { s.Waybills[0].Goods[0].UN = "UN1203"; s.Waybills[0].Goods[0].Class = "3" }, check: TankMedia, result: Fail, reason: ReasonMediumNotSuitable, verdict: VerdictReject},
		{name: "second of several goods not suitable", reg: func(s *registry.Snapshot) {
			s.Waybills[0].Goods = []registry.Good{{UN: "UN1077", Class: "2.1", QuantityKg: 10000}, {UN: "UN1005", Class: "2.3", QuantityKg: 1000}}
		}, check: TankMedia, result: Fail, reason: ReasonMediumNotSuitable},
		{name: "media unknown without registered waybill", ev: func(e *Evidence) { e.Waybill = "YD404" }, check: TankMedia, result: Unknown, reason: ReasonCargoUnknown},

		// identity
		{name: "id checksum wrong", ev: func(e *Evidence) { e.Driver.IDNumber = driverID[:17] + wrongDigit(driverID) }, check: Identity, result: Fail, reason: ReasonIDChecksum, verdict: VerdictReject},
		{name: "card expired", ev: func(e *Evidence) { e.Escort.CardValidUntil = d("2026-03-14") }, check: Identity, result: Fail, reason: ReasonCardExpired, verdict: VerdictReject},
		{name: "card valid on its last day", ev: func(e *Evidence) { e.Escort.CardValidUntil = d("2026-03-15") }, check: Identity, result: Pass},
		{name: "long-term card", ev: func(e *Evidence) { e.Escort.CardValidUntil = registry.Validity{} }, check: Identity, result: Pass},
		{name: "face below threshold", ev: func(e *Evidence) { e.Driver.Face = score(0.79) }, check: Identity, result: Fail, reason: ReasonFaceMismatch, verdict: VerdictReject},
		{name: "face at threshold passes", ev: func(e *Evidence) { e.Driver.Face = score(0.80) }, check: Identity, result: Pass, verdict: VerdictPass},
		{name: "no face score", ev: func(e *Evidence) { e.Escort.Face = nil }, check: Identity, result: Unknown, reason: ReasonFaceUnavailable, verdict: VerdictReview},
		// A score or threshold that is not a number fails closed (issue 19):
		// every comparison with NaN is false, so "score < threshold" alone
		// would have passed.
		{name: "NaN face score fails", ev: func(e *Evidence) { e.Driver.Face = score(math.NaN()) }, check: Identity, result: Fail, reason: ReasonFaceMismatch, verdict: VerdictReject},
		{name: "infinite face score fails", ev: func(e *Evidence) { e.Driver.Face = score(math.Inf(1)) }, check: Identity, result: Fail, reason: ReasonFaceMismatch, verdict: VerdictReject},
		{name: "NaN face threshold fails a good face", ev: func(e *Evidence) { e.Driver.Face = score(0.99) }, p: func(p *Params) { p.FaceThreshold = math.NaN() }, check: Identity, result: Fail, reason: ReasonFaceMismatch, verdict: VerdictReject},
		{name: "NaN face threshold fails a bad face", ev: func(e *Evidence) { e.Driver.Face = score(0.01) }, p: func(p *Params) { p.FaceThreshold = math.NaN() }, check: Identity, result: Fail, reason: ReasonFaceMismatch, verdict: VerdictReject},
		{name: "minus infinite face threshold fails", p: func(p *Params) { p.FaceThreshold = math.Inf(-1) }, check: Identity, result: Fail, reason: ReasonFaceMismatch, verdict: VerdictReject},
		{name: "custom face threshold", ev: func(e *Evidence) { e.Driver.Face = score(0.85) }, p: func(p *Params) { p.FaceThreshold = 0.9 }, check: Identity, result: Fail, reason: ReasonFaceMismatch},

		// park_rules
		{name: "vehicle blacklisted", reg: func(s *registry.Snapshot) {
			s.Blacklist = []registry.BlacklistEntry{{Kind: "vehicle", Value: "浙b 12345", Reason: "违规"}}
		}, check: ParkRules, result: Fail, reason: ReasonBlacklisted, verdict: VerdictReject},
		{name: "trailer blacklisted", reg: func(s *registry.Snapshot) {
			s.Blacklist = []registry.BlacklistEntry{{Kind: "vehicle", Value: "浙B6789挂"}}
		}, check: ParkRules, result: Fail, reason: ReasonBlacklisted},
		{name: "escort blacklisted", reg: func(s *registry.Snapshot) {
			s.Blacklist = []registry.BlacklistEntry{{Kind: "person", Value: escortID}}
		}, check: ParkRules, result: Fail, reason: ReasonBlacklisted},
		{name: "carrier blacklisted", reg: func(s *registry.Snapshot) {
			s.Blacklist = []registry.BlacklistEntry{{Kind: "carrier", Value: "宁波安运"}}
		}, check: ParkRules, result: Fail, reason: ReasonBlacklisted},
		{name: "other entries do not match", reg: func(s *registry.Snapshot) {
			s.Blacklist = []registry.BlacklistEntry{{Kind: "vehicle", Value: "浙B55555"}, {Kind: "person", Value: otherID}, {Kind: "carrier", Value: "别家"}}
		}, check: ParkRules, result: Pass, verdict: VerdictPass},
		{name: "outside opening hours", p: func(p *Params) { p.OpenHours = &Hours{From: 10 * 60, Until: 18 * 60} }, check: ParkRules, result: Fail, reason: ReasonOutsideHours},
		{name: "inside overnight hours", p: func(p *Params) { p.OpenHours = &Hours{From: 22 * 60, Until: 10 * 60} }, check: ParkRules, result: Pass},

		// registry freshness
		{name: "stale registry turns a pass into unknown", reg: func(s *registry.Snapshot) { s.SyncedAt = d("2026-03-14T08:59:59+08:00") }, check: VehicleDocuments, result: Unknown, reason: ReasonRegistryStale, verdict: VerdictReview},
		{name: "registry exactly max age is fresh", reg: func(s *registry.Snapshot) { s.SyncedAt = d("2026-03-14T09:00:00+08:00") }, check: VehicleDocuments, result: Pass, verdict: VerdictPass},
		{name: "stale registry keeps a failure", reg: func(s *registry.Snapshot) {
			s.SyncedAt = d("2026-03-01T00:00:00+08:00")
			s.Tanks[0].Media = []string{"UN1203"}
		}, check: TankMedia, result: Fail, reason: ReasonMediumNotSuitable, verdict: VerdictReject},
		{name: "stale registry leaves identity alone", reg: func(s *registry.Snapshot) { s.SyncedAt = d("2026-03-01T00:00:00+08:00") }, check: Identity, result: Pass, verdict: VerdictReview},

		// verdict
		{name: "deadline never passes", ev: func(e *Evidence) { e.DeadlineExceeded = true }, check: Identity, result: Pass, verdict: VerdictReview},
		{name: "failure beats unknown", ev: func(e *Evidence) { e.Escort = nil; e.Plate = "浙B99999" }, check: VehicleDocuments, result: Fail, reason: ReasonNotRegistered, verdict: VerdictReject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := baseRegistry()
			if tt.reg != nil {
				tt.reg(snap)
			}
			ev := baseEvidence()
			if tt.ev != nil {
				tt.ev(&ev)
			}
			at := now
			if !tt.at.IsZero() {
				at = tt.at
			}
			p := params()
			if tt.p != nil {
				tt.p(&p)
			}
			if tt.at.IsZero() == false {
				snap.SyncedAt = registry.Instant(at.Add(-time.Hour))
			}
			out := Run(ev, registry.NewIndex(snap, time.Time{}), at, p)
			got, ok := out.Check(tt.check)
			if !ok {
				t.Fatalf("no result for %s", tt.check)
			}
			if got.Result != tt.result {
				t.Fatalf("%s = %s %v, want %s", tt.check, got.Result, got.Codes(), tt.result)
			}
			if tt.reason != "" && !slices.Contains(got.Codes(), tt.reason) {
				t.Fatalf("%s reasons = %v, want %s among them", tt.check, got.Codes(), tt.reason)
			}
			if tt.result == Pass && len(got.Reasons) != 0 {
				t.Fatalf("%s passed with reasons %v", tt.check, got.Codes())
			}
			for _, r := range got.Reasons {
				if r.ZH == "" || r.EN == "" || r.ZH == r.Code || r.EN == r.Code {
					t.Fatalf("reason %s has no message: %+v", r.Code, r)
				}
			}
			if tt.verdict != "" && out.Verdict != tt.verdict {
				t.Fatalf("verdict = %s, want %s (failed %v)", out.Verdict, tt.verdict, out.Failed())
			}
			if len(out.Checks) != len(IDs) {
				t.Fatalf("%d results, want %d", len(out.Checks), len(IDs))
			}
		})
	}
}

func rigid(e *Evidence) {
	e.Plate, e.Trailer, e.Waybill = "浙B55555", "", "YD2"
}

func wrongDigit(id string) string {
	if id[17] == '0' {
		return "1"
	}
	return "0"
}

func TestCompliantHasNoReasonsAndAllPass(t *testing.T) {
	out := Run(baseEvidence(), registry.NewIndex(baseRegistry(), time.Time{}), now, params())
	if out.Verdict != VerdictPass {
		t.Fatalf("verdict %s: %+v", out.Verdict, out.Checks)
	}
	for i, c := range out.Checks {
		if c.ID != IDs[i] || c.Result != Pass {
			t.Fatalf("check %d = %s %s, want %s pass", i, c.ID, c.Result, IDs[i])
		}
	}
}

func TestNeverSyncedRegistryIsStale(t *testing.T) {
	snap := baseRegistry()
	snap.SyncedAt = registry.Validity{}
	out := Run(baseEvidence(), registry.NewIndex(snap, time.Time{}), now, params())
	if out.Verdict != VerdictReview {
		t.Fatalf("verdict = %s, want review", out.Verdict)
	}
}

func TestEveryReasonHasMessages(t *testing.T) {
	for code, m := range messages {
		if m[0] == "" || m[1] == "" {
			t.Errorf("%s lacks a message", code)
		}
	}
}

func TestRunWithoutRegistryNeverPasses(t *testing.T) {
	out := RunWithoutRegistry(baseEvidence(), now, params())
	if out.Verdict != VerdictReview {
		t.Fatalf("verdict = %s, want review", out.Verdict)
	}
	for _, c := range out.Checks {
		want := Unknown
		if c.ID == Identity {
			want = Pass
		}
		if c.Result != want {
			t.Fatalf("%s = %s, want %s", c.ID, c.Result, want)
		}
	}
	ev := baseEvidence()
	ev.Driver.Face = score(0.1)
	if out := RunWithoutRegistry(ev, now, params()); out.Verdict != VerdictReject {
		t.Fatalf("a failing face with no registry = %s, want reject", out.Verdict)
	}
}

func TestNoPlateReadIsNotATrailerMismatch(t *testing.T) {
	ev := baseEvidence()
	ev.Plate, ev.Trailer = "", ""
	out := Run(ev, registry.NewIndex(baseRegistry(), time.Time{}), now, params())
	wb, _ := out.Check(WaybillConsistency)
	if wb.Result != Unknown || slices.Contains(wb.Codes(), ReasonTrailerMismatch) {
		t.Fatalf("waybill_consistency = %s %v, want unknown without trailer_mismatch", wb.Result, wb.Codes())
	}
	if out.Verdict != VerdictReview {
		t.Fatalf("verdict %s, want review", out.Verdict)
	}
}

func TestForeignPermanent2017HasNoCheckDigit(t *testing.T) {
	snap := baseRegistry()
	snap.Persons[1].IDNumber = "USA990001000011"
	snap.Waybills[0].Escort = "USA990001000011"
	ev := baseEvidence()
	ev.Escort.IDNumber = "USA990001000011"
	out := Run(ev, registry.NewIndex(snap, time.Time{}), now, params())
	if out.Verdict != VerdictPass {
		t.Fatalf("verdict %s, failed %v", out.Verdict, out.Failed())
	}
}
