package kiosk

import (
	"net/http"
	"testing"
)

func TestCardFacts(t *testing.T) {
	tests := []struct {
		name, id, sex string
		year          int
	}{
		{"odd 17th digit: male", "990001198604120110", "M", 1986},
		{"even 17th digit: female", "990001198706230126", "F", 1987},
		{"X check digit", "99000119910722022X", "F", 1991},
		{"too short", "9900011986041201", "", 0},
		{"not digits", "990001ABCD04120110", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if sex, year := cardFacts(tt.id); sex != tt.sex || year != tt.year {
				t.Fatalf("cardFacts(%s) = %q %d, want %q %d", tt.id, sex, year, tt.sex, tt.year)
			}
		})
	}
}

// TestFacesNone: an inspection whose face matcher took no picture (the
// scripted test matcher) has none kept, not purged; no image is served and
// no view is audited.
func TestFacesNone(t *testing.T) {
	h := heldHarness(t)
	id := h.runner("in-1").Snapshot().InspectionID
	c := h.client().mustLogin("op", opPassword)
	a := c.do(http.MethodGet, "/api/v1/inspections/"+id+"/faces", nil)
	if a.status != http.StatusOK || a.json(t)["state"] != facesNone || a.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("faces: %d %s", a.status, a.body)
	}
	if a := c.do(http.MethodGet, "/api/v1/inspections/"+id+"/faces/face_driver", nil); a.status != http.StatusNotFound {
		t.Fatalf("image: %d %s", a.status, a.body)
	}
	if a := c.do(http.MethodGet, "/api/v1/inspections/nope/faces", nil); a.status != http.StatusNotFound {
		t.Fatalf("unknown inspection: %d %s", a.status, a.body)
	}
	for _, act := range h.auditActions(id) {
		if act == "face.viewed" {
			t.Fatal("a view audited with no image served")
		}
	}
}
