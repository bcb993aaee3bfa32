package registry

import (
	"strings"
	"testing"
	"time"
)

func TestAppointments(t *testing.T) {
	doc := `appointments:
  - {id: A1, plate: 浙B12345, company: 甬化一厂, from: 2026-03-15T08:00:00+08:00, until: 2026-03-15T12:00:00+08:00}
  - {id: A2, plate: 浙ｂ 12345, company: 甬化二厂, from: 2026-03-16, until: 2026-03-16, status: pending}
  - {id: A3, plate: 浙B55555, company: 甬化三厂, from: 2026-03-15, until: 2026-03-15, status: cancelled}
`
	s, err := Decode([]byte(doc), "r.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ix := NewIndex(s, time.Time{})
	got := ix.Appointments("浙B 12345")
	if len(got) != 2 || got[0].ID != "A1" || got[1].ID != "A2" {
		t.Fatalf("by plate: %+v", got)
	}
	cst := time.FixedZone("CST", 8*3600)
	at := time.Date(2026, 3, 15, 9, 0, 0, 0, cst)
	if !got[0].Approved() || !got[0].Holds(at, cst) || got[0].Holds(at.Add(4*time.Hour), cst) {
		t.Fatal("A1's window")
	}
	if got[1].Approved() {
		t.Fatal("a pending appointment approved")
	}
	// A delta deletes by id.
	n := ix.Apply(Change{DeleteAppointments: []string{"A1"}, Upsert: &Snapshot{Appointments: []Appointment{{ID: "A4", Plate: "浙B12345"}}}})
	if ids := idsOf(n.Appointments("浙B12345")); ids != "A2,A4" {
		t.Fatalf("after the change: %s", ids)
	}
	if ids := idsOf(ix.Appointments("浙B12345")); ids != "A1,A2" {
		t.Fatalf("the index changed under Apply: %s", ids)
	}

	for _, tt := range []struct{ doc, want string }{
		{"appointments:\n  - {plate: 浙B12345, from: 2026-03-15, until: 2026-03-15}\n", "appointments[0].id: missing"},
		{"appointments:\n  - {id: A1, plate: 浙B12345, from: 2026-03-15, until: 2026-03-15}\n  - {id: A1, plate: 浙B1, from: 2026-03-15, until: 2026-03-15}\n", "appointments[1].id: A1 is already appointments[0]"},
		{"appointments:\n  - {id: A1, plate: 浙B12345, from: 2026-03-16, until: 2026-03-15}\n", "appointments[0].from"},
		{"appointments:\n  - {id: A1, plate: 浙B12345, from: 2026-03-15}\n", "appointments[0].until: missing"},
		{"appointments:\n  - {id: A1, plate: 浙B12345, from: 2026-03-15, until: 2026-03-15, status: maybe}\n", "appointments[0].status"},
		{"appointments:\n  - {id: A1, plate: \"=cmd\", from: 2026-03-15, until: 2026-03-15}\n", "appointments[0].plate"},
	} {
		_, err := Decode([]byte(tt.doc), "r.yaml")
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "r.yaml:") {
			t.Errorf("%q: %v, want %q with its line", tt.doc, err, tt.want)
		}
	}
}

func TestAppointmentsStream(t *testing.T) {
	doc := `{"appointments": [{"id": "A1", "plate": "浙B12345", "company": "x", "from": "2026-03-15", "until": "2026-03-15"},
		{"id": "A1", "plate": "浙B12345", "company": "x", "from": "2026-03-15", "until": "2026-03-15"}]}`
	_, err := StreamJSON(strings.NewReader(doc), "r.json", Sink{})
	if err == nil || !strings.Contains(err.Error(), "appointments[1].id: A1 is already appointments[0]") {
		t.Fatalf("StreamJSON: %v", err)
	}
	var n int
	h, err := StreamJSON(strings.NewReader(doc[:strings.Index(doc, ",\n")]+"]}"), "r.json", Sink{Appointment: func(int, Appointment) error { n++; return nil }})
	if err != nil || n != 1 || h.Appointments != 1 {
		t.Fatalf("StreamJSON: %v, %d given, head %+v", err, n, h)
	}
}

func idsOf(as []Appointment) string {
	ids := make([]string, len(as))
	for i, a := range as {
		ids[i] = a.ID
	}
	return strings.Join(ids, ",")
}
