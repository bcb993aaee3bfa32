package kiosk

import (
	"slices"
	"testing"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/lane"
)

// While the scanned waybill's lookup is awaited, the checks that judge the
// waybill show they wait for it; the others are ready.
func TestChecksWaitForWaybillLookup(t *testing.T) {
	views := checkViews(lane.PhaseCollecting, nil, []string{lane.MissingWaybillLookup})
	waiting := map[string]bool{}
	for _, v := range views {
		waiting[v.ID] = slices.Contains(v.Waiting, lane.MissingWaybillLookup)
	}
	for _, id := range checks.IDs {
		// The classes, the waybill and the goods come from the copy looked up.
		want := id == checks.VehicleDocuments || id == checks.WaybillConsistency || id == checks.TankMedia
		if waiting[id] != want {
			t.Errorf("%s waiting for the lookup: %t, want %t", id, waiting[id], want)
		}
	}
}
