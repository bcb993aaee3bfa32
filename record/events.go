package record

import (
	"encoding/json"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/store"
)

// Schemas of the event payloads (docs/design.md "Topics and payloads",
// docs/uplink.md). The uplink adds "seq" (and "queued_s" when a message
// waited) when it publishes.
const (
	SchemaInspection = "hazgate.inspection/1"
	SchemaPassage    = "hazgate.passage/1"
	SchemaAlarm      = "hazgate.alarm/1"
)

// Alarm kinds.
const (
	AlarmRejection      = "rejection"
	AlarmOverride       = "operator_override"
	AlarmDeviceFault    = "device_fault"
	AlarmBarrierForced  = "barrier_forced"
	AlarmTamper         = "tamper" // reserved: no tamper sensor is wired yet, nothing raises it
	AlarmRecordFailed   = "record_failed"
	AlarmCommandRefused = "command_refused"
)

// header is what every event payload starts with.
type header struct {
	Schema string `json:"schema"`
	ID     string `json:"id"`
	Gate   string `json:"gate"`
	Lane   string `json:"lane"`
	TS     string `json:"ts"`
	// ClockSynced is whether the gate's clock was known to be right when
	// the event was stamped (record/clock.go).
	ClockSynced bool `json:"clock_synced"`
}

// InspectionEvent is the payload of <root>/events/inspection.
type InspectionEvent struct {
	header
	Direction lane.Direction `json:"direction"`
	Plate     string         `json:"plate"`
	Trailer   string         `json:"trailer"`
	People    []PersonEvent  `json:"people"`
	Waybill   string         `json:"waybill"`
	// WaybillSource is how the waybill was found (checks.WaybillScanned or
	// checks.WaybillByPlate, "" with none); WaybillByPlate the waybill
	// found from the plate when a scan named another (the scan wins).
	WaybillSource  string                     `json:"waybill_source"`
	WaybillByPlate string                     `json:"waybill_by_plate,omitempty"`
	Goods          []registry.Good            `json:"goods"`
	Checks         map[string]CheckEvent      `json:"checks"`
	Verdict        checks.Verdict             `json:"verdict"`
	VerdictReasons []string                   `json:"verdict_reasons"`
	DecidedBy      string                     `json:"decided_by"`
	ArrivedAt      string                     `json:"arrived_at"`
	DecidedAt      string                     `json:"decided_at"`
	Timings        map[string]float64         `json:"timings"`
	Registry       RegistryVersion            `json:"registry"`
	Messages       map[string][]checks.Reason `json:"messages,omitempty"`
	// Failed and Unknown are the ids of the checks that failed and that
	// could not be judged, in the checks' order (never null).
	Failed  []string `json:"failed"`
	Unknown []string `json:"unknown"`
	// Thresholds are the settings the checks judged with.
	Thresholds Thresholds `json:"thresholds"`
	// GrossKg is the weighbridge's stable gross weight, on a lane that
	// weighs vehicles (absent elsewhere; null when it gave none).
	Weighbridge bool     `json:"weighbridge,omitempty"`
	GrossKg     *float64 `json:"gross_kg,omitempty"`
	// The waybill lookup and the appointment (live.go).
	LiveFields
}

// Thresholds are the judging settings an inspection was judged with.
type Thresholds struct {
	Face            float64 `json:"face"`               // a face score below this fails
	RegistryMaxAgeS float64 `json:"registry_max_age_s"` // a registry synced longer ago is stale
}

// PersonEvent is a driver or escort in an inspection payload.
type PersonEvent struct {
	Role     registry.Role `json:"role"`
	IDNumber string        `json:"id_number"`
	Name     string        `json:"name"`
	Face     *float64      `json:"face"`
}

// CheckEvent is one check's result: the reason codes, and their messages in
// Chinese and English.
type CheckEvent struct {
	Result   checks.Result   `json:"result"`
	Reasons  []string        `json:"reasons"`
	Messages []checks.Reason `json:"messages"`
}

// RegistryVersion is the registry an inspection was judged against.
type RegistryVersion struct {
	Version  int64  `json:"version"`
	SyncedAt string `json:"synced_at,omitempty"`
}

// PassageEvent is the payload of <root>/events/passage.
type PassageEvent struct {
	header
	Direction    lane.Direction `json:"direction"`
	Plate        string         `json:"plate"`
	InspectionID string         `json:"inspection_id"`
	EntryID      string         `json:"entry_id,omitempty"`
	StayS        *float64       `json:"stay_s,omitempty"`
}

// AlarmEvent is the payload of <root>/events/alarm.
type AlarmEvent struct {
	header
	Kind         string `json:"kind"`
	Detail       string `json:"detail"`
	InspectionID string `json:"inspection_id,omitempty"`
	Operator     string `json:"operator,omitempty"`
	// An operator_override says what the operator did (store.ActionRelease
	// or store.ActionRefuse) and why, as fields as well as in Detail.
	Action string `json:"action,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Code is the alarm's stable reason code and Text what it means in
	// Chinese and English; Detail is Text's English (a raw error goes to
	// the log, never here).
	Code string `json:"code"`
	Text *Text  `json:"text"`
	// An alarm that can end (device_fault, broker_down, registry_stale,
	// disk_low, lockdown) has State raised, then cleared, and AlarmID, the
	// same in both: the id of its raised event.
	State   string `json:"state,omitempty"`
	AlarmID string `json:"alarm_id,omitempty"`
}

func ts(t time.Time, loc *time.Location) string { return t.In(loc).Format(time.RFC3339Nano) }

// CheckMap turns an outcome's results into the map used in payloads and
// reports: check id -> result, reason codes and messages.
func CheckMap(out checks.Outcome) map[string]CheckEvent {
	m := make(map[string]CheckEvent, len(out.Checks))
	for _, c := range out.Checks {
		msgs := c.Reasons
		if msgs == nil {
			msgs = []checks.Reason{}
		}
		m[c.ID] = CheckEvent{Result: c.Result, Reasons: c.Codes(), Messages: msgs}
	}
	return m
}

func inspectionPayload(gate string, ins *store.Inspection, goods []registry.Good, meta registry.Meta, p checks.Params, live LiveFields) json.RawMessage {
	loc := p.Location
	e := InspectionEvent{
		header:        header{Schema: SchemaInspection, ID: ins.ID, Gate: gate, Lane: ins.Lane, TS: ts(ins.DecidedAt, loc), ClockSynced: outcomeSynced(ins.Outcome)},
		Direction:     ins.Direction,
		Plate:         ins.Evidence.Plate,
		Trailer:       ins.Evidence.Trailer,
		People:        []PersonEvent{},
		Waybill:       ins.Evidence.Waybill,
		WaybillSource: ins.Evidence.WaybillSource,
		Goods:         goods,
		Checks:        CheckMap(ins.Outcome),
		Verdict:       ins.Outcome.Verdict,
		DecidedBy:     ins.DecidedBy,
		ArrivedAt:     ts(ins.ArrivedAt, loc),
		DecidedAt:     ts(ins.DecidedAt, loc),
		Timings:       map[string]float64{},
		Registry:      RegistryVersion{Version: meta.Version},
		Weighbridge:   ins.Evidence.Weighbridge,
		GrossKg:       ins.Evidence.GrossKg,
		LiveFields:    live,
	}
	e.Failed, e.Unknown = []string{}, []string{}
	if ins.Evidence.WaybillByPlate != ins.Evidence.Waybill {
		e.WaybillByPlate = ins.Evidence.WaybillByPlate
	}
	e.Thresholds = Thresholds{Face: p.FaceThreshold, RegistryMaxAgeS: p.RegistryMaxAge.Seconds()}
	for _, c := range ins.Outcome.Checks {
		switch c.Result {
		case checks.Fail:
			e.Failed = append(e.Failed, c.ID)
		case checks.Unknown:
			e.Unknown = append(e.Unknown, c.ID)
		}
	}
	if e.Goods == nil {
		e.Goods = []registry.Good{}
	}
	if !meta.SyncedAt.IsZero() {
		e.Registry.SyncedAt = ts(meta.SyncedAt, loc)
	}
	e.VerdictReasons = []string{}
	for _, r := range ins.Outcome.Reasons {
		e.VerdictReasons = append(e.VerdictReasons, r.Code)
	}
	for _, p := range []struct {
		role registry.Role
		ev   *checks.PersonEvidence
	}{{registry.RoleDriver, ins.Evidence.Driver}, {registry.RoleEscort, ins.Evidence.Escort}} {
		if p.ev != nil {
			e.People = append(e.People, PersonEvent{Role: p.role, IDNumber: p.ev.IDNumber, Name: p.ev.Name, Face: p.ev.Face})
		}
	}
	for step, d := range ins.Timings {
		e.Timings[step+"_s"] = d.Seconds()
	}
	b, _ := json.Marshal(e) // plain structs: cannot fail
	return b
}
