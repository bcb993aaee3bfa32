package checks

import (
	"time"

	"github.com/hazgate/hazgate/registry"
)

// A gate whose clock is not known to be right (a board without a
// battery-backed clock, before NTP has set it) cannot tell whether a
// document is in its validity: with synced false, every rule that compares
// a date or the time of day with now is unknown with clock_unsynced,
// whichever way the comparison would have gone (a clock ahead would fail
// valid documents, one behind would pass expired ones). The rules that read
// no date (registration, classes, names, media, load, check digit, face,
// blacklist) are judged as ever, and a failure among them still fails.
// The clock's state is passed in, like the time: the checks read no clock.

// Run judges ev against reg at now, on a clock known to be right, and
// returns every check's result and the verdict. It does no I/O and reads
// no clock.
func Run(ev Evidence, reg Registry, now time.Time, p Params) Outcome {
	return run(ev, reg, now, true, p)
}

// RunAt judges ev against reg at now; synced says whether the gate's clock
// is known to be right. Unsynced, the date rules are unknown
// (clock_unsynced), so the verdict is review at best.
func RunAt(ev Evidence, reg Registry, now time.Time, synced bool, p Params) Outcome {
	return run(ev, reg, now, synced, p)
}

// RunWithoutRegistry judges ev when the registry could not be read: identity
// is judged from the card and the face, every other check is unknown with
// registry_unavailable. A check that errs never passes.
func RunWithoutRegistry(ev Evidence, now time.Time, p Params) Outcome {
	return runWithoutRegistry(ev, now, true, p)
}

// RunWithoutRegistryAt is RunWithoutRegistry on a clock that may not be
// known to be right (RunAt).
func RunWithoutRegistryAt(ev Evidence, now time.Time, synced bool, p Params) Outcome {
	return runWithoutRegistry(ev, now, synced, p)
}

// clockUnknown reports whether the clock is not known to be right; if so
// the check is unknown with clock_unsynced (said once per check).
func (j *judge) clockUnknown(jd *judgement) bool {
	if !j.unsynced {
		return false
	}
	for _, r := range jd.unknown {
		if r.Code == ReasonClockUnsynced {
			return true
		}
	}
	jd.unsure(ReasonClockUnsynced, "", "")
	return true
}

// hasCertificate reports whether rec holds any certificate for role (its
// dates aside): one that holds none fails certificate_missing on any clock.
func hasCertificate(rec registry.Person, role registry.Role) bool {
	for _, c := range rec.Certificates {
		if c.Role == role {
			return true
		}
	}
	return false
}

// appointmentUnknown: with appointments required, whether the vehicle's
// approved appointment cannot be judged because its window is compared
// with a clock not known to be right; if so park_rules is unknown with
// clock_unsynced. A vehicle with no approved appointment at all still
// fails no_appointment (appointment).
func (j *judge) appointmentUnknown(jd *judgement) bool {
	if !j.unsynced || j.p.Appointments != AppointmentsRequired || j.ev.Plate == "" {
		return false
	}
	ar, ok := j.reg.(AppointmentRegistry)
	if !ok {
		return false
	}
	for _, a := range ar.Appointments(j.ev.Plate) {
		if a.Approved() {
			return j.clockUnknown(jd)
		}
	}
	return false
}
