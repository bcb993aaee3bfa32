package lane_test

import (
	"slices"
	"testing"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/lane"
)

// The waybill found from the plate (issue 16): it is the evidence with no
// scan, the decision comes with the last face; a scan of another waybill
// wins and the plate's is kept beside it.
func TestWaybillByPlate(t *testing.T) {
	cfg := lane.Config{Name: "in-1"}
	byPlate := plate
	byPlate.WaybillByPlate = "YD3302002603150009"

	t.Run("found by plate: not missing, decided at the last face", func(t *testing.T) {
		s, _ := play(t, cfg, lane.VehiclePresent{}, byPlate, driver, driverFace, escort)
		if !slices.Equal(s.Missing(), []string{lane.MissingEscortFace}) {
			t.Fatalf("missing = %v, want only the escort's face", s.Missing())
		}
		_, acts := play(t, cfg, lane.VehiclePresent{}, byPlate, driver, driverFace, escort, escortFace)
		d := decideOf(t, acts)
		if d.Evidence.Waybill != byPlate.WaybillByPlate || d.Evidence.WaybillSource != checks.WaybillByPlate || d.Evidence.DeadlineExceeded {
			t.Fatalf("decided on waybill %q source %q", d.Evidence.Waybill, d.Evidence.WaybillSource)
		}
	})
	t.Run("none found: the scan is asked for", func(t *testing.T) {
		s, acts := play(t, cfg, collecting...)
		if !slices.Equal(s.Missing(), []string{lane.MissingWaybill}) || len(acts) != 0 {
			t.Fatalf("missing = %v actions %v, want the waybill", s.Missing(), acts)
		}
		_, acts = play(t, cfg, then(collecting, waybill)...)
		if d := decideOf(t, acts); d.Evidence.WaybillSource != checks.WaybillScanned || d.Evidence.WaybillByPlate != "" {
			t.Fatalf("source %q by plate %q, want scanned", d.Evidence.WaybillSource, d.Evidence.WaybillByPlate)
		}
	})
	t.Run("a scan of another waybill wins, before or after the plate", func(t *testing.T) {
		for _, evs := range [][]lane.Event{
			{lane.VehiclePresent{}, byPlate, waybill, driver, driverFace, escort, escortFace},
			{lane.VehiclePresent{}, waybill, byPlate, driver, driverFace, escort, escortFace},
		} {
			_, acts := play(t, cfg, evs...)
			d := decideOf(t, acts)
			if d.Evidence.Waybill != waybill.Number || d.Evidence.WaybillSource != checks.WaybillScanned || d.Evidence.WaybillByPlate != byPlate.WaybillByPlate {
				t.Fatalf("%v: decided on %q (%s), by plate %q", evs, d.Evidence.Waybill, d.Evidence.WaybillSource, d.Evidence.WaybillByPlate)
			}
		}
	})
	t.Run("a read of another plate drops it; the same plate typed keeps it", func(t *testing.T) {
		other := lane.PlateRead{Plate: "浙B54321", Confidence: 0.99}
		s, _ := play(t, cfg, then(collecting[:1], byPlate, other, driver, driverFace, escort, escortFace)...)
		if s.Phase != lane.PhaseCollecting || !slices.Equal(s.Missing(), []string{lane.MissingWaybill}) || s.Evidence.WaybillByPlate != "" {
			t.Fatalf("phase %s missing %v by plate %q after another plate", s.Phase, s.Missing(), s.Evidence.WaybillByPlate)
		}
		typed := lane.PlateRead{Plate: plate.Plate, Confidence: 1}
		_, acts := play(t, cfg, lane.VehiclePresent{}, byPlate, driver, driverFace, escort, typed, escortFace)
		if d := decideOf(t, acts); d.Evidence.Waybill != byPlate.WaybillByPlate {
			t.Fatalf("decided on %q after the plate typed again", d.Evidence.Waybill)
		}
	})
	t.Run("with the waybill service: looked up as a scanned one", func(t *testing.T) {
		on := lane.Config{Name: "in-1", LookupWaybill: true}
		s, acts := play(t, on, lane.VehiclePresent{}, byPlate)
		if !slices.Contains(acts, lane.Action(lane.LookupWaybill{Number: byPlate.WaybillByPlate})) {
			t.Fatalf("actions = %v, want the lookup", acts)
		}
		if !slices.Contains(s.Missing(), lane.MissingWaybillLookup) {
			t.Fatalf("missing = %v, want the lookup", s.Missing())
		}
		found := lane.WaybillLooked{Lookup: checks.WaybillLookup{Number: byPlate.WaybillByPlate, Source: checks.WaybillFromService}}
		_, acts = play(t, on, lane.VehiclePresent{}, byPlate, driver, driverFace, escort, escortFace, found)
		decideOf(t, acts)
	})
	t.Run("an exit lane takes no waybill", func(t *testing.T) {
		s, _ := play(t, lane.Config{Name: "out-1", Exit: true}, lane.VehiclePresent{}, byPlate)
		if s.Evidence.Waybill != "" || s.Evidence.WaybillSource != "" {
			t.Fatalf("exit lane evidence waybill %q (%s)", s.Evidence.Waybill, s.Evidence.WaybillSource)
		}
	})
}
