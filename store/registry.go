package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/registry"
)

// ImportFile reads a registry file (YAML or JSON, strictly: errors name the
// file, line and field) and imports it with ImportSnapshot. A bad file
// changes nothing.
func (s *Store) ImportFile(ctx context.Context, path string, now time.Time) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("store: import: %w", err)
	}
	snap, err := registry.Decode(data, path)
	if err != nil {
		return fmt.Errorf("store: import: %w: %w", ErrInvalid, err)
	}
	return s.ImportSnapshot(ctx, snap, path, now)
}

// ImportSnapshot replaces the whole registry with snap in one transaction,
// and audits it. The version is snap.Version, or the previous version plus
// one when snap has none; the sync time is snap.SyncedAt, or now when unset.
// source says where the snapshot came from (a file name, "mqtt", ...). An
// invalid snapshot, or any failure, changes nothing; the error names the
// record and field.
func (s *Store) ImportSnapshot(ctx context.Context, snap *registry.Snapshot, source string, now time.Time) error {
	if snap == nil {
		return fmt.Errorf("store: import %s: %w: no snapshot", source, ErrInvalid)
	}
	if ps := snap.Validate(); len(ps) > 0 {
		errs := make([]error, len(ps))
		for i, p := range ps {
			errs[i] = fmt.Errorf("%s: %s", p.Field, p.Msg)
		}
		return fmt.Errorf("store: import %s: %w: %w", source, ErrInvalid, errors.Join(errs...))
	}
	syncedAt := now
	if !snap.SyncedAt.IsZero() {
		syncedAt = snap.SyncedAt.Start(time.UTC) // as registry.NewIndex reads it
	}
	return s.write(ctx, "import "+source, func(tx *sql.Tx) error {
		version := snap.Version
		if version == 0 {
			var prev int64
			err := tx.QueryRowContext(ctx, `SELECT version FROM registry_meta WHERE id = 1`).Scan(&prev)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			version = prev + 1
		}
		if err := replaceRegistry(ctx, tx, snap); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO registry_meta (id, version, synced_at, source, imported_at)
			VALUES (1, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET version = excluded.version, synced_at = excluded.synced_at,
				source = excluded.source, imported_at = excluded.imported_at`,
			version, fmtTime(syncedAt), source, fmtTime(now)); err != nil {
			return fmt.Errorf("registry_meta: %w", err)
		}
		return s.appendAudit(ctx, tx, ActorSystem, "registry.imported", "registry", map[string]any{
			"source": source, "version": version, "synced_at": fmtTime(syncedAt),
			"vehicles": len(snap.Vehicles), "tanks": len(snap.Tanks), "persons": len(snap.Persons),
			"waybills": len(snap.Waybills), "blacklist": len(snap.Blacklist),
		}, now)
	})
}

// replaceRegistry deletes the registry tables' rows and inserts snap's.
func replaceRegistry(ctx context.Context, tx *sql.Tx, snap *registry.Snapshot) error {
	for _, t := range []string{"vehicles", "tanks", "persons", "waybills", "blacklist"} {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+t); err != nil {
			return fmt.Errorf("clear %s: %w", t, err)
		}
	}
	err := insertDocs(ctx, tx, "vehicles", `INSERT INTO vehicles (plate, kind, carrier, doc) VALUES (?, ?, ?, ?)`,
		snap.Vehicles, func(_ int, v registry.Vehicle) ([]any, error) {
			return []any{registry.NormalizePlate(v.Plate), v.Kind, v.Carrier}, nil
		})
	if err != nil {
		return err
	}
	err = insertDocs(ctx, tx, "tanks", `INSERT INTO tanks (id, vehicle, pos, doc) VALUES (?, ?, ?, ?)`,
		snap.Tanks, func(i int, t registry.Tank) ([]any, error) {
			return []any{t.ID, registry.NormalizePlate(t.Vehicle), i}, nil
		})
	if err != nil {
		return err
	}
	// registry.Validate compares ID numbers as written; "...x" and "...X"
	// are the same person, and which of the two the gate would find is
	// not for the store to guess.
	persons := make(map[string]int, len(snap.Persons))
	err = insertDocs(ctx, tx, "persons", `INSERT INTO persons (id_number, name, doc) VALUES (?, ?, ?)`,
		snap.Persons, func(i int, p registry.Person) ([]any, error) {
			id := normalizeID(p.IDNumber)
			if j, dup := persons[id]; dup {
				return nil, fmt.Errorf("persons[%d].id_number: %w: %s is the same person as persons[%d]", i, ErrInvalid, p.IDNumber, j)
			}
			persons[id] = i
			return []any{id, p.Name}, nil
		})
	if err != nil {
		return err
	}
	err = insertDocs(ctx, tx, "waybills", `INSERT INTO waybills (number, vehicle, trailer, driver, escort, carrier,
		valid_from, valid_until, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		snap.Waybills, func(_ int, w registry.Waybill) ([]any, error) {
			return []any{w.Number, registry.NormalizePlate(w.Vehicle), registry.NormalizePlate(w.Trailer),
				normalizeID(w.Driver), normalizeID(w.Escort), w.Carrier, w.ValidFrom.String(), w.ValidUntil.String()}, nil
		})
	if err != nil {
		return err
	}
	// A repeated blacklist entry replaces the earlier one, as in
	// registry.NewIndex.
	st, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO blacklist (kind, value, raw_value, reason) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer st.Close()
	for i, b := range snap.Blacklist {
		if _, err := st.ExecContext(ctx, b.Kind, blacklistValue(b.Kind, b.Value), b.Value, b.Reason); err != nil {
			return fmt.Errorf("blacklist[%d]: %w", i, err)
		}
	}
	return nil
}

// insertDocs inserts one row per record: the key columns that keys returns
// (or its error, as it is), then the record as JSON. Errors name the
// record, as "vehicles[3]".
func insertDocs[T any](ctx context.Context, tx *sql.Tx, table, query string, recs []T, keys func(int, T) ([]any, error)) error {
	st, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return err
	}
	defer st.Close()
	for i, r := range recs {
		args, err := keys(i, r)
		if err != nil {
			return err
		}
		doc, err := json.Marshal(r)
		if err == nil {
			_, err = st.ExecContext(ctx, append(args, string(doc))...)
		}
		if err != nil {
			return fmt.Errorf("%s[%d]: %w", table, i, err)
		}
	}
	return nil
}

// normalizeID folds a trailing lower-case x, as registry.Index does.
func normalizeID(s string) string {
	if n := len(s); n > 0 && s[n-1] == 'x' {
		return s[:n-1] + "X"
	}
	return s
}

// blacklistValue is the key a blacklist value is stored and found under,
// as registry.Index keys it.
func blacklistValue(kind, value string) string {
	switch kind {
	case registry.BlacklistVehicle:
		return registry.NormalizePlate(value)
	case registry.BlacklistPerson:
		return normalizeID(value)
	}
	return value
}

// RegistryMeta returns the registry's version and last sync; zero values
// when nothing was ever imported.
func (s *Store) RegistryMeta(ctx context.Context) (registry.Meta, error) {
	var m registry.Meta
	var synced string
	err := s.reader.QueryRowContext(ctx, `SELECT version, synced_at FROM registry_meta WHERE id = 1`).Scan(&m.Version, &synced)
	if errors.Is(err, sql.ErrNoRows) {
		return registry.Meta{}, nil
	}
	if err == nil {
		m.SyncedAt, err = parseTime(synced)
	}
	if err != nil {
		return registry.Meta{}, fmt.Errorf("store: registry meta: %w", err)
	}
	return m, nil
}

// lookupQuery reads everything Lookup needs in one statement, so one
// consistent snapshot of the file without a transaction around it. Its
// parameters are the waybill number, the evidence's two plates and its two
// ID numbers (normalised; "" when absent, which no key is). Each row is a
// record: a tag, and up to three values.
const lookupQuery = `WITH
	w AS (SELECT doc, vehicle, trailer, driver, escort, carrier FROM waybills WHERE number = ?1),
	p(v) AS (VALUES (?2), (?3) UNION SELECT vehicle FROM w UNION SELECT trailer FROM w),
	i(v) AS (VALUES (?4), (?5) UNION SELECT driver FROM w UNION SELECT escort FROM w),
	veh AS (SELECT carrier, doc FROM vehicles WHERE plate IN p),
	c(v) AS (SELECT carrier FROM veh UNION SELECT carrier FROM w)
SELECT 'meta', version, synced_at, NULL FROM registry_meta WHERE id = 1
UNION ALL SELECT 'waybill', doc, NULL, NULL FROM w
UNION ALL SELECT 'vehicle', doc, NULL, NULL FROM veh
UNION ALL SELECT 'tank', doc, pos, NULL FROM tanks WHERE vehicle IN p
UNION ALL SELECT 'person', doc, NULL, NULL FROM persons WHERE id_number IN i
UNION ALL SELECT 'blacklist', kind, raw_value, reason FROM blacklist
	WHERE (kind = 'vehicle' AND value IN p) OR (kind = 'person' AND value IN i) OR (kind = 'carrier' AND value IN c)
ORDER BY 1, 3` // tanks in snapshot order: with two on one vehicle the later wins, as in registry.NewIndex

// Lookup loads the part of the registry that the checks need to judge ev:
// the waybill ev names; the vehicles with ev's plate and trailer and the
// waybill's; the tanks registered to them; the persons with the driver's and
// escort's ID numbers, the evidence's and the waybill's; and the blacklist
// entries for those plates, ID numbers and the carriers of the vehicles and
// the waybill. For every key it holds, the Index answers as one built from
// the whole registry would. It reads one consistent snapshot of the file.
func (s *Store) Lookup(ctx context.Context, ev checks.Evidence) (*registry.Index, error) {
	ix, err := s.lookupIndex(ctx, ev)
	if err != nil {
		return nil, fmt.Errorf("store: lookup: %w", err)
	}
	return ix, nil
}

func (s *Store) lookupIndex(ctx context.Context, ev checks.Evidence) (*registry.Index, error) {
	var driver, escort string
	if ev.Driver != nil {
		driver = normalizeID(ev.Driver.IDNumber)
	}
	if ev.Escort != nil {
		escort = normalizeID(ev.Escort.IDNumber)
	}
	rows, err := s.lookup.QueryContext(ctx, ev.Waybill,
		registry.NormalizePlate(ev.Plate), registry.NormalizePlate(ev.Trailer), driver, escort)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var meta registry.Meta
	snap := &registry.Snapshot{}
	for rows.Next() {
		var tag, a string
		var b, c sql.NullString
		if err := rows.Scan(&tag, &a, &b, &c); err != nil {
			return nil, err
		}
		switch tag {
		case "meta":
			if meta.Version, err = strconv.ParseInt(a, 10, 64); err != nil {
				return nil, fmt.Errorf("registry version: %w", err)
			}
			if meta.SyncedAt, err = parseTime(b.String); err != nil {
				return nil, err
			}
		case "waybill":
			err = appendDoc(&snap.Waybills, a)
		case "vehicle":
			err = appendDoc(&snap.Vehicles, a)
		case "tank":
			err = appendDoc(&snap.Tanks, a)
		case "person":
			err = appendDoc(&snap.Persons, a)
		case "blacklist":
			snap.Blacklist = append(snap.Blacklist, registry.BlacklistEntry{Kind: a, Value: b.String, Reason: c.String})
		}
		if err != nil {
			return nil, fmt.Errorf("stored %s: %w", tag, err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	snap.Version = meta.Version
	if !meta.SyncedAt.IsZero() {
		snap.SyncedAt = registry.Instant(meta.SyncedAt)
	}
	return registry.NewIndex(snap, meta.SyncedAt), nil
}

// appendDoc decodes a stored JSON record and appends it to dst.
func appendDoc[T any](dst *[]T, doc string) error {
	var v T
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return err
	}
	*dst = append(*dst, v)
	return nil
}
