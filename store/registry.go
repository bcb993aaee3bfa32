package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/hazgate/hazgate/registry"
)

// ImportOption changes how a snapshot is imported.
type ImportOption int

// ForceVersionJump lets a snapshot's version be more than
// registry.MaxVersionJump above the held one (`hazgate registry import
// -force`).
const ForceVersionJump ImportOption = 1

// ConsumeSnapshot hands the snapshot over: the import replaces its records
// by those decoded back from their JSON, in place, so that a large
// snapshot is not held twice as records; the caller must not use it after
// (ImportFile, the uplink).
const ConsumeSnapshot ImportOption = 2

// problemsError joins problems into one ErrInvalid error that names each
// field (under prefix, as "upsert.").
func problemsError(what, prefix string, ps []registry.Problem) error {
	return fmt.Errorf("store: %s: %w", what, problems(prefix, ps))
}

// problems is problemsError inside a transaction, which names what.
func problems(prefix string, ps []registry.Problem) error {
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = fmt.Errorf("%s%s: %s", prefix, p.Field, p.Msg)
	}
	return fmt.Errorf("%w: %w", ErrInvalid, errors.Join(errs...))
}

// ImportSnapshot replaces the whole registry with snap in one transaction,
// and audits it, when snap validates and registry.CheckSync allows its
// version and sync time (ForceVersionJump among opts allows a large jump); once that has committed, Lookup answers from the new
// registry (see swapIndex). The version is snap.Version, or the previous version plus
// one when snap has none; the sync time is snap.SyncedAt, or now when unset.
// source says where the snapshot came from (a file name, "mqtt", ...). An
// invalid snapshot, or any failure, changes nothing; the error names the
// record and field.
func (s *Store) ImportSnapshot(ctx context.Context, snap *registry.Snapshot, source string, now time.Time, opts ...ImportOption) error {
	if snap == nil {
		return fmt.Errorf("store: import %s: %w: no snapshot", source, ErrInvalid)
	}
	if ps := snap.Validate(); len(ps) > 0 {
		return problemsError("import "+source, "", ps)
	}
	force := slices.Contains(opts, ForceVersionJump)
	syncedAt := now
	if !snap.SyncedAt.IsZero() {
		syncedAt = snap.SyncedAt.Start(time.UTC) // as registry.NewIndex reads it
	}
	// Encoded, and decoded back, before the transaction: the writer (which
	// the lanes' commits wait for) is held only to write.
	version, synced := snap.Version, snap.SyncedAt
	enc, err := encodeSnapshot(snap, slices.Contains(opts, ConsumeSnapshot))
	if err != nil {
		return fmt.Errorf("store: import %s: %w", source, err)
	}
	// From here the records are those decoded back from their JSON (the
	// keys of the rows are then those Open reads back): snap is no longer
	// held, so that a large snapshot is not held three times over (the
	// records, their JSON, the records decoded back).
	m := enc.mirror
	m.Version, m.SyncedAt = version, synced
	snap = nil
	// The sync time as the file holds it, as Open reads it back.
	if syncedAt, err = parseTime(fmtTime(syncedAt)); err != nil {
		return fmt.Errorf("store: import %s: %w", source, err)
	}
	return s.swapIndex(ctx, "import "+source, func(tx *sql.Tx, _ *registry.Index) (*registry.Index, error) {
		version, err := s.writeSnapshot(ctx, tx, m, enc, source, syncedAt, now, force)
		if err != nil {
			return nil, err
		}
		// Written: the JSON is not held while the index is built.
		enc.vehicles, enc.tanks, enc.persons, enc.waybills = nil, nil, nil, nil
		// The records as decoded from the JSON the tables now hold, so
		// that this index is the one Open would build from the file (the
		// round trip is not the identity: instants keep whole seconds).
		enc.mirror.Version, enc.mirror.SyncedAt = version, registry.Instant(syncedAt)
		return registry.NewIndex(enc.mirror, syncedAt), nil
	})
}

// encodedSnapshot is a snapshot as the registry tables hold it: each record
// as JSON, and the snapshot decoded back from that JSON.
type encodedSnapshot struct {
	vehicles, tanks, persons, waybills []string
	mirror                             *registry.Snapshot
}

// encodeSnapshot encodes snap's records. With consume, each record is
// decoded back in place (the mirror is snap itself, and a large snapshot is
// held as records and JSON, not twice as records).
func encodeSnapshot(snap *registry.Snapshot, consume bool) (*encodedSnapshot, error) {
	e := &encodedSnapshot{mirror: &registry.Snapshot{Blacklist: slices.Clone(snap.Blacklist)}}
	var err error
	if e.vehicles, e.mirror.Vehicles, err = roundTrip("vehicles", snap.Vehicles, consume); err != nil {
		return nil, err
	}
	if e.tanks, e.mirror.Tanks, err = roundTrip("tanks", snap.Tanks, consume); err != nil {
		return nil, err
	}
	if e.persons, e.mirror.Persons, err = roundTrip("persons", snap.Persons, consume); err != nil {
		return nil, err
	}
	if e.waybills, e.mirror.Waybills, err = roundTrip("waybills", snap.Waybills, consume); err != nil {
		return nil, err
	}
	if e.mirror.Appointments, err = roundTripAppointments(snap.Appointments); err != nil {
		return nil, err
	}
	return e, nil
}

// roundTrip encodes each record as JSON and decodes it back, into recs
// itself when inPlace.
func roundTrip[T any](table string, recs []T, inPlace bool) ([]string, []T, error) {
	docs, back := make([]string, len(recs)), recs
	if !inPlace {
		back = make([]T, len(recs))
	}
	for i, r := range recs {
		b, err := json.Marshal(r)
		if err == nil {
			var zero T
			back[i] = zero
			err = json.Unmarshal(b, &back[i])
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s[%d]: %w", table, i, err)
		}
		docs[i] = string(b)
	}
	return docs, back, nil
}

// writeSnapshot writes snap (encoded as enc) over the registry tables, with
// its meta row and its audit entry, inside tx, and returns its version.
func (s *Store) writeSnapshot(ctx context.Context, tx *sql.Tx, snap *registry.Snapshot, enc *encodedSnapshot, source string, syncedAt, now time.Time, force bool) (int64, error) {
	var held int64
	err := tx.QueryRowContext(ctx, `SELECT version FROM registry_meta WHERE id = 1`).Scan(&held)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	version := snap.Version
	if version == 0 {
		version = held + 1
	}
	var claimed time.Time
	if !snap.SyncedAt.IsZero() {
		claimed = syncedAt
	}
	if ps := registry.CheckSync(registry.SyncChange{Held: held, Version: version, SyncedAt: claimed, Force: force}, now); len(ps) > 0 {
		return 0, problems("", ps)
	}
	if err := replaceRegistry(ctx, tx, snap, enc); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO registry_meta (id, version, synced_at, source, imported_at)
		VALUES (1, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET version = excluded.version, synced_at = excluded.synced_at,
			source = excluded.source, imported_at = excluded.imported_at`,
		version, fmtTime(syncedAt), source, fmtTime(now)); err != nil {
		return 0, fmt.Errorf("registry_meta: %w", err)
	}
	return version, s.appendAudit(ctx, tx, ActorSystem, "registry.imported", "registry", map[string]any{
		"source": source, "version": version, "synced_at": fmtTime(syncedAt),
		"vehicles": len(snap.Vehicles), "tanks": len(snap.Tanks), "persons": len(snap.Persons),
		"waybills": len(snap.Waybills), "blacklist": len(snap.Blacklist), "appointments": len(snap.Appointments),
	}, now)
}

// replaceRegistry deletes the registry tables' rows and inserts snap's.
func replaceRegistry(ctx context.Context, tx *sql.Tx, snap *registry.Snapshot, enc *encodedSnapshot) error {
	for _, t := range []string{"vehicles", "tanks", "persons", "waybills", "blacklist"} {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+t); err != nil {
			return fmt.Errorf("clear %s: %w", t, err)
		}
	}
	err := insertEncoded(ctx, tx, "vehicles", `INSERT INTO vehicles (plate, kind, carrier, doc) VALUES (?, ?, ?, ?)`,
		snap.Vehicles, enc.vehicles, func(_ int, v registry.Vehicle) ([]any, error) {
			return []any{registry.NormalizePlate(v.Plate), v.Kind, v.Carrier}, nil
		})
	if err != nil {
		return err
	}
	err = insertEncoded(ctx, tx, "tanks", `INSERT INTO tanks (id, vehicle, pos, doc) VALUES (?, ?, ?, ?)`,
		snap.Tanks, enc.tanks, func(i int, t registry.Tank) ([]any, error) {
			return []any{t.ID, registry.NormalizePlate(t.Vehicle), i}, nil
		})
	if err != nil {
		return err
	}
	// registry.Validate compares ID numbers as written; "...x" and "...X"
	// are the same person, and which of the two the gate would find is
	// not for the store to guess.
	persons := make(map[string]int, len(snap.Persons))
	err = insertEncoded(ctx, tx, "persons", `INSERT INTO persons (id_number, name, doc) VALUES (?, ?, ?)`,
		snap.Persons, enc.persons, func(i int, p registry.Person) ([]any, error) {
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
	err = insertEncoded(ctx, tx, "waybills", `INSERT INTO waybills (number, vehicle, trailer, driver, escort, carrier,
		valid_from, valid_until, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		snap.Waybills, enc.waybills, func(_ int, w registry.Waybill) ([]any, error) {
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
	return writeAppointments(ctx, tx, "appointments", snap.Appointments, true)
}

// insertEncoded inserts one row per record: the key columns that keys
// returns (or its error, as it is), then the record's JSON from docs.
// Errors name the record, as "vehicles[3]".
func insertEncoded[T any](ctx context.Context, tx *sql.Tx, table, query string, recs []T, docs []string, keys func(int, T) ([]any, error)) error {
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
		if _, err = st.ExecContext(ctx, append(args, docs[i])...); err != nil {
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

// ImportJSON replaces the whole registry with the snapshot whose JSON
// open returns (from its start, at each call), as ImportSnapshot does (the
// same rules, one transaction, an audit entry, the index swapped after the
// commit), without ever holding the snapshot: the JSON is read twice as a
// stream (registry.StreamJSON). The first pass validates it, outside the
// transaction; the second decodes it again inside the transaction and
// writes each record as it is decoded, and adds it to the new index. file
// names the JSON in errors. version, when not 0, is the version the
// snapshot is imported at: one that says another is refused. A bad snapshot
// changes nothing; the error (ErrInvalid) names the record and field.
func (s *Store) ImportJSON(ctx context.Context, open func() io.Reader, file, source string, version int64, now time.Time, opts ...ImportOption) error {
	return s.importStream(ctx, open, registry.StreamJSON, registry.WalkJSON, file, source, version, now, opts...)
}

// importStream is ImportJSON for a snapshot that stream validates and
// walk reads again (registry.StreamJSON and WalkJSON, or StreamYAML and
// WalkYAML).
func (s *Store) importStream(ctx context.Context, open func() io.Reader,
	stream, walk func(io.Reader, string, registry.Sink) (registry.Head, error),
	file, source string, version int64, now time.Time, opts ...ImportOption) error {
	what := "import " + source
	invalid := func(err error) error { return fmt.Errorf("store: %s: %w: %w", what, ErrInvalid, err) }
	// The first pass: the registry's rules, and the store's own (one
	// person under two spellings), before the writer is taken.
	persons := map[string]int{}
	samePerson := func(i int, p registry.Person) error {
		id := normalizeID(p.IDNumber)
		if j, dup := persons[id]; dup {
			return fmt.Errorf("%s: persons[%d].id_number: %s is the same person as persons[%d]", file, i, p.IDNumber, j)
		}
		persons[id] = i
		return nil
	}
	sum := sha256.New()
	r := io.TeeReader(open(), sum)
	head, err := stream(r, file, registry.Sink{Person: samePerson})
	if err != nil {
		return invalid(err)
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	persons = nil
	first := sum.Sum(nil)
	if version != 0 && head.Version != 0 && head.Version != version {
		return invalid(fmt.Errorf("%s: version: the snapshot says %d, not %d", file, head.Version, version))
	}
	if version == 0 {
		version = head.Version
	}
	force := slices.Contains(opts, ForceVersionJump)
	syncedAt := now
	if !head.SyncedAt.IsZero() {
		syncedAt = head.SyncedAt.Start(time.UTC)
	}
	// The sync time as the file holds it, as Open reads it back.
	if syncedAt, err = parseTime(fmtTime(syncedAt)); err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	return s.swapIndex(ctx, what, func(tx *sql.Tx, _ *registry.Index) (*registry.Index, error) {
		var held int64
		err := tx.QueryRowContext(ctx, `SELECT version FROM registry_meta WHERE id = 1`).Scan(&held)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		if version == 0 {
			version = held + 1
		}
		var claimed time.Time
		if !head.SyncedAt.IsZero() {
			claimed = syncedAt
		}
		if ps := registry.CheckSync(registry.SyncChange{Held: held, Version: version, SyncedAt: claimed, Force: force}, now); len(ps) > 0 {
			return nil, problems("", ps)
		}
		// The second pass writes what the first validated: the same
		// bytes (their hash is compared before the commit), so it is
		// not validated again.
		b := registry.NewIndexBuilderFor(head)
		sink, closeSink, err := streamInserts(ctx, tx, b)
		if err != nil {
			return nil, err
		}
		sum.Reset()
		r := io.TeeReader(open(), sum)
		again, err := walk(r, file, sink)
		if err == nil {
			_, err = io.Copy(io.Discard, r)
		}
		closeSink()
		var se *sinkErr
		switch {
		case errors.As(err, &se):
			return nil, se.err
		case err == nil && (again != head || !bytes.Equal(sum.Sum(nil), first)):
			return nil, fmt.Errorf("%w: %s: changed while it was imported", ErrInvalid, file)
		case err != nil:
			// The bytes the first pass validated do not decode: they
			// changed, or could not be read again.
			return nil, fmt.Errorf("%s: read again: %w", file, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO registry_meta (id, version, synced_at, source, imported_at)
			VALUES (1, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET version = excluded.version, synced_at = excluded.synced_at,
				source = excluded.source, imported_at = excluded.imported_at`,
			version, fmtTime(syncedAt), source, fmtTime(now)); err != nil {
			return nil, fmt.Errorf("registry_meta: %w", err)
		}
		if err := s.appendAudit(ctx, tx, ActorSystem, "registry.imported", "registry", map[string]any{
			"source": source, "version": version, "synced_at": fmtTime(syncedAt),
			"vehicles": head.Vehicles, "tanks": head.Tanks, "persons": head.Persons,
			"waybills": head.Waybills, "blacklist": head.Blacklist, "appointments": head.Appointments,
		}, now); err != nil {
			return nil, err
		}
		// As ImportSnapshot's index: the records as the tables hold
		// them, the meta as Open reads it.
		return b.Index(registry.Meta{Version: version, SyncedAt: registry.Instant(syncedAt).Start(time.UTC)}), nil
	})
}

// sinkErr marks an error of the store's (a failed insert) inside
// registry.WalkJSON or WalkYAML.
type sinkErr struct{ err error }

func (e *sinkErr) Error() string { return e.err.Error() }
func (e *sinkErr) Unwrap() error { return e.err }

// streamInserts clears the registry tables and returns a sink that inserts
// each record it is given, with the key columns replaceRegistry writes, and
// adds it, as decoded back from the JSON written, to b; and a function
// that closes its statements.
func streamInserts(ctx context.Context, tx *sql.Tx, b *registry.IndexBuilder) (registry.Sink, func(), error) {
	for _, t := range []string{"vehicles", "tanks", "persons", "waybills", "blacklist", "appointments"} {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+t); err != nil {
			return registry.Sink{}, nil, fmt.Errorf("clear %s: %w", t, err)
		}
	}
	queries := []string{
		`INSERT INTO vehicles (plate, kind, carrier, doc) VALUES (?, ?, ?, ?)`,
		`INSERT INTO tanks (id, vehicle, pos, doc) VALUES (?, ?, ?, ?)`,
		`INSERT INTO persons (id_number, name, doc) VALUES (?, ?, ?)`,
		`INSERT INTO waybills (number, vehicle, trailer, driver, escort, carrier,
			valid_from, valid_until, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		// A repeated blacklist entry replaces the earlier one, as in
		// registry.NewIndex.
		`INSERT OR REPLACE INTO blacklist (kind, value, raw_value, reason) VALUES (?, ?, ?, ?)`,
		`INSERT OR REPLACE INTO appointments (id, plate, doc) VALUES (?, ?, ?)`,
	}
	sts := make([]*sql.Stmt, len(queries))
	closeAll := func() {
		for _, st := range sts {
			if st != nil {
				st.Close()
			}
		}
	}
	for i, q := range queries {
		st, err := tx.PrepareContext(ctx, q)
		if err != nil {
			closeAll()
			return registry.Sink{}, nil, err
		}
		sts[i] = st
	}
	sink := registry.Sink{
		Vehicle: func(i int, v registry.Vehicle) error {
			return insertDoc(ctx, sts[0], "vehicles", i, v, b.VehicleJSON, func(v registry.Vehicle) []any {
				return []any{registry.NormalizePlate(v.Plate), v.Kind, v.Carrier}
			})
		},
		Tank: func(i int, t registry.Tank) error {
			return insertDoc(ctx, sts[1], "tanks", i, t, b.TankJSON, func(t registry.Tank) []any {
				return []any{t.ID, registry.NormalizePlate(t.Vehicle), i}
			})
		},
		Person: func(i int, p registry.Person) error {
			return insertDoc(ctx, sts[2], "persons", i, p, b.PersonJSON, func(p registry.Person) []any {
				return []any{normalizeID(p.IDNumber), p.Name}
			})
		},
		Waybill: func(i int, w registry.Waybill) error {
			return insertDoc(ctx, sts[3], "waybills", i, w, b.WaybillJSON, func(w registry.Waybill) []any {
				return []any{w.Number, registry.NormalizePlate(w.Vehicle), registry.NormalizePlate(w.Trailer),
					normalizeID(w.Driver), normalizeID(w.Escort), w.Carrier, w.ValidFrom.String(), w.ValidUntil.String()}
			})
		},
		Blacklist: func(i int, e registry.BlacklistEntry) error {
			if _, err := sts[4].ExecContext(ctx, e.Kind, blacklistValue(e.Kind, e.Value), e.Value, e.Reason); err != nil {
				return &sinkErr{fmt.Errorf("blacklist[%d]: %w", i, err)}
			}
			b.Blacklist(e)
			return nil
		},
		Appointment: func(i int, a registry.Appointment) error {
			return insertDoc(ctx, sts[5], "appointments", i, a, func(doc []byte) (registry.Appointment, error) {
				var back registry.Appointment
				err := json.Unmarshal(doc, &back)
				if err == nil {
					b.Appointment(back)
				}
				return back, err
			}, func(a registry.Appointment) []any { return []any{a.ID, registry.NormalizePlate(a.Plate)} })
		},
	}
	return sink, closeAll, nil
}

// insertDoc inserts rec (its key columns, then its JSON) and adds that
// JSON to the index (which decodes it back for its key: the round trip is
// not the identity, instants keep whole seconds).
func insertDoc[T any](ctx context.Context, st *sql.Stmt, table string, i int, rec T, add func([]byte) (T, error), keys func(T) []any) error {
	doc, err := json.Marshal(rec)
	if err == nil {
		_, err = st.ExecContext(ctx, append(keys(rec), string(doc))...)
	}
	if err == nil {
		_, err = add(doc)
	}
	if err != nil {
		return &sinkErr{fmt.Errorf("%s[%d]: %w", table, i, err)}
	}
	return nil
}
