package kiosk

import (
	"testing"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/prompt"
)

// The views of the waybill found from the plate (issue 16): the display
// carries the note while the lane collects, the lane card how the waybill
// was found and the plate's waybill a scan overrode.
func TestWaybillByPlateViews(t *testing.T) {
	byPlate := checks.Evidence{Plate: "浙B20001", Waybill: "YD3302002603150101", WaybillSource: checks.WaybillByPlate, WaybillByPlate: "YD3302002603150101"}
	overrode := checks.Evidence{Plate: "浙B20001", Waybill: "YD3302002603150202", WaybillSource: checks.WaybillScanned, WaybillByPlate: "YD3302002603150101"}
	collecting := func(ev checks.Evidence) lane.Snapshot {
		return lane.Snapshot{Lane: "in-1", Phase: lane.PhaseCollecting, Missing: []string{lane.MissingEscortCard}, Evidence: ev}
	}
	words := prompt.Defaults()

	v := newDisplayView(collecting(byPlate), words, t0)
	if v.Note == nil || v.Note.ZH != "电子运单已按车牌调取，无需扫码" || v.Note.EN != "Waybill found from the plate: no scan needed" || v.Prompt != prompt.SwipeEscort {
		t.Fatalf("display by plate: prompt %s note %+v", v.Prompt, v.Note)
	}
	if v := newDisplayView(collecting(overrode), words, t0); v.Note != nil {
		t.Fatalf("display after a scan overrode it: note %+v", v.Note)
	}

	for _, tc := range []struct {
		name             string
		ev               checks.Evidence
		source, overrode string
	}{
		{"by plate", byPlate, checks.WaybillByPlate, ""},
		{"a scan overrode it", overrode, checks.WaybillScanned, "YD3302002603150101"},
		{"scanned", checks.Evidence{Waybill: "YD1", WaybillSource: checks.WaybillScanned}, checks.WaybillScanned, ""},
		{"none", checks.Evidence{WaybillByPlate: "YD1"}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lv := newLaneView(collecting(tc.ev), t0)
			if lv.WaybillSource != tc.source || lv.WaybillByPlate != tc.overrode {
				t.Fatalf("lane view: source %q by plate %q, want %q %q", lv.WaybillSource, lv.WaybillByPlate, tc.source, tc.overrode)
			}
		})
	}
}
