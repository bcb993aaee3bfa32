package registry

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Appointment is a destination company's approval for a vehicle to enter
// the park within a window (预约).
type Appointment struct {
	ID      string   `yaml:"id" json:"id"`
	Plate   string   `yaml:"plate" json:"plate"`
	Company string   `yaml:"company" json:"company"` // the destination company
	From    Validity `yaml:"from" json:"from"`
	Until   Validity `yaml:"until" json:"until"`
	// Status is approved, pending, cancelled or rejected; absent:
	// approved. Only an approved appointment lets a vehicle in.
	Status string `yaml:"status,omitempty" json:"status,omitempty"`
	// Trailer, Waybill, Driver and Escort (ID numbers) are optional: what
	// the appointment says of the trip. The gate pre-clears an appointment
	// with them (docs/design.md, "Pre-clearance"): the waybill named, else
	// the one found from the plate; the people's qualifications only when
	// the appointment names them.
	Trailer string `yaml:"trailer,omitempty" json:"trailer,omitempty"`
	Waybill string `yaml:"waybill,omitempty" json:"waybill,omitempty"`
	Driver  string `yaml:"driver,omitempty" json:"driver,omitempty"`
	Escort  string `yaml:"escort,omitempty" json:"escort,omitempty"`
}

// An appointment's status.
const (
	AppointmentApproved  = "approved"
	AppointmentPending   = "pending"
	AppointmentCancelled = "cancelled"
	AppointmentRejected  = "rejected"
)

// Approved reports whether the appointment lets its vehicle in.
func (a Appointment) Approved() bool { return a.Status == "" || a.Status == AppointmentApproved }

// Holds reports whether the appointment's window holds at now, date-only
// bounds in loc.
func (a Appointment) Holds(now time.Time, loc *time.Location) bool {
	return a.From.ValidFrom(now, loc) && a.Until.ValidUntil(now, loc)
}

// validateAppointments adds the appointments' mistakes.
func validateAppointments(as []Appointment, add func(field, format string, args ...any)) {
	ids := map[string]int{}
	for i, a := range as {
		f := fmt.Sprintf("appointments[%d]", i)
		if a.ID == "" {
			add(f+".id", "missing")
		} else if j, dup := ids[a.ID]; dup {
			add(f+".id", "%s is already appointments[%d]", a.ID, j)
		} else {
			ids[a.ID] = i
		}
		if msg := PlateProblem(a.Plate); msg != "" {
			add(f+".plate", "%s", msg)
		}
		if a.From.IsZero() {
			add(f+".from", "missing")
		} else if msg := validityOrder(a.From, a.Until); msg != "" {
			add(f+".from", "%s", msg)
		}
		if a.Until.IsZero() {
			add(f+".until", "missing")
		}
		if msg := PlateProblem(a.Trailer); a.Trailer != "" && msg != "" {
			add(f+".trailer", "%s", msg)
		}
		for _, p := range []struct{ field, id string }{{"driver", a.Driver}, {"escort", a.Escort}} {
			if msg := IDProblem(p.id); p.id != "" && msg != "" {
				add(f+"."+p.field, "%s", msg)
			}
		}
		switch a.Status {
		case "", AppointmentApproved, AppointmentPending, AppointmentCancelled, AppointmentRejected:
		default:
			add(f+".status", "%q is not approved, pending, cancelled or rejected", a.Status)
		}
	}
}

// appointments are an index's appointments: by id, and the ids by
// normalised plate.
type appointments struct {
	byID    map[string]Appointment
	byPlate map[string][]string
}

func (t appointments) clone() appointments {
	return appointments{byID: maps.Clone(t.byID)}
}

func (t *appointments) put(a Appointment) {
	if t.byID == nil {
		t.byID = map[string]Appointment{}
	}
	t.byID[a.ID] = a
	t.byPlate = nil
}

func (t *appointments) del(id string) {
	delete(t.byID, id)
	t.byPlate = nil
}

// plates builds the by-plate index, once the records are in.
func (t *appointments) plates() {
	t.byPlate = map[string][]string{}
	for id, a := range t.byID {
		k := NormalizePlate(a.Plate)
		t.byPlate[k] = append(t.byPlate[k], id)
	}
	for _, ids := range t.byPlate {
		slices.Sort(ids)
	}
}

// Appointments returns the appointments of the vehicle with this plate, by
// id.
func (ix *Index) Appointments(plate string) []Appointment {
	ids := ix.appts.byPlate[NormalizePlate(plate)]
	out := make([]Appointment, 0, len(ids))
	for _, id := range ids {
		out = append(out, ix.appts.byID[id])
	}
	return out
}

// AllAppointments returns every appointment, by window opening then id.
func (ix *Index) AllAppointments() []Appointment {
	out := slices.Collect(maps.Values(ix.appts.byID))
	slices.SortFunc(out, func(a, b Appointment) int {
		if c := a.From.Start(time.UTC).Compare(b.From.Start(time.UTC)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// Appointment adds an appointment.
func (b *IndexBuilder) Appointment(a Appointment) { b.ix.appts.put(a) }

func (v *streamValidator) appointment(i int, r Appointment) bool {
	var dup *Problem
	if r.ID != "" {
		if v.appts == nil {
			v.appts = map[string]int{}
		}
		dup = firstSeen(v.appts, r.ID, r.ID, "appointments", "id", i)
	}
	v.one.Appointments = []Appointment{r}
	return v.alone("appointments", i, dup)
}
