package record

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/store"
)

// Pre-clearance (docs/design.md, "Pre-clearance"; issue 16 part 2): an
// appointment's documentary checks, judged before its vehicle arrives,
// recorded and published on events/preclearance when its result changed.
// It is never a pass: the lane judges every check again on arrival.

// SchemaPreclearance is the schema of the events/preclearance payload.
const SchemaPreclearance = "hazgate.preclearance/1"

// Waybill sources of a pre-clearance (PreclearanceEvent.WaybillSource).
const (
	PreclearWaybillAppointment = "appointment" // the appointment names it
	PreclearWaybillByPlate     = "by_plate"    // the one waybill valid at the window that names the plate
)

// PreclearNote is what every pre-clearance says of itself.
var PreclearNote = Text{
	ZH: "预检结果仅供提前告知，不代替到闸检查：车辆到达时所有项目重新检查",
	EN: "A pre-clearance is advance notice only: every check is judged again when the vehicle arrives",
}

// PreclearanceEvent is the payload of <root>/events/preclearance.
type PreclearanceEvent struct {
	header
	Appointment AppointmentEvent `json:"appointment"`
	Plate       string           `json:"plate"`
	Trailer     string           `json:"trailer"`
	Waybill     string           `json:"waybill"`
	// WaybillSource is appointment, by_plate, or "" when none was found.
	WaybillSource string              `json:"waybill_source"`
	WaybillLookup *WaybillLookupEvent `json:"waybill_lookup,omitempty"`
	Carrier       string              `json:"carrier,omitempty"`
	Goods         []registry.Good     `json:"goods"`
	// People are the ID numbers the appointment names (none: the people
	// are not pre-cleared).
	People []PersonEvent `json:"people"`
	// Trigger is registry, schedule or recheck (store.Preclear*).
	Trigger string `json:"trigger"`
	// JudgedFor is the instant the documents were judged at: the window's
	// opening, or the time of judging once the window is open.
	JudgedFor string                `json:"judged_for"`
	Verdict   checks.Verdict        `json:"verdict"`
	Checks    map[string]CheckEvent `json:"checks"`
	Failed    []string              `json:"failed"`
	Unknown   []string              `json:"unknown"`
	Registry  RegistryVersion       `json:"registry"`
	// Previous is the id of the appointment's previous pre-clearance
	// (absent for the first).
	Previous string `json:"previous,omitempty"`
	Note     Text   `json:"note"`
}

// WaybillFinder looks a waybill up in the waybill service (the gate's
// waybill.Looker); nil: the registry's copy is judged.
type WaybillFinder func(ctx context.Context, number string) checks.WaybillLookup

// Preclear judges appointment a at now (the documents at the window's
// opening while it is ahead), against the registry and, when find is set,
// the waybill service. When the result is the same as prev's (the
// appointment's latest pre-clearance; nil for none) nothing is written and
// changed is false. Otherwise the pre-clearance is committed with its
// events/preclearance message in one transaction. A registry that cannot
// be read, or a waybill service that does not answer with no copy held,
// gives unknown checks: published, never a pass.
func (g *Keeper) Preclear(ctx context.Context, a registry.Appointment, trigger string, now time.Time, prev *store.Preclearance, find WaybillFinder) (p store.Preclearance, changed bool, err error) {
	loc := g.Params.Location
	synced := g.clockSynced()
	at := now
	if from := a.From.Start(loc); from.After(now) {
		at = from
	}
	p = store.Preclearance{Gate: g.Name, Appointment: a, Trigger: trigger, JudgedAt: now, JudgedFor: at, ClockSynced: synced}
	ev := checks.Evidence{Plate: a.Plate, Trailer: a.Trailer, Waybill: a.Waybill}
	if a.Driver != "" {
		ev.Driver = &checks.PersonEvidence{IDNumber: a.Driver}
	}
	if a.Escort != "" {
		ev.Escort = &checks.PersonEvidence{IDNumber: a.Escort}
	}
	people := ev.Driver != nil || ev.Escort != nil
	reg, rerr := g.Store.Lookup(ctx, ev)
	if rerr != nil || reg == nil {
		g.Log.Error("registry unreadable: the pre-clearance is unknown", "appointment", a.ID, "err", rerr)
		out := checks.PreclearWithoutRegistry(people, synced)
		p.Verdict, p.Checks = out.Verdict, out.Checks
	} else {
		p.Registry = reg.Meta()
		if ev.Waybill != "" {
			p.WaybillSource = PreclearWaybillAppointment
		} else if ws := reg.WaybillsByPlate(a.Plate, a.Trailer, at, loc); len(ws) == 1 {
			ev.Waybill, p.WaybillSource = ws[0].Number, PreclearWaybillByPlate
		}
		if ev.Waybill != "" && find != nil {
			l := find(ctx, ev.Waybill)
			ev.WaybillLookup = &l
			p.WaybillLookup = &l
		}
		var w *registry.Waybill
		if l := ev.WaybillLookup; l != nil && l.Waybill != nil {
			w = l.Waybill
		} else if rw, ok := reg.Waybill(ev.Waybill); ok && ev.Waybill != "" {
			w = &rw
		}
		if w != nil {
			p.Goods, p.Carrier = w.Goods, w.Carrier
			if ev.Trailer == "" {
				ev.Trailer = w.Trailer
			}
		}
		if v, ok := reg.Vehicle(a.Plate); ok && p.Carrier == "" {
			p.Carrier = v.Carrier
		}
		out := checks.Preclear(ev, reg, at, synced, g.Params)
		p.Verdict, p.Checks = out.Verdict, out.Checks
	}
	p.Trailer, p.Waybill = ev.Trailer, ev.Waybill
	p.Fingerprint = PreclearFingerprint(p)
	if prev != nil && prev.Fingerprint == p.Fingerprint {
		return *prev, false, nil
	}
	p.ID = g.newID(now)
	prevID := ""
	if prev != nil {
		prevID = prev.ID
	}
	msg := store.OutboxMessage{ID: p.ID, Kind: store.KindPreclearance, Topic: "events/preclearance",
		Payload: g.preclearancePayload(p, prevID)}
	if err := g.recorded(g.Store.RecordPreclearance(ctx, &p, msg)); err != nil {
		return p, false, err
	}
	return p, true, nil
}

// PreclearFingerprint is what makes two pre-clearances of an appointment
// the same result: the appointment as judged, the trailer and waybill it
// was judged with, every check's result and reasons, the verdict and the
// clock's state. The registry version and the times are not in it: a
// registry update that changes nothing of the result publishes nothing.
func PreclearFingerprint(p store.Preclearance) string {
	b, _ := json.Marshal(struct {
		A       registry.Appointment
		T, W, S string
		V       checks.Verdict
		C       []checks.CheckResult
		Synced  bool
	}{p.Appointment, p.Trailer, p.Waybill, p.WaybillSource, p.Verdict, p.Checks, p.ClockSynced})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

func (g *Keeper) preclearancePayload(p store.Preclearance, prevID string) json.RawMessage {
	loc := g.Params.Location
	a := p.Appointment
	e := PreclearanceEvent{
		header: header{Schema: SchemaPreclearance, ID: p.ID, Gate: g.Name, TS: ts(p.JudgedAt, loc), ClockSynced: p.ClockSynced},
		Appointment: AppointmentEvent{Found: true, ID: a.ID, Company: a.Company, From: a.From.String(), Until: a.Until.String(),
			Status: a.Status},
		Plate: a.Plate, Trailer: p.Trailer, Waybill: p.Waybill, WaybillSource: p.WaybillSource,
		Carrier: p.Carrier, Goods: p.Goods, People: []PersonEvent{}, Trigger: p.Trigger,
		JudgedFor: ts(p.JudgedFor, loc), Verdict: p.Verdict,
		Checks: CheckMap(checks.Outcome{Checks: p.Checks}),
		Failed: []string{}, Unknown: []string{},
		Registry: RegistryVersion{Version: p.Registry.Version},
		Previous: prevID, Note: PreclearNote,
	}
	if e.Appointment.Mode = g.Params.Appointments; e.Appointment.Mode == "" {
		e.Appointment.Mode = checks.AppointmentsOff
	}
	if e.Appointment.Status == "" {
		e.Appointment.Status = registry.AppointmentApproved
	}
	if e.Goods == nil {
		e.Goods = []registry.Good{}
	}
	if !p.Registry.SyncedAt.IsZero() {
		e.Registry.SyncedAt = ts(p.Registry.SyncedAt, loc)
	}
	if a.Driver != "" {
		e.People = append(e.People, PersonEvent{Role: registry.RoleDriver, IDNumber: a.Driver})
	}
	if a.Escort != "" {
		e.People = append(e.People, PersonEvent{Role: registry.RoleEscort, IDNumber: a.Escort})
	}
	if l := p.WaybillLookup; l != nil {
		w := &WaybillLookupEvent{Source: l.Source, Unavailable: l.Unavailable, Detail: l.Detail}
		if l.Waybill != nil {
			w.Status = l.Waybill.Status
			if w.Status == "" {
				w.Status = registry.WaybillValid
			}
		}
		if !l.FetchedAt.IsZero() {
			w.FetchedAt = ts(l.FetchedAt, loc)
		}
		e.WaybillLookup = w
	}
	for _, c := range p.Checks {
		switch c.Result {
		case checks.Fail:
			e.Failed = append(e.Failed, c.ID)
		case checks.Unknown:
			e.Unknown = append(e.Unknown, c.ID)
		}
	}
	b, _ := json.Marshal(e) // plain structs: cannot fail
	return b
}
