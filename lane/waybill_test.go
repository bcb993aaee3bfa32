package lane_test

import (
	"slices"
	"testing"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/registry"
)

// The waybill lookup: started at the scan, the decision waits for its
// answer (or the deadline), and only an answer for the waybill scanned
// counts.
func TestWaybillLookup(t *testing.T) {
	cfg := lane.Config{Name: "in-1", LookupWaybill: true}
	found := lane.WaybillLooked{Lookup: checks.WaybillLookup{Number: waybill.Number, Source: checks.WaybillFromService,
		Waybill: &registry.Waybill{Number: waybill.Number, Status: registry.WaybillCancelled}}}

	t.Run("scanned first: looked up at once, decided when the cards are in", func(t *testing.T) {
		s, acts := play(t, cfg, lane.VehiclePresent{}, plate, waybill)
		if !slices.Equal(acts, []lane.Action{lane.LookupWaybill(waybill)}) {
			t.Fatalf("actions after the scan = %v, want the lookup", acts)
		}
		if !slices.Contains(s.Missing(), lane.MissingWaybillLookup) {
			t.Fatalf("missing = %v, want the lookup among them", s.Missing())
		}
		s, acts = play(t, cfg, lane.VehiclePresent{}, plate, waybill, found, driver, driverFace, escort, escortFace)
		d := decideOf(t, acts)
		if d.Evidence.WaybillLookup == nil || d.Evidence.WaybillLookup.Waybill.Status != registry.WaybillCancelled {
			t.Fatalf("decided on %+v, want the service's copy", d.Evidence.WaybillLookup)
		}
		if s.Phase != lane.PhaseDeciding {
			t.Fatalf("phase %s", s.Phase)
		}
	})
	t.Run("scanned last: the decision waits for the answer", func(t *testing.T) {
		s, acts := play(t, cfg, then(collecting, waybill)...)
		if s.Phase != lane.PhaseCollecting || !slices.Equal(s.Missing(), []string{lane.MissingWaybillLookup}) {
			t.Fatalf("phase %s missing %v, want collecting for the lookup", s.Phase, s.Missing())
		}
		if !slices.Equal(acts, []lane.Action{lane.LookupWaybill(waybill)}) {
			t.Fatalf("actions = %v", acts)
		}
		_, acts = play(t, cfg, then(collecting, waybill, found)...)
		decideOf(t, acts)
	})
	t.Run("an answer for another waybill is ignored", func(t *testing.T) {
		other := found
		other.Lookup.Number = "YD-OTHER"
		s, acts := play(t, cfg, then(collecting, waybill, other)...)
		if s.Phase != lane.PhaseCollecting || len(acts) != 0 {
			t.Fatalf("phase %s actions %v after a stray answer", s.Phase, acts)
		}
	})
	t.Run("no answer by the deadline: unavailable, never a pass", func(t *testing.T) {
		_, acts := play(t, cfg, then(collecting, waybill, lane.DeadlinePassed{Gen: 1})...)
		d := decideOf(t, acts)
		l := d.Evidence.WaybillLookup
		if l == nil || !l.Unavailable || l.Number != waybill.Number || !d.Evidence.DeadlineExceeded {
			t.Fatalf("decided at the deadline on %+v", l)
		}
	})
	t.Run("off: no lookup", func(t *testing.T) {
		_, acts := play(t, lane.Config{Name: "in-1"}, then(collecting, waybill)...)
		if d := decideOf(t, acts); d.Evidence.WaybillLookup != nil {
			t.Fatalf("a lookup with the service off: %+v", d.Evidence.WaybillLookup)
		}
	})
}

func decideOf(t *testing.T, acts []lane.Action) lane.Decide {
	t.Helper()
	for _, a := range acts {
		if d, ok := a.(lane.Decide); ok {
			return d
		}
	}
	t.Fatalf("no Decide among %v", acts)
	return lane.Decide{}
}
