package sim

import (
	"slices"
	"testing"

	"github.com/hazgate/hazgate/checks"
)

// The fault scenarios (testdata/70-*..84-*) give verdicts, crossings and
// alarms; these tests hold them to the reasons too: a review must be the one
// the fault causes.
func TestFaultScenarioReasons(t *testing.T) {
	tests := []struct {
		file  string
		check string
		codes []string
	}{
		{"70-reader-unplugged-whole-presentation", checks.PersonnelQualification, []string{"driver_missing"}},
		{"75-reader-silent-past-deadline", checks.PersonnelQualification, []string{"escort_missing"}},
		{"76-scanner-unplugged", checks.WaybillConsistency, []string{"waybill_missing"}},
		{"78-face-service-down", checks.Identity, []string{"face_unavailable"}},
		{"79-face-service-slow", checks.Identity, []string{"face_unavailable"}},
		{"80-face-service-down-briefly", checks.Identity, []string{"face_unavailable"}},
		{"81-camera-down", checks.Identity, []string{"face_unavailable"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			rep := runScenario(t, "testdata/"+tt.file+".yaml", Options{})
			reportFailures(t, rep)
			c := rep.Inspections[0].Checks[tt.check]
			if c.Result != checks.Unknown {
				t.Fatalf("%s: %s %v, want unknown %v", tt.check, c.Result, c.Reasons, tt.codes)
			}
			for _, code := range tt.codes {
				if !slices.Contains(c.Reasons, code) {
					t.Errorf("%s: reasons %v, want %s among them", tt.check, c.Reasons, code)
				}
			}
		})
	}
}

// A device still in fault at the end shows on its lane; one that came back
// does not.
func TestDeviceFaultShowsOnTheLane(t *testing.T) {
	for _, tt := range []struct {
		file   string
		faults []string
	}{
		{"76-scanner-unplugged", []string{"in-1/scanner"}},
		{"72-reader-back-in-time", nil},
	} {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			sc, err := Load("testdata/" + tt.file + ".yaml")
			if err != nil {
				t.Fatal(err)
			}
			e, _ := runEngine(t, sc, Options{})
			if got := e.lanes["in-1"].gl.Runner.Snapshot().Faults; !slices.Equal(got, tt.faults) {
				t.Errorf("lane faults %v, want %v", got, tt.faults)
			}
			// The status feed lists every device of the lane, as the
			// appliance's does, with the same faults.
			var names, faulted []string
			for _, d := range e.gate.Lanes.Status().Devices {
				names = append(names, d.Name)
				if !d.OK {
					faulted = append(faulted, d.Name)
					if d.State != "fault" || d.Detail == "" {
						t.Errorf("device %s: state %q, detail %q", d.Name, d.State, d.Detail)
					}
				}
			}
			want := []string{"in-1/escort_idcard", "in-1/gpio", "in-1/idcard", "in-1/scanner", "in-1/voice"}
			if !slices.Equal(names, want) {
				t.Errorf("status devices %v, want %v", names, want)
			}
			if !slices.Equal(faulted, tt.faults) {
				t.Errorf("status devices in fault %v, want %v", faulted, tt.faults)
			}
		})
	}
}
