package lane_test

import (
	"testing"

	"github.com/hazgate/hazgate/lane"
)

// An emergency vehicle's plate read (Exempt set from the registry) is all
// an entry lane waits for: it decides at once; the same plate typed by the
// operator keeps it, another plate does not; an exit lane records the exit
// as for any vehicle.
func TestEmergencyVehicleDecidedOnItsPlate(t *testing.T) {
	fire := lane.PlateRead{Plate: "浙B11901", Confidence: 0.97, Exempt: "fire"}
	decided := func(acts []lane.Action) *lane.Decide {
		for _, a := range acts {
			if d, ok := a.(lane.Decide); ok {
				return &d
			}
		}
		return nil
	}
	s, acts := play(t, lane.Config{Name: "in-1"}, lane.VehiclePresent{}, fire)
	d := decided(acts)
	if d == nil || d.Evidence.Exempt != "fire" || s.Phase != lane.PhaseDeciding {
		t.Fatalf("an emergency vehicle's plate read: phase %s, decide %+v", s.Phase, d)
	}
	// Read unconfirmed (below the lane's minimum): not yet.
	low := fire
	low.Confidence = 0.2
	if _, acts := play(t, lane.Config{Name: "in-1", MinPlateConfidence: 0.8}, lane.VehiclePresent{}, low); decided(acts) != nil {
		t.Fatal("an unconfirmed read of an emergency vehicle's plate was decided on")
	}
	// Another plate read after it: an ordinary vehicle again.
	s, acts = play(t, lane.Config{Name: "in-1", MinPlateConfidence: 0.8}, lane.VehiclePresent{}, low, lane.PlateRead{Plate: "浙B99999", Confidence: 1})
	if decided(acts) != nil || s.Evidence.Exempt != "" {
		t.Fatalf("another plate kept the exemption: %+v", s.Evidence)
	}
}
