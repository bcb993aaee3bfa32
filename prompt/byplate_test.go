package prompt_test

import (
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/prompt"
)

// With the waybill found from the plate, the driver is never asked to scan
// it: with the people done the lane is checking; without, the scan is
// asked for.
func TestNoScanPromptWithWaybillByPlate(t *testing.T) {
	t0 := time.Date(2027, 3, 10, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		byPlate string
		want    prompt.Key
	}{{"YD3302002603150009", prompt.Checking}, {"", prompt.ScanWaybill}} {
		s := lane.NewState(lane.Config{Name: "in-1", LookupWaybill: true})
		for i, e := range []lane.Event{
			lane.VehiclePresent{},
			lane.PlateRead{Plate: "浙B12345", Confidence: 0.98, WaybillByPlate: c.byPlate},
			lane.CardRead{Person: checks.PersonEvidence{IDNumber: "D1"}},
			lane.FaceScored{IDNumber: "D1"},
			lane.CardRead{Person: checks.PersonEvidence{IDNumber: "E1"}},
			lane.FaceScored{IDNumber: "E1"},
		} {
			var err error
			if s, _, err = lane.Step(s, e, t0.Add(time.Duration(i)*time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		if got := prompt.Of(s.Snapshot()).Key; got != c.want {
			t.Errorf("by plate %q: prompt %s (missing %v), want %s", c.byPlate, got, s.Missing(), c.want)
		}
	}
}
