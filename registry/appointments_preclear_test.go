package registry

import (
	"strings"
	"testing"
	"time"
)

// The appointment's optional trip fields (pre-clearance) and the whole
// list by window.
func TestAppointmentTripFields(t *testing.T) {
	doc := `appointments:
  - {id: B2, plate: 浙B12345, company: 甬化一厂, from: 2026-03-15T13:00:00+08:00, until: 2026-03-15T15:00:00+08:00}
  - {id: B1, plate: 浙B55555, company: 甬化二厂, from: 2026-03-15T08:00:00+08:00, until: 2026-03-15T12:00:00+08:00,
     trailer: 浙B5555挂, waybill: YD1, driver: "990001198604120110", escort: "990001198706230126"}
`
	s, err := Decode([]byte(doc), "r.yaml")
	if err != nil {
		t.Fatal(err)
	}
	all := NewIndex(s, time.Time{}).AllAppointments()
	if len(all) != 2 || all[0].ID != "B1" || all[1].ID != "B2" {
		t.Fatalf("all by window: %+v", all)
	}
	if a := all[0]; a.Trailer != "浙B5555挂" || a.Waybill != "YD1" || a.Driver != "990001198604120110" || a.Escort != "990001198706230126" {
		t.Fatalf("trip fields: %+v", a)
	}
	for _, tt := range []struct{ doc, want string }{
		{"appointments:\n  - {id: A1, plate: 浙B12345, from: 2026-03-15, until: 2026-03-15, trailer: \"<b>\"}\n", "appointments[0].trailer"},
		{"appointments:\n  - {id: A1, plate: 浙B12345, from: 2026-03-15, until: 2026-03-15, driver: \"9900011986A4120110\"}\n", "appointments[0].driver"},
		{"appointments:\n  - {id: A1, plate: 浙B12345, from: 2026-03-15, until: 2026-03-15, escort: \"12\"}\n", "appointments[0].escort"},
	} {
		_, err := Decode([]byte(tt.doc), "r.yaml")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want an error naming %s", tt.doc, err, tt.want)
		}
	}
}
