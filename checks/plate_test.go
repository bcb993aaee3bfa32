package checks

import (
	"slices"
	"testing"
	"time"

	"github.com/hazgate/hazgate/registry"
)

func yes() *bool { b := true; return &b }
func no() *bool  { b := false; return &b }

// TestPlateColorAndPlacard: the camera's plate colour against the
// registry's (a cloned plate), and the danger mark with require_placard.
func TestPlateColorAndPlacard(t *testing.T) {
	for _, tt := range []struct {
		name    string
		reg     func(*registry.Snapshot)
		ev      func(*Evidence)
		require bool
		result  Result
		reason  string
		verdict Verdict
	}{
		{name: "same colour passes", reg: yellow, ev: func(e *Evidence) { e.PlateColor = registry.PlateYellow }, result: Pass, verdict: VerdictPass},
		{name: "another colour fails: a cloned plate", reg: yellow, ev: func(e *Evidence) { e.PlateColor = registry.PlateBlue }, result: Fail, reason: ReasonPlateColorMismatch, verdict: VerdictReject},
		{name: "no colour read is not judged", reg: yellow, result: Pass, verdict: VerdictPass},
		{name: "no colour registered is not judged", ev: func(e *Evidence) { e.PlateColor = registry.PlateBlue }, result: Pass, verdict: VerdictPass},
		{name: "placard not required: none seen passes", ev: func(e *Evidence) { e.Placard = no() }, result: Pass, verdict: VerdictPass},
		{name: "required and seen passes", ev: func(e *Evidence) { e.Placard = yes() }, require: true, result: Pass, verdict: VerdictPass},
		{name: "required, tanker seen without one is unknown", ev: func(e *Evidence) { e.Placard = no() }, require: true, result: Unknown, reason: ReasonPlacardNotSeen, verdict: VerdictReview},
		{name: "required, camera cannot tell is unknown", require: true, result: Unknown, reason: ReasonPlacardNotSeen, verdict: VerdictReview},
		{name: "required, rigid tanker without one is unknown", ev: func(e *Evidence) { rigid(e); e.Placard = no() }, require: true, result: Unknown, reason: ReasonPlacardNotSeen, verdict: VerdictReview},
		{name: "required, a vehicle with no tank needs none", reg: func(s *registry.Snapshot) { s.Tanks = s.Tanks[1:] }, ev: func(e *Evidence) { e.Placard = no() }, require: true, result: Pass, verdict: VerdictReject}, // inspection_validity fails: no tank
		{name: "mismatch fails even with the placard missing", reg: yellow, ev: func(e *Evidence) { e.PlateColor = registry.PlateBlue; e.Placard = no() }, require: true, result: Fail, reason: ReasonPlateColorMismatch, verdict: VerdictReject},
	} {
		t.Run(tt.name, func(t *testing.T) {
			snap, ev, p := baseRegistry(), baseEvidence(), params()
			if tt.reg != nil {
				tt.reg(snap)
			}
			if tt.ev != nil {
				tt.ev(&ev)
			}
			p.RequirePlacard = tt.require
			out := Run(ev, registry.NewIndex(snap, time.Time{}), now, p)
			got, _ := out.Check(VehicleDocuments)
			if got.Result != tt.result || (tt.reason != "" && !slices.Contains(got.Codes(), tt.reason)) {
				t.Fatalf("vehicle_documents = %s %v, want %s %s", got.Result, got.Codes(), tt.result, tt.reason)
			}
			if out.Verdict != tt.verdict {
				t.Fatalf("verdict %s, want %s", out.Verdict, tt.verdict)
			}
		})
	}
}

func yellow(s *registry.Snapshot) { s.Vehicles[0].PlateColor = registry.PlateYellow }

func TestPlateColorReasonInEachLanguage(t *testing.T) {
	snap, ev := baseRegistry(), baseEvidence()
	yellow(snap)
	ev.PlateColor = registry.PlateBlue
	got, _ := Run(ev, registry.NewIndex(snap, time.Time{}), now, params()).Check(VehicleDocuments)
	r := got.Reasons[0]
	if r.Subject != "tractor" || r.ZH != "牵引车号牌颜色与登记不符（识别为蓝牌，登记为黄牌）" || r.EN != "The tractor's plate colour does not match the registry (read blue, registered yellow)" {
		t.Fatalf("reason %+v", r)
	}
}
