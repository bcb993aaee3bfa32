package record

import (
	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/registry"
)

// LiveFields are the inspection event's fields from live park data
// (issue 13): where the waybill judged came from, and the vehicle's
// appointment with its destination company. Each is left out when it
// does not apply (no waybill service, appointments off).
type LiveFields struct {
	WaybillLookup *WaybillLookupEvent `json:"waybill_lookup,omitempty"`
	Appointment   *AppointmentEvent   `json:"appointment,omitempty"`
	// Destination is the appointment's destination company.
	Destination string `json:"destination,omitempty"`
}

// WaybillLookupEvent is the waybill service's part in an inspection.
type WaybillLookupEvent struct {
	// Source is registry, service or cache (checks.WaybillFrom*); empty
	// when no copy was had.
	Source string `json:"source"`
	// Status is the judged copy's status (valid when it gives none).
	Status      string `json:"status,omitempty"`
	FetchedAt   string `json:"fetched_at,omitempty"`
	Unavailable bool   `json:"unavailable"`
	// Detail says why the service gave no copy, when it did not.
	Detail string `json:"detail,omitempty"`
}

// AppointmentEvent is the vehicle's appointment as the checks found it.
type AppointmentEvent struct {
	// Mode is checks.appointments: optional or required.
	Mode  string `json:"mode"`
	Found bool   `json:"found"`
	ID    string `json:"id,omitempty"`
	// Company is the destination company.
	Company string `json:"company,omitempty"`
	From    string `json:"from,omitempty"`
	Until   string `json:"until,omitempty"`
	Status  string `json:"status,omitempty"`
}

// liveFields are the live fields of an inspection of ev judged against reg
// (nil when the registry could not be read), and the goods of the waybill
// judged.
func (g *Keeper) liveFields(ev checks.Evidence, reg checks.Registry) (LiveFields, []registry.Good, bool) {
	var (
		lf    LiveFields
		goods []registry.Good
		known bool
	)
	if l := ev.WaybillLookup; l != nil && l.Number == ev.Waybill && ev.Waybill != "" {
		e := &WaybillLookupEvent{Source: l.Source, Unavailable: l.Unavailable, Detail: l.Detail}
		if l.Waybill != nil {
			e.Status = l.Waybill.Status
			if e.Status == "" {
				e.Status = registry.WaybillValid
			}
			goods, known = l.Waybill.Goods, true
		}
		if !l.FetchedAt.IsZero() {
			e.FetchedAt = ts(l.FetchedAt, g.Params.Location)
		}
		lf.WaybillLookup = e
	}
	if mode := g.Params.Appointments; reg != nil && (mode == checks.AppointmentsOptional || mode == checks.AppointmentsRequired) {
		e := &AppointmentEvent{Mode: mode}
		if a, ok := checks.AppointmentFor(ev, reg, g.Params); ok {
			e.Found, e.ID, e.Company, e.Status = true, a.ID, a.Company, a.Status
			e.From, e.Until = a.From.String(), a.Until.String()
			if e.Status == "" {
				e.Status = registry.AppointmentApproved
			}
			lf.Destination = a.Company
		}
		lf.Appointment = e
	}
	return lf, goods, known
}
