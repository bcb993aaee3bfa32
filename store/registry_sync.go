package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hazgate/hazgate/registry"
)

// ErrRegistryBase: a registry delta was made against another version than
// the one the store holds; the caller asks for a snapshot instead.
var ErrRegistryBase = errors.New("registry delta base is not the current version")

// RegistryDelta changes the registry from version Base to Version: records
// in Upsert replace those with the same key (or are added), keys in Delete
// are removed. Deletes apply first.
type RegistryDelta struct {
	Base, Version int64
	SyncedAt      time.Time // when the registry was this; zero: now
	Upsert        registry.Snapshot
	Delete        RegistryKeys
}

// RegistryKeys names registry records by key: plates, tank IDs, ID numbers,
// waybill numbers, blacklist kind and value.
type RegistryKeys struct {
	Vehicles  []string                  `json:"vehicles,omitempty"`
	Tanks     []string                  `json:"tanks,omitempty"`
	Persons   []string                  `json:"persons,omitempty"`
	Waybills  []string                  `json:"waybills,omitempty"`
	Blacklist []registry.BlacklistEntry `json:"blacklist,omitempty"` // kind and value
	// Appointments are appointment ids.
	Appointments []string `json:"appointments,omitempty"`
}

// ApplyDelta applies d in one transaction, with its audit entry. It fails
// with ErrRegistryBase when d.Base is not the stored version (nothing
// changes), and with ErrInvalid when its records do not validate. A delta
// with Version == Base and nothing in it only records the sync time.
func (s *Store) ApplyDelta(ctx context.Context, d *RegistryDelta, source string, now time.Time) error {
	if d == nil {
		return fmt.Errorf("store: registry delta: %w: no delta", ErrInvalid)
	}
	if d.Version < d.Base {
		return fmt.Errorf("store: registry delta: %w: version: %d is below base %d", ErrInvalid, d.Version, d.Base)
	}
	what := fmt.Sprintf("registry delta %d->%d", d.Base, d.Version)
	if ps := d.Upsert.Validate(); len(ps) > 0 {
		return problemsError(what, "upsert.", ps)
	}
	if ps := d.Delete.Validate(); len(ps) > 0 {
		return problemsError(what, "delete.", ps)
	}
	synced := d.SyncedAt
	if synced.IsZero() {
		synced = now
	}
	// The sync time as the file holds it, as Open reads it back.
	synced, err := parseTime(fmtTime(synced))
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	// Encoded, and decoded back, before the transaction, as an import's
	// records are: the writer is held only to write.
	enc, err := encodeSnapshot(&d.Upsert, false)
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	enc.mirror.Blacklist = d.Upsert.Blacklist
	enc.mirror.Appointments, err = roundTripAppointments(d.Upsert.Appointments)
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	// swapIndex is the one way to change the registry tables: the
	// in-memory index follows once the transaction has committed. The
	// delta is one transaction, and readers see the registry before it or
	// after it, never part of it (docs/uplink.md "Registry sync"). The new
	// index is the current one with the delta applied, not the registry
	// read back whole: the writer is held for what the delta changes.
	return s.swapIndex(ctx, what, func(tx *sql.Tx, cur *registry.Index) (*registry.Index, error) {
		if err := s.writeDelta(ctx, tx, d, enc, source, synced, now); err != nil {
			return nil, err
		}
		var tanks []registry.Tank
		addTank := func(doc []byte) (registry.Tank, error) {
			var t registry.Tank
			err := json.Unmarshal(doc, &t)
			tanks = append(tanks, t)
			return t, err
		}
		if err := loadDocs(ctx, tx, addTank, "tanks", `SELECT doc FROM tanks ORDER BY pos`); err != nil {
			return nil, err
		}
		k := d.Delete
		return cur.Apply(registry.Change{
			DeleteVehicles: k.Vehicles, DeletePersons: k.Persons, DeleteWaybills: k.Waybills, DeleteBlacklist: k.Blacklist,
			DeleteAppointments: k.Appointments,
			Upsert:             enc.mirror, Tanks: tanks, Meta: registry.Meta{Version: d.Version, SyncedAt: synced},
		}), nil
	})
}

// writeDelta checks d's base and writes it, with the meta row and the audit
// entry, inside tx.
func (s *Store) writeDelta(ctx context.Context, tx *sql.Tx, d *RegistryDelta, enc *encodedSnapshot, source string, synced, now time.Time) error {
	var have int64
	err := tx.QueryRowContext(ctx, `SELECT version FROM registry_meta WHERE id = 1`).Scan(&have)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if have != d.Base {
		return fmt.Errorf("%w: have %d, delta from %d", ErrRegistryBase, have, d.Base)
	}
	var claimed time.Time
	if !d.SyncedAt.IsZero() {
		claimed = synced
	}
	if ps := registry.CheckSync(registry.SyncChange{Held: have, Version: d.Version, Same: d.Version == d.Base && d.Empty(),
		SyncedAt: claimed}, now); len(ps) > 0 {
		return problems("", ps)
	}
	if err := deleteKeys(ctx, tx, d.Delete); err != nil {
		return err
	}
	if err := upsertRecords(ctx, tx, enc.mirror, enc); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO registry_meta (id, version, synced_at, source, imported_at)
		VALUES (1, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET version = excluded.version, synced_at = excluded.synced_at,
			source = excluded.source, imported_at = excluded.imported_at`,
		d.Version, fmtTime(synced), source, fmtTime(now)); err != nil {
		return fmt.Errorf("registry_meta: %w", err)
	}
	u, k := &d.Upsert, &d.Delete
	return s.appendAudit(ctx, tx, ActorSystem, "registry.delta_applied", "registry", map[string]any{
		"source": source, "base": d.Base, "version": d.Version, "synced_at": fmtTime(synced),
		"upserted": len(u.Vehicles) + len(u.Tanks) + len(u.Persons) + len(u.Waybills) + len(u.Blacklist),
		"deleted":  len(k.Vehicles) + len(k.Tanks) + len(k.Persons) + len(k.Waybills) + len(k.Blacklist),
	}, now)
}

// deleteKeys deletes the rows k names, one statement a table (the keys
// passed as one JSON array): a delta that deletes 300 000 plates holds the
// writer for one pass over each table, not 300 000 statements.
func deleteKeys(ctx context.Context, tx *sql.Tx, k RegistryKeys) error {
	del := func(table, query string, keys []string, norm func(string) string) error {
		if len(keys) == 0 {
			return nil
		}
		normed := make([]string, len(keys))
		for i, key := range keys {
			normed[i] = norm(key)
		}
		arr, err := json.Marshal(normed)
		if err == nil {
			_, err = tx.ExecContext(ctx, query, string(arr))
		}
		if err != nil {
			return fmt.Errorf("delete.%s: %w", table, err)
		}
		return nil
	}
	same := func(s string) string { return s }
	if err := del("vehicles", `DELETE FROM vehicles WHERE plate IN (SELECT value FROM json_each(?))`, k.Vehicles, registry.NormalizePlate); err != nil {
		return err
	}
	if err := del("tanks", `DELETE FROM tanks WHERE id IN (SELECT value FROM json_each(?))`, k.Tanks, same); err != nil {
		return err
	}
	if err := del("persons", `DELETE FROM persons WHERE id_number IN (SELECT value FROM json_each(?))`, k.Persons, normalizeID); err != nil {
		return err
	}
	if err := del("waybills", `DELETE FROM waybills WHERE number IN (SELECT value FROM json_each(?))`, k.Waybills, same); err != nil {
		return err
	}
	if err := deleteAppointments(ctx, tx, k.Appointments); err != nil {
		return err
	}
	if len(k.Blacklist) > 0 {
		pairs := make([][2]string, len(k.Blacklist))
		for i, b := range k.Blacklist {
			pairs[i] = [2]string{b.Kind, blacklistValue(b.Kind, b.Value)}
		}
		arr, err := json.Marshal(pairs)
		if err == nil {
			_, err = tx.ExecContext(ctx, `DELETE FROM blacklist WHERE (kind, value) IN
				(SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))`, string(arr))
		}
		if err != nil {
			return fmt.Errorf("delete.blacklist: %w", err)
		}
	}
	return nil
}

// upsertRecords writes u's records (enc holds them as JSON) over those
// with the same keys, with the key columns replaceRegistry writes. An
// upserted tank goes after every stored one, as if it came last in a
// snapshot.
func upsertRecords(ctx context.Context, tx *sql.Tx, u *registry.Snapshot, enc *encodedSnapshot) error {
	err := insertEncoded(ctx, tx, "upsert.vehicles", `INSERT OR REPLACE INTO vehicles (plate, kind, carrier, doc) VALUES (?, ?, ?, ?)`,
		u.Vehicles, enc.vehicles, func(_ int, v registry.Vehicle) ([]any, error) {
			return []any{registry.NormalizePlate(v.Plate), v.Kind, v.Carrier}, nil
		})
	if err != nil {
		return err
	}
	err = insertEncoded(ctx, tx, "upsert.tanks", `INSERT OR REPLACE INTO tanks (id, vehicle, pos, doc)
		VALUES (?, ?, (SELECT coalesce(max(pos), -1) + 1 FROM tanks), ?)`,
		u.Tanks, enc.tanks, func(_ int, t registry.Tank) ([]any, error) {
			return []any{t.ID, registry.NormalizePlate(t.Vehicle)}, nil
		})
	if err != nil {
		return err
	}
	err = insertEncoded(ctx, tx, "upsert.persons", `INSERT OR REPLACE INTO persons (id_number, name, doc) VALUES (?, ?, ?)`,
		u.Persons, enc.persons, func(_ int, p registry.Person) ([]any, error) {
			return []any{normalizeID(p.IDNumber), p.Name}, nil
		})
	if err != nil {
		return err
	}
	err = insertEncoded(ctx, tx, "upsert.waybills", `INSERT OR REPLACE INTO waybills (number, vehicle, trailer, driver, escort, carrier,
		valid_from, valid_until, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.Waybills, enc.waybills, func(_ int, w registry.Waybill) ([]any, error) {
			return []any{w.Number, registry.NormalizePlate(w.Vehicle), registry.NormalizePlate(w.Trailer),
				normalizeID(w.Driver), normalizeID(w.Escort), w.Carrier, w.ValidFrom.String(), w.ValidUntil.String()}, nil
		})
	if err != nil {
		return err
	}
	st, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO blacklist (kind, value, raw_value, reason) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer st.Close()
	for i, b := range u.Blacklist {
		if _, err := st.ExecContext(ctx, b.Kind, blacklistValue(b.Kind, b.Value), b.Value, b.Reason); err != nil {
			return fmt.Errorf("upsert.blacklist[%d]: %w", i, err)
		}
	}
	return writeAppointments(ctx, tx, "upsert.appointments", u.Appointments, false)
}

// Empty reports whether d neither upserts nor deletes anything.
func (d *RegistryDelta) Empty() bool {
	u, k := &d.Upsert, &d.Delete
	return len(u.Vehicles)+len(u.Tanks)+len(u.Persons)+len(u.Waybills)+len(u.Blacklist)+
		len(k.Vehicles)+len(k.Tanks)+len(k.Persons)+len(k.Waybills)+len(k.Blacklist)+
		len(u.Appointments)+len(k.Appointments) == 0
}

// Validate returns every mistake in k, by the rules registry.Snapshot.Validate
// applies to the same keys: plates as registry.PlateProblem, ID numbers as
// registry.IDProblem, no empty key.
func (k RegistryKeys) Validate() []registry.Problem {
	var ps []registry.Problem
	add := func(field, msg string) { ps = append(ps, registry.Problem{Field: field, Msg: msg}) }
	for i, p := range k.Vehicles {
		if msg := registry.PlateProblem(p); msg != "" {
			add(fmt.Sprintf("vehicles[%d]", i), msg)
		}
	}
	for i, id := range k.Persons {
		if msg := registry.IDProblem(id); msg != "" {
			add(fmt.Sprintf("persons[%d]", i), msg)
		}
	}
	for _, l := range []struct {
		name string
		keys []string
	}{{"tanks", k.Tanks}, {"waybills", k.Waybills}, {"appointments", k.Appointments}} {
		for i, key := range l.keys {
			if key == "" {
				add(fmt.Sprintf("%s[%d]", l.name, i), "missing")
			}
		}
	}
	for i, b := range k.Blacklist {
		f := fmt.Sprintf("blacklist[%d]", i)
		var msg string
		switch b.Kind {
		case registry.BlacklistVehicle:
			msg = registry.PlateProblem(b.Value)
		case registry.BlacklistPerson:
			msg = registry.IDProblem(b.Value)
		case registry.BlacklistCarrier:
			if b.Value == "" {
				msg = "missing"
			}
		default:
			add(f+".kind", fmt.Sprintf("%q is not vehicle, person or carrier", b.Kind))
		}
		if msg != "" {
			add(f+".value", msg)
		}
	}
	return ps
}
