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

// The note beside the prompt: the waybill found from the plate, no scan
// needed, while the lane collects and checks; not for a scanned waybill
// (nor one that overrode the plate's), an exit lane or once decided.
func TestWaybillFoundNote(t *testing.T) {
	byPlate := checks.Evidence{Waybill: "YD3302002603150009", WaybillSource: checks.WaybillByPlate, WaybillByPlate: "YD3302002603150009"}
	overrode := checks.Evidence{Waybill: "YD3302002603150010", WaybillSource: checks.WaybillScanned, WaybillByPlate: "YD3302002603150009"}
	for _, tc := range []struct {
		name string
		snap lane.Snapshot
		want prompt.Key
	}{
		{"collecting", lane.Snapshot{Phase: lane.PhaseCollecting, Missing: []string{lane.MissingDriverCard}, Evidence: byPlate}, prompt.WaybillFound},
		{"checking", lane.Snapshot{Phase: lane.PhaseDeciding, Evidence: byPlate}, prompt.WaybillFound},
		{"scanned", lane.Snapshot{Phase: lane.PhaseCollecting, Missing: []string{lane.MissingDriverCard}, Evidence: checks.Evidence{Waybill: "YD1", WaybillSource: checks.WaybillScanned}}, ""},
		{"a scan overrode it", lane.Snapshot{Phase: lane.PhaseCollecting, Missing: []string{lane.MissingDriverCard}, Evidence: overrode}, ""},
		{"passed", lane.Snapshot{Phase: lane.PhaseOpen, Evidence: byPlate}, ""},
		{"exit lane", lane.Snapshot{Phase: lane.PhaseCollecting, Exit: true, Evidence: byPlate}, ""},
		{"lock-down", lane.Snapshot{Phase: lane.PhaseCollecting, Lockdown: true, Evidence: byPlate}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := prompt.Of(tc.snap).Note; got != tc.want {
				t.Fatalf("note %q, want %q", got, tc.want)
			}
		})
	}
	w := prompt.Defaults()
	if n := w.Note(prompt.Prompt{Key: prompt.SwipeDriver, Note: prompt.WaybillFound}); n.ZH != "电子运单已按车牌调取，无需扫码" || n.EN != "Waybill found from the plate: no scan needed" {
		t.Fatalf("note words %q", n)
	}
	if n := w.Note(prompt.Prompt{Key: prompt.SwipeDriver}); n != (prompt.Text{}) {
		t.Fatalf("no note says %q", n)
	}
	if msg := w.Validate(prompt.WaybillFound); msg != "" {
		t.Fatalf("the note's words may be configured: %q", msg)
	}
}
