package checks

import (
	"strings"

	"github.com/hazgate/hazgate/registry"
)

// Params.Appointments: whether an entry needs an approved appointment whose
// window holds now (docs/design.md, "The check rules").
const (
	// AppointmentsOff: appointments are not looked at (the default).
	AppointmentsOff = "off"
	// AppointmentsOptional: the appointment is found and recorded with the
	// inspection; none fails nothing.
	AppointmentsOptional = "optional"
	// AppointmentsRequired: no approved appointment whose window holds now
	// fails park_rules (no_appointment).
	AppointmentsRequired = "required"
)

// AppointmentRegistry is a registry view that holds appointments.
// *registry.Index implements it; a view without them has none.
type AppointmentRegistry interface {
	Appointments(plate string) []registry.Appointment
}

var _ AppointmentRegistry = (*registry.Index)(nil)

// AppointmentFor is the vehicle's approved appointment whose window holds
// at the arrival (now when the arrival is not known), the first by id; ok
// is false with none, or when appointments are off.
func AppointmentFor(ev Evidence, reg Registry, p Params) (registry.Appointment, bool) {
	if p.Appointments == "" || p.Appointments == AppointmentsOff || ev.Plate == "" {
		return registry.Appointment{}, false
	}
	ar, ok := reg.(AppointmentRegistry)
	if !ok {
		return registry.Appointment{}, false
	}
	at := ev.Arrived
	if at.IsZero() {
		return registry.Appointment{}, false
	}
	for _, a := range ar.Appointments(ev.Plate) {
		if a.Approved() && a.Holds(at, p.Location) {
			return a, true
		}
	}
	return registry.Appointment{}, false
}

// appointment judges the appointment for park_rules: with required, none
// fails.
func (j *judge) appointment(jd *judgement) {
	if j.p.Appointments != AppointmentsRequired || j.ev.Plate == "" {
		return // no plate: plate_missing is already there
	}
	ev := j.ev
	if ev.Arrived.IsZero() {
		ev.Arrived = j.now
	}
	if _, ok := AppointmentFor(ev, j.reg, j.p); !ok {
		jd.fail(ReasonNoAppointment, "vehicle", strings.TrimSpace(j.ev.Plate))
	}
}
