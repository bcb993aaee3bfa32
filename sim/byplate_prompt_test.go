package sim

import (
	"path/filepath"
	"slices"
	"testing"
)

// Issue 16's scenarios, by what the lane told the driver: with one waybill
// valid now for the plate the scan is never asked for, and the driver is
// told so; with two it is, and nothing is said of the plate; a scan that
// contradicts the plate's waybill is judged on the scanned one
// (the scenarios' own expectations check the verdict, the waybill and how
// it was found).
func TestWaybillByPlatePrompts(t *testing.T) {
	const ask = "请扫描电子运单"
	// noted: whether the lane said the waybill was found from the plate
	// ("" when it depends on which of the plate read and the scan, both
	// 1 s after arrival, the lane took first).
	for _, tc := range []struct {
		file  string
		asked bool
		noted string
	}{
		{"waybill-by-plate-no-scan.yaml", false, "yes"},
		{"waybill-by-plate-two-candidates-no-scan.yaml", true, "no"},
		{"waybill-by-plate-two-candidates-scanned.yaml", true, "no"},
		{"waybill-by-plate-scan-contradicts.yaml", false, ""},
	} {
		t.Run(tc.file, func(t *testing.T) {
			sc, err := Load(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			rep := runParsed(t, sc, Options{})
			if rep.Failed > 0 {
				t.Fatalf("%d arrivals not as expected: %+v", rep.Failed, rep.Inspections)
			}
			said := rep.Lanes["in-1"].Said
			if len(said) == 0 {
				t.Fatal("the lane said nothing")
			}
			if got := slices.Contains(said, ask); got != tc.asked {
				t.Fatalf("asked for the scan: %t, want %t (said %q)", got, tc.asked, said)
			}
			if got := slices.Contains(said, byPlateNote); tc.noted != "" && got != (tc.noted == "yes") {
				t.Fatalf("said the waybill was found from the plate: %t, want %s (said %q)", got, tc.noted, said)
			}
		})
	}
}
