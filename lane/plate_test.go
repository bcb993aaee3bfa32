package lane_test

import (
	"testing"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/lane"
)

// TestPlateColorPlacardAndPictures: what the camera saw with the plate
// reaches the evidence the lane decides on; the operator typing the same
// plate keeps it, another plate drops it.
func TestPlateColorPlacardAndPictures(t *testing.T) {
	seen := true
	pics := &checks.PlatePictures{Plate: []byte{0xff, 0xd8, 1}, Scene: []byte{0xff, 0xd8, 2}}
	camera := lane.PlateRead{Plate: "浙B12345", Trailer: "浙B6789挂", Confidence: 0.98, Color: "yellow", Placard: &seen, Pictures: pics}
	typed := lane.PlateRead{Plate: "浙B12345", Confidence: 1}
	other := lane.PlateRead{Plate: "浙B99999", Confidence: 1}
	cfg := lane.Config{Name: "in-1"}

	s, _ := play(t, cfg, lane.VehiclePresent{}, camera)
	ev := s.Evidence
	if ev.PlateColor != "yellow" || ev.Placard == nil || !*ev.Placard || ev.Pictures != pics {
		t.Fatalf("camera read: %q %v %v", ev.PlateColor, ev.Placard, ev.Pictures)
	}
	s, _ = play(t, cfg, lane.VehiclePresent{}, camera, typed)
	if ev := s.Evidence; ev.PlateColor != "yellow" || ev.Placard == nil || ev.Pictures != pics || ev.Trailer != "浙B6789挂" {
		t.Fatalf("same plate typed: %+v", ev)
	}
	s, _ = play(t, cfg, lane.VehiclePresent{}, camera, other)
	if ev := s.Evidence; ev.PlateColor != "" || ev.Placard != nil || ev.Pictures != nil {
		t.Fatalf("another plate typed kept the camera's: %q %v %v", ev.PlateColor, ev.Placard, ev.Pictures)
	}
	// The decision carries it.
	_, acts := play(t, cfg, lane.VehiclePresent{}, camera, driver, driverFace, escort, escortFace, waybill)
	var dec *lane.Decide
	for _, a := range acts {
		if d, ok := a.(lane.Decide); ok {
			dec = &d
		}
	}
	if dec == nil || dec.Evidence.PlateColor != "yellow" || dec.Evidence.Placard == nil || dec.Evidence.Pictures != pics {
		t.Fatalf("decide: %v", acts)
	}
}
