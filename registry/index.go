package registry

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"
)

// Index is a read-only in-memory view of a snapshot, keyed the way the checks
// look things up. Plates are compared normalised.
//
// It holds each record as it comes back from its JSON (the form the
// registry tables hold), encoded in a compact binary form (codec.go), and
// decodes it when it is looked up (under a microsecond, without
// reflection): records held as structs take several times their encoding,
// and the whole registry is held (issue 19.4: a 57 MiB snapshot's index was
// 144 MiB of live heap as structs). Each lookup returns a record of its
// own: its strings are parts of the encoding, its slices are new.
type Index struct {
	vehicles  table[Vehicle] // by normalised plate
	tanks     table[Tank]    // by normalised vehicle plate
	persons   table[Person]  // by ID number, a trailing x folded
	waybills  table[Waybill]
	wbPlates  map[string][]string // waybill numbers by normalised vehicle plate (waybill_plate.go)
	blacklist map[[2]string]BlacklistEntry
	appts     appointments
	meta      Meta
}

// table holds records of one kind by key: encoded (codec.go), or, for a
// record that has no JSON (a NaN or an infinity, which Validate refuses, in
// a snapshot built by hand) or that the encoding cannot give back exactly,
// as it is.
type table[T any] struct {
	docs map[string]string
	odd  map[string]T // nil when there is none
}

func newTable[T any](n int) table[T] { return table[T]{docs: make(map[string]string, n)} }

func (t table[T]) clone() table[T] { return table[T]{docs: maps.Clone(t.docs), odd: maps.Clone(t.odd)} }

func (t *table[T]) del(key string) {
	delete(t.docs, key)
	delete(t.odd, key)
}

// get decodes the record under key. The encoding is the index's own (see
// IndexBuilder), so it decodes; were it not to, nothing is found.
func (t table[T]) get(key string) (T, bool) {
	if doc, ok := t.docs[key]; ok {
		return decodeRecord[T](doc)
	}
	v, ok := t.odd[key]
	return cloneSlices(v), ok
}

// cloneSlices gives rec with slices of its own (a nil one stays nil, an
// empty one empty).
func cloneSlices[T any](rec T) T {
	switch r := any(&rec).(type) {
	case *Vehicle:
		r.PermitClasses = slices.Clone(r.PermitClasses)
	case *Tank:
		r.Media = slices.Clone(r.Media)
	case *Person:
		r.Certificates = slices.Clone(r.Certificates)
	case *Waybill:
		r.Goods = slices.Clone(r.Goods)
	}
	return rec
}

// NewIndex indexes s. A snapshot without synced_at is taken as synced at
// syncedDefault.
func NewIndex(s *Snapshot, syncedDefault time.Time) *Index {
	b := NewIndexBuilder()
	b.records(s, true)
	m := Meta{Version: s.Version, SyncedAt: syncedDefault}
	if !s.SyncedAt.IsZero() {
		m.SyncedAt = s.SyncedAt.Start(time.UTC)
	}
	return b.Index(m)
}

func blacklistKey(kind, value string) [2]string {
	switch kind {
	case BlacklistVehicle:
		value = NormalizePlate(value)
	case BlacklistPerson:
		value = normalizeID(value)
	}
	return [2]string{kind, value}
}

func normalizeID(s string) string {
	if n := len(s); n > 0 && s[n-1] == 'x' {
		return s[:n-1] + "X"
	}
	return s
}

// Vehicle looks a vehicle up by plate.
func (ix *Index) Vehicle(plate string) (Vehicle, bool) {
	return ix.vehicles.get(NormalizePlate(plate))
}

// TankOn returns the tank registered to the vehicle with this plate.
func (ix *Index) TankOn(plate string) (Tank, bool) {
	return ix.tanks.get(NormalizePlate(plate))
}

// Person looks a person up by ID number.
func (ix *Index) Person(id string) (Person, bool) {
	return ix.persons.get(normalizeID(id))
}

// Waybill looks a waybill up by number.
func (ix *Index) Waybill(number string) (Waybill, bool) {
	return ix.waybills.get(number)
}

// Blacklisted returns the blacklist entry for kind and value, if any.
func (ix *Index) Blacklisted(kind, value string) (BlacklistEntry, bool) {
	b, ok := ix.blacklist[blacklistKey(kind, value)]
	return b, ok
}

// Meta is the registry's version and sync time.
func (ix *Index) Meta() Meta { return ix.meta }

// Change is what a registry delta does to an index: deletes (keys as the
// registry writes them), then upserts, then the whole list of tanks (the
// tank on a vehicle depends on every tank registered to it) and the new
// meta.
type Change struct {
	DeleteVehicles, DeletePersons, DeleteWaybills []string
	DeleteBlacklist                               []BlacklistEntry
	DeleteAppointments                            []string  // by id
	Upsert                                        *Snapshot // its tanks are not read: see Tanks
	Tanks                                         []Tank    // every tank, in registry order
	Meta                                          Meta
}

// Apply returns a new index: ix with c applied, as NewIndex would build it
// from the registry after c. ix is not changed (an Index is immutable).
func (ix *Index) Apply(c Change) *Index {
	b := &IndexBuilder{ix: &Index{
		vehicles:  ix.vehicles.clone(),
		persons:   ix.persons.clone(),
		waybills:  ix.waybills.clone(),
		wbPlates:  maps.Clone(ix.wbPlates),
		blacklist: maps.Clone(ix.blacklist),
		tanks:     newTable[Tank](len(c.Tanks)),
		appts:     ix.appts.clone(),
	}}
	n := b.ix
	for _, p := range c.DeleteVehicles {
		n.vehicles.del(NormalizePlate(p))
	}
	for _, id := range c.DeletePersons {
		n.persons.del(normalizeID(id))
	}
	for _, w := range c.DeleteWaybills {
		n.dropWaybillPlate(w)
		n.waybills.del(w)
	}
	for _, e := range c.DeleteBlacklist {
		delete(n.blacklist, blacklistKey(e.Kind, e.Value))
	}
	for _, id := range c.DeleteAppointments {
		n.appts.del(id)
	}
	if c.Upsert != nil {
		b.records(c.Upsert, false) // the tanks are c.Tanks, below
	}
	for _, t := range c.Tanks {
		b.Tank(t)
	}
	return b.Index(c.Meta)
}

// records adds the records of s, its tanks only when tanks is true (the
// kinds are indexed apart: their order does not matter).
func (b *IndexBuilder) records(s *Snapshot, tanks bool) {
	for _, v := range s.Vehicles {
		b.Vehicle(v)
	}
	if tanks {
		for _, t := range s.Tanks {
			b.Tank(t)
		}
	}
	for _, p := range s.Persons {
		b.Person(p)
	}
	for _, w := range s.Waybills {
		b.Waybill(w)
	}
	for _, e := range s.Blacklist {
		b.Blacklist(e)
	}
	for _, a := range s.Appointments {
		b.Appointment(a)
	}
}

// IndexBuilder builds an index one record at a time, as NewIndex builds it
// from a snapshot with the records in the same order (a later record with
// the same key replaces the earlier), without the snapshot being held.
type IndexBuilder struct{ ix *Index }

// NewIndexBuilder starts an empty index.
func NewIndexBuilder() *IndexBuilder { return NewIndexBuilderFor(Head{}) }

// NewIndexBuilderFor starts an empty index with room for the records h
// counts (its maps are not grown, and copied, as they fill).
func NewIndexBuilderFor(h Head) *IndexBuilder {
	return &IndexBuilder{ix: &Index{
		vehicles:  newTable[Vehicle](h.Vehicles),
		tanks:     newTable[Tank](h.Tanks),
		persons:   newTable[Person](h.Persons),
		waybills:  newTable[Waybill](h.Waybills),
		wbPlates:  make(map[string][]string, h.Waybills),
		blacklist: make(map[[2]string]BlacklistEntry, h.Blacklist),
	}}
}

// Vehicle adds a vehicle.
func (b *IndexBuilder) Vehicle(v Vehicle) { addRecord(&b.ix.vehicles, v, vehicleKey) }

// Tank adds a tank (the tanks in snapshot order).
func (b *IndexBuilder) Tank(t Tank) { addRecord(&b.ix.tanks, t, tankKey) }

// Person adds a person.
func (b *IndexBuilder) Person(p Person) { addRecord(&b.ix.persons, p, personKey) }

// Waybill adds a waybill.
func (b *IndexBuilder) Waybill(w Waybill) {
	addRecord(&b.ix.waybills, w, waybillKey)
	b.ix.addWaybillPlate(w)
}

// Blacklist adds a blacklist entry.
func (b *IndexBuilder) Blacklist(e BlacklistEntry) { b.ix.blacklist[blacklistKey(e.Kind, e.Value)] = e }

// VehicleJSON adds the vehicle whose JSON doc is (as json.Marshal writes
// it, as the registry tables hold it), and returns it as decoded from doc;
// the index holds doc, not the record. An error (doc is not a vehicle)
// adds nothing.
func (b *IndexBuilder) VehicleJSON(doc []byte) (Vehicle, error) {
	return addJSON(&b.ix.vehicles, doc, vehicleKey)
}

// TankJSON adds a tank from its JSON, as VehicleJSON.
func (b *IndexBuilder) TankJSON(doc []byte) (Tank, error) { return addJSON(&b.ix.tanks, doc, tankKey) }

// PersonJSON adds a person from its JSON, as VehicleJSON.
func (b *IndexBuilder) PersonJSON(doc []byte) (Person, error) {
	return addJSON(&b.ix.persons, doc, personKey)
}

// WaybillJSON adds a waybill from its JSON, as VehicleJSON.
func (b *IndexBuilder) WaybillJSON(doc []byte) (Waybill, error) {
	w, err := addJSON(&b.ix.waybills, doc, waybillKey)
	if err == nil {
		b.ix.addWaybillPlate(w)
	}
	return w, err
}

func vehicleKey(v Vehicle) string { return NormalizePlate(v.Plate) }
func tankKey(t Tank) string       { return NormalizePlate(t.Vehicle) }
func personKey(p Person) string   { return normalizeID(p.IDNumber) }
func waybillKey(w Waybill) string { return w.Number }

// addRecord adds rec, encoded, under key(rec), as decoded back from its
// JSON (the round trip is not the identity: instants keep whole
// seconds), as the registry tables would give it back; a record with no
// JSON as it is.
func addRecord[T any](t *table[T], rec T, key func(T) string) {
	doc, err := json.Marshal(rec)
	if err == nil {
		_, err = addJSON(t, doc, key)
	}
	if err != nil {
		k := key(rec)
		delete(t.docs, k)
		if t.odd == nil {
			t.odd = map[string]T{}
		}
		t.odd[k] = rec
	}
}

// addJSON adds the record doc holds, encoded (as it is when the encoding
// cannot give it back exactly).
func addJSON[T any](t *table[T], doc []byte, key func(T) string) (T, error) {
	var v T
	if err := json.Unmarshal(doc, &v); err != nil {
		var zero T
		return zero, err
	}
	k := key(v)
	if enc, ok := encodeRecord(&v); ok {
		delete(t.odd, k)
		if i := strings.Index(enc, k); i >= 0 && k != "" {
			k = enc[i : i+len(k)] // the key is mostly the record's plate or number: not held twice
		}
		t.docs[k] = enc
		return v, nil
	}
	delete(t.docs, k)
	if t.odd == nil {
		t.odd = map[string]T{}
	}
	t.odd[k] = v
	return v, nil
}

// Index returns the index built, with m as its meta; the builder must not
// be used after.
func (b *IndexBuilder) Index(m Meta) *Index {
	ix := b.ix
	b.ix = nil
	ix.meta = m
	ix.appts.plates()
	return ix
}
