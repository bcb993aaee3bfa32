package sim

import (
	"path/filepath"
	"slices"
	"testing"
)

// Issue 16's scenarios, by what the lane told the driver: with one waybill
// valid now for the plate the scan is never asked for; with two it is; a
// scan that contradicts the plate's waybill is judged on the scanned one
// (the scenarios' own expectations check the verdict, the waybill and how
// it was found).
func TestWaybillByPlatePrompts(t *testing.T) {
	const ask = "请扫描电子运单"
	for _, tc := range []struct {
		file  string
		asked bool
	}{
		{"waybill-by-plate-no-scan.yaml", false},
		{"waybill-by-plate-two-candidates-no-scan.yaml", true},
		{"waybill-by-plate-two-candidates-scanned.yaml", true},
		{"waybill-by-plate-scan-contradicts.yaml", false},
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
		})
	}
}
