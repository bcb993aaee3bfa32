package sim

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/record"
	"github.com/hazgate/hazgate/store"
)

// TestNativePlateCameraScenarios: the simulated Hikvision and Dahua
// cameras push over HTTP to the gate's own endpoint; the colour and the
// placard reach the checks with their reasons, and each read's plate and
// scene pictures are kept with its inspection.
func TestNativePlateCameraScenarios(t *testing.T) {
	for _, c := range []struct {
		file   string
		check  string
		reason []string // arrivals[0]'s reasons in check
	}{
		{"testdata/91-plate-colour-mismatch-hikvision.yaml", checks.VehicleDocuments, []string{checks.ReasonPlateColorMismatch}},
		{"testdata/92-placard-not-seen-hikvision.yaml", checks.VehicleDocuments, []string{checks.ReasonPlacardNotSeen}},
		{"testdata/93-dahua-camera.yaml", checks.VehicleDocuments, []string{}},
	} {
		t.Run(c.file, func(t *testing.T) {
			sc, err := Load(c.file)
			if err != nil {
				t.Fatal(err)
			}
			e, rep := runEngine(t, sc, Options{})
			e.gate.Keeper.WaitFaces()
			first := rep.Inspections[0]
			if got := first.Checks[c.check].Reasons; !slices.Equal(got, c.reason) {
				t.Fatalf("%s reasons %v, want %v", c.check, got, c.reason)
			}
			list, err := e.Store().ListInspections(context.Background(), store.Filter{Limit: 100})
			if err != nil || len(list) != len(rep.Inspections) {
				t.Fatalf("%d inspections stored, %v", len(list), err)
			}
			for _, in := range list {
				kinds, err := e.Store().MediaKinds(context.Background(), in.ID)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Contains(kinds, record.MediaPlate) || !slices.Contains(kinds, record.MediaScene) {
					t.Fatalf("%s: pictures kept %v", in.ID, kinds)
				}
			}
		})
	}
}

// The silent camera: its reads are not pushed, the gate notices the
// silence and says so, and the camera comes back.
func TestPlateCameraSilentScenario(t *testing.T) {
	sc, err := Load("testdata/94-plate-camera-silent.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var progress strings.Builder
	_, rep := runEngine(t, sc, Options{Progress: &progress})
	if got := rep.Inspections[0].Checks[checks.VehicleDocuments].Reasons; !slices.Equal(got, []string{checks.ReasonPlateMissing}) {
		t.Fatalf("the silent camera's vehicle: %v", got)
	}
	for _, want := range []string{"in-1/plate_camera silent: the read of 浙B20005 is not pushed", "fault silent starts", "fault silent ends"} {
		if !strings.Contains(progress.String(), want) {
			t.Fatalf("progress lacks %q:\n%s", want, progress.String())
		}
	}
}

// A scenario's plate camera settings and colours are checked.
func TestPlateScenarioRefused(t *testing.T) {
	data, err := os.ReadFile("testdata/93-dahua-camera.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, from, to, want string }{
		{"unknown format", "plate_camera: dahua", "plate_camera: axis", `settings.plate_camera: "axis" is not json, hikvision or dahua`},
		{"colour not of GA 36", "plate_color: white", "plate_color: pink", `arrivals[1].plate_color: "pink" is not a plate colour`},
		{"a trailer for a camera that reads one plate", "    plate: 浙B20005\n", "    plate: 浙B20005\n    trailer: 浙B2005挂\n", "arrivals[0].trailer: a dahua camera reads one plate"},
		{"silence not above the heartbeat", "plate_camera_silence: 2m", "plate_camera_silence: 20s", "settings.plate_camera_silence: 20s: the simulated cameras send a heartbeat every 30s"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(strings.Replace(string(data), c.from, c.to, 1)), "s.yaml")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
}
