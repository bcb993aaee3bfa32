package checks

import (
	"testing"
	"time"

	"github.com/hazgate/hazgate/registry"
)

// A plate the registry marks as the emergency vehicle the lane took it for
// passes with exempt_vehicle and every check unknown (not checked, never a
// pass of a check); another kind, an unmarked plate or a blacklisted one is
// judged as any vehicle, which with only its plate is never a pass.
func TestEmergencyVehicle(t *testing.T) {
	now := time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC)
	snap := &registry.Snapshot{
		Vehicles:  []registry.Vehicle{{Plate: "浙B11901", Kind: registry.KindRigid, Emergency: "fire"}, {Plate: "浙B12001", Kind: registry.KindRigid, Emergency: "ambulance"}, {Plate: "浙B13001", Kind: registry.KindRigid}},
		Blacklist: []registry.BlacklistEntry{{Kind: registry.BlacklistVehicle, Value: "浙B12001", Reason: "x"}},
		SyncedAt:  registry.Instant(now.Add(-time.Hour)),
	}
	ix := registry.NewIndex(snap, time.Time{})
	out := Run(Evidence{Plate: "浙B11901", Exempt: "fire"}, ix, now, Params{})
	if out.Verdict != VerdictPass || len(out.Reasons) != 1 || out.Reasons[0].Code != ReasonExemptVehicle || len(out.Checks) != len(IDs) {
		t.Fatalf("fire engine: %+v", out)
	}
	for _, c := range out.Checks {
		if c.Result != Unknown || c.Reasons[0].Code != ReasonExemptNotChecked {
			t.Fatalf("check %s of an exempt vehicle: %+v", c.ID, c)
		}
	}
	for _, ev := range []Evidence{
		{Plate: "浙B11901", Exempt: "police"},    // not the kind registered
		{Plate: "浙B12001", Exempt: "ambulance"}, // blacklisted
		{Plate: "浙B13001", Exempt: "fire"},      // not marked
	} {
		if out := Run(ev, ix, now, Params{}); out.Verdict == VerdictPass {
			t.Errorf("%+v passed: %+v", ev, out)
		}
	}
}
