package checks

import (
	"slices"
	"testing"
	"time"

	"github.com/hazgate/hazgate/registry"
)

// On a clock not known to be right, every date rule is unknown with
// clock_unsynced, whichever way it would have gone; the rules that read no
// date are judged as ever.
func TestRunClockUnsynced(t *testing.T) {
	hours := &Hours{From: 6 * 60, Until: 22 * 60}
	tests := []struct {
		name    string
		reg     func(*registry.Snapshot)
		ev      func(*Evidence)
		p       func(*Params)
		at      time.Time // zero: now
		want    map[string]Result
		codes   map[string][]string // check -> its reason codes, exactly
		verdict Verdict
	}{
		{
			name: "compliant tanker: review, never pass",
			want: map[string]Result{VehicleDocuments: Unknown, PersonnelQualification: Unknown, InspectionValidity: Unknown,
				WaybillConsistency: Unknown, TankMedia: Pass, Identity: Unknown, ParkRules: Pass},
			codes: map[string][]string{VehicleDocuments: {ReasonClockUnsynced}, PersonnelQualification: {ReasonClockUnsynced},
				InspectionValidity: {ReasonClockUnsynced}, WaybillConsistency: {ReasonClockUnsynced}, Identity: {ReasonClockUnsynced}},
			verdict: VerdictReview,
		},
		{
			name: "an expired licence is not judged expired either (the clock may be ahead)",
			reg:  func(s *registry.Snapshot) { s.Vehicles[0].LicenceValidUntil = d("2026-03-14") },
			want: map[string]Result{VehicleDocuments: Unknown}, codes: map[string][]string{VehicleDocuments: {ReasonClockUnsynced}},
			verdict: VerdictReview,
		},
		{
			name: "a clock back in 1970 does not pass an expired waybill",
			reg:  func(s *registry.Snapshot) { s.Waybills[0].ValidUntil = d("2026-03-14") },
			at:   time.Date(1970, 1, 1, 0, 0, 5, 0, time.UTC),
			want: map[string]Result{WaybillConsistency: Unknown}, codes: map[string][]string{WaybillConsistency: {ReasonClockUnsynced}},
			verdict: VerdictReview,
		},
		{
			name:    "a rule without a date still fails",
			ev:      func(e *Evidence) { e.Plate = "浙B99999" },
			want:    map[string]Result{VehicleDocuments: Fail, InspectionValidity: Fail, TankMedia: Pass},
			verdict: VerdictReject,
		},
		{
			name:    "no certificate for the role fails on any clock",
			reg:     func(s *registry.Snapshot) { s.Persons[1].Certificates[0].Role = "driver" },
			want:    map[string]Result{PersonnelQualification: Fail},
			codes:   map[string][]string{PersonnelQualification: {ReasonCertificateMissing, ReasonClockUnsynced}},
			verdict: VerdictReject,
		},
		{
			name:    "a wrong check digit and a low face score still fail identity",
			ev:      func(e *Evidence) { e.Driver.Face = score(0.2) },
			want:    map[string]Result{Identity: Fail},
			codes:   map[string][]string{Identity: {ReasonFaceMismatch, ReasonClockUnsynced}},
			verdict: VerdictReject,
		},
		{
			name:    "opening hours cannot be judged",
			p:       func(p *Params) { p.OpenHours = hours },
			at:      time.Date(2026, 3, 15, 3, 0, 0, 0, cst), // outside, by this clock
			want:    map[string]Result{ParkRules: Unknown},
			codes:   map[string][]string{ParkRules: {ReasonClockUnsynced}},
			verdict: VerdictReview,
		},
		{
			name:    "a missing date is still data_missing, said once with the clock",
			reg:     func(s *registry.Snapshot) { s.Vehicles[0].LicenceValidUntil = registry.Validity{} },
			want:    map[string]Result{VehicleDocuments: Unknown},
			codes:   map[string][]string{VehicleDocuments: {ReasonDataMissing, ReasonClockUnsynced}},
			verdict: VerdictReview,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap, ev, p, at := baseRegistry(), baseEvidence(), params(), now
			if tc.reg != nil {
				tc.reg(snap)
			}
			if tc.ev != nil {
				tc.ev(&ev)
			}
			if tc.p != nil {
				tc.p(&p)
			}
			if !tc.at.IsZero() {
				at = tc.at
			}
			out := RunAt(ev, registry.NewIndex(snap, time.Time{}), at, false, p)
			if out.Verdict != tc.verdict {
				t.Errorf("verdict %s, want %s", out.Verdict, tc.verdict)
			}
			if out.ClockSynced == nil || *out.ClockSynced {
				t.Errorf("outcome clock_synced %v, want false", out.ClockSynced)
			}
			for id, want := range tc.want {
				c, _ := out.Check(id)
				if c.Result != want {
					t.Errorf("%s: %s %v, want %s", id, c.Result, c.Codes(), want)
				}
			}
			for id, want := range tc.codes {
				c, _ := out.Check(id)
				if !slices.Equal(c.Codes(), want) {
					t.Errorf("%s: reasons %v, want %v", id, c.Codes(), want)
				}
			}
			// The same inputs on a synced clock carry no clock reason.
			synced := RunAt(ev, registry.NewIndex(snap, time.Time{}), at, true, p)
			for _, c := range synced.Checks {
				if slices.Contains(c.Codes(), ReasonClockUnsynced) {
					t.Errorf("synced: %s has clock_unsynced", c.ID)
				}
			}
			if synced.ClockSynced == nil || !*synced.ClockSynced {
				t.Errorf("synced: outcome clock_synced %v, want true", synced.ClockSynced)
			}
		})
	}
}

func TestRunWithoutRegistryClockUnsynced(t *testing.T) {
	out := RunWithoutRegistryAt(baseEvidence(), now, false, params())
	c, _ := out.Check(Identity)
	if c.Result != Unknown || !slices.Equal(c.Codes(), []string{ReasonClockUnsynced}) {
		t.Fatalf("identity %s %v, want unknown clock_unsynced", c.Result, c.Codes())
	}
	if out.Verdict != VerdictReview || out.ClockSynced == nil || *out.ClockSynced {
		t.Fatalf("verdict %s clock_synced %v", out.Verdict, out.ClockSynced)
	}
}

func TestClockUnsyncedHasMessages(t *testing.T) {
	r := NewReason(ReasonClockUnsynced, "", "")
	if r.ZH == "" || r.EN == "" || r.ZH == r.Code || r.EN == r.Code {
		t.Fatalf("clock_unsynced has no zh/en message: %+v", r)
	}
}

// An exempt (emergency) vehicle is let in on its plate, on any clock: no
// date is judged; the outcome still says the clock was not synchronised.
func TestExemptOnAnUnsyncedClock(t *testing.T) {
	snap := baseRegistry()
	snap.Vehicles[0].Emergency = "fire"
	ev := baseEvidence()
	ev.Exempt = "fire"
	out := RunAt(ev, registry.NewIndex(snap, time.Time{}), now, false, params())
	if out.Verdict != VerdictPass || out.ClockSynced == nil || *out.ClockSynced {
		t.Fatalf("verdict %s, clock_synced %v: want pass, false", out.Verdict, out.ClockSynced)
	}
}
