package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/registry"
)

// Pre-clearance (migration 26, issue 16 part 2): an appointment's
// documentary checks, judged before its vehicle arrives and published.
// A row is written only when the appointment's result changed; the latest
// row of each appointment is its pre-clearance.

// KindPreclearance is the outbox kind of an appointment's pre-clearance,
// an event with its seq like an inspection (migration 26).
const KindPreclearance = "preclearance"

// What started a pre-clearance (Preclearance.Trigger).
const (
	PreclearRegistry = "registry" // the appointment, or the registry data it is judged on, arrived or changed
	PreclearSchedule = "schedule" // its window opens within the lead time
	PreclearRecheck  = "recheck"  // judged again on the gate's schedule until the window ends
)

// Preclearance is one pre-clearance of an appointment.
type Preclearance struct {
	ID          string // ULID, the event's id
	Gate        string
	Appointment registry.Appointment
	// Trailer, Waybill and Driver/Escort are what the appointment was
	// judged with: its own, or the waybill found from its plate
	// (WaybillSource: "appointment", "by_plate" or "").
	Trailer, Waybill, WaybillSource string
	// Carrier and Goods are what the kiosk shows: the vehicle's carrier,
	// the waybill's cargo.
	Carrier     string
	Goods       []registry.Good
	Trigger     string
	Verdict     checks.Verdict
	Checks      []checks.CheckResult
	JudgedAt    time.Time // when the checks ran
	JudgedFor   time.Time // the instant the documents were judged at: the window's opening, or now once it is open
	Registry    registry.Meta
	ClockSynced bool
	// WaybillLookup is the waybill service's answer (nil: not asked).
	WaybillLookup *checks.WaybillLookup
	// Fingerprint is what makes two pre-clearances the same result
	// (record.PreclearFingerprint).
	Fingerprint string
}

// preclearDoc is the JSON column: what the columns do not hold.
type preclearDoc struct {
	Appointment   registry.Appointment  `json:"appointment"`
	Trailer       string                `json:"trailer,omitempty"`
	Waybill       string                `json:"waybill,omitempty"`
	WaybillSource string                `json:"waybill_source,omitempty"`
	Carrier       string                `json:"carrier,omitempty"`
	Goods         []registry.Good       `json:"goods,omitempty"`
	Checks        []checks.CheckResult  `json:"checks"`
	SyncedAt      time.Time             `json:"registry_synced_at,omitzero"`
	WaybillLookup *checks.WaybillLookup `json:"waybill_lookup,omitempty"`
}

// RecordPreclearance commits a pre-clearance with msgs (its event) and a
// "preclearance.judged" audit entry, in one transaction, stamped at
// p.JudgedAt. It fills an empty p.ID.
func (s *Store) RecordPreclearance(ctx context.Context, p *Preclearance, msgs ...OutboxMessage) error {
	switch {
	case p.Appointment.ID == "":
		return fmt.Errorf("store: record preclearance: %w: no appointment", ErrInvalid)
	case p.JudgedAt.IsZero() || p.JudgedFor.IsZero():
		return fmt.Errorf("store: record preclearance %s: %w: no time", p.Appointment.ID, ErrInvalid)
	case p.Fingerprint == "":
		return fmt.Errorf("store: record preclearance %s: %w: no fingerprint", p.Appointment.ID, ErrInvalid)
	}
	switch p.Trigger {
	case PreclearRegistry, PreclearSchedule, PreclearRecheck:
	default:
		return fmt.Errorf("store: record preclearance %s: %w: trigger %q", p.Appointment.ID, ErrInvalid, p.Trigger)
	}
	if p.ID == "" {
		p.ID = newID(p.JudgedAt)
	}
	doc, err := json.Marshal(preclearDoc{
		Appointment: p.Appointment, Trailer: p.Trailer, Waybill: p.Waybill, WaybillSource: p.WaybillSource,
		Carrier: p.Carrier, Goods: p.Goods, Checks: p.Checks, SyncedAt: p.Registry.SyncedAt, WaybillLookup: p.WaybillLookup,
	})
	if err != nil {
		return fmt.Errorf("store: record preclearance %s: %w", p.Appointment.ID, err)
	}
	synced := 0
	if p.ClockSynced {
		synced = 1
	}
	return s.write(ctx, "record preclearance "+p.ID, func(tx *sql.Tx) error {
		if _, err := s.exec(ctx, tx, `INSERT INTO preclearances (id, gate, appointment_id, plate, plate_norm, trigger, verdict,
			judged_at, judged_for, registry_version, clock_synced, fingerprint, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.Gate, p.Appointment.ID, p.Appointment.Plate, registry.NormalizePlate(p.Appointment.Plate), p.Trigger,
			string(p.Verdict), fmtTime(p.JudgedAt), fmtTime(p.JudgedFor), p.Registry.Version, synced, p.Fingerprint, string(doc)); err != nil {
			return err
		}
		detail := map[string]any{"appointment": p.Appointment.ID, "plate": p.Appointment.Plate, "verdict": p.Verdict, "trigger": p.Trigger}
		if err := s.appendAudit(ctx, tx, ActorSystem, "preclearance.judged", p.ID, detail, p.JudgedAt); err != nil {
			return err
		}
		return s.insertOutbox(ctx, tx, msgs, p.JudgedAt)
	})
}

// LatestPreclearances returns the latest pre-clearance of every
// appointment that has one, by appointment id.
func (s *Store) LatestPreclearances(ctx context.Context) (map[string]Preclearance, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT id, gate, appointment_id, plate, trigger, verdict, judged_at, judged_for,
		registry_version, clock_synced, fingerprint, doc FROM preclearances p
		WHERE rowid = (SELECT rowid FROM preclearances q WHERE q.appointment_id = p.appointment_id ORDER BY judged_at DESC, rowid DESC LIMIT 1)`)
	if err != nil {
		return nil, fmt.Errorf("store: preclearances: %w", err)
	}
	defer rows.Close()
	out := map[string]Preclearance{}
	for rows.Next() {
		var (
			p                 Preclearance
			apptID, plate     string
			verdict           string
			judgedAt, judgedF string
			synced            int
			doc               string
		)
		if err := rows.Scan(&p.ID, &p.Gate, &apptID, &plate, &p.Trigger, &verdict, &judgedAt, &judgedF,
			&p.Registry.Version, &synced, &p.Fingerprint, &doc); err != nil {
			return nil, fmt.Errorf("store: preclearances: %w", err)
		}
		var d preclearDoc
		if err := json.Unmarshal([]byte(doc), &d); err != nil {
			return nil, fmt.Errorf("store: preclearance %s: %w", p.ID, err)
		}
		p.Appointment, p.Trailer, p.Waybill, p.WaybillSource = d.Appointment, d.Trailer, d.Waybill, d.WaybillSource
		p.Carrier, p.Goods, p.Checks, p.Registry.SyncedAt, p.WaybillLookup = d.Carrier, d.Goods, d.Checks, d.SyncedAt, d.WaybillLookup
		p.Appointment.ID, p.Verdict, p.ClockSynced = apptID, checks.Verdict(verdict), synced == 1
		if p.JudgedAt, err = parseTime(judgedAt); err == nil {
			p.JudgedFor, err = parseTime(judgedF)
		}
		if err != nil {
			return nil, fmt.Errorf("store: preclearance %s: %w", p.ID, err)
		}
		out[apptID] = p
	}
	return out, rows.Err()
}

// purgePreclearances: pre-clearances past retention.records go like the
// other records (retention.go).
var purgePreclearances = purgeTable{table: "preclearances", timeCol: "judged_at"}
