package registry

import (
	"maps"
	"time"
)

// Index is a read-only in-memory view of a snapshot, keyed the way the checks
// look things up. Plates are compared normalised.
type Index struct {
	vehicles  map[string]Vehicle
	tanks     map[string]Tank // by normalised vehicle plate
	persons   map[string]Person
	waybills  map[string]Waybill
	blacklist map[[2]string]BlacklistEntry
	meta      Meta
}

// NewIndex indexes s. A snapshot without synced_at is taken as synced at
// syncedDefault.
func NewIndex(s *Snapshot, syncedDefault time.Time) *Index {
	ix := &Index{
		vehicles:  make(map[string]Vehicle, len(s.Vehicles)),
		tanks:     make(map[string]Tank, len(s.Tanks)),
		persons:   make(map[string]Person, len(s.Persons)),
		waybills:  make(map[string]Waybill, len(s.Waybills)),
		blacklist: make(map[[2]string]BlacklistEntry, len(s.Blacklist)),
		meta:      Meta{Version: s.Version, SyncedAt: syncedDefault},
	}
	if !s.SyncedAt.IsZero() {
		ix.meta.SyncedAt = s.SyncedAt.Start(time.UTC)
	}
	for _, v := range s.Vehicles {
		ix.vehicles[NormalizePlate(v.Plate)] = v
	}
	for _, t := range s.Tanks {
		ix.tanks[NormalizePlate(t.Vehicle)] = t
	}
	for _, p := range s.Persons {
		ix.persons[normalizeID(p.IDNumber)] = p
	}
	for _, w := range s.Waybills {
		ix.waybills[w.Number] = w
	}
	for _, b := range s.Blacklist {
		ix.blacklist[blacklistKey(b.Kind, b.Value)] = b
	}
	return ix
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
	v, ok := ix.vehicles[NormalizePlate(plate)]
	return v, ok
}

// TankOn returns the tank registered to the vehicle with this plate.
func (ix *Index) TankOn(plate string) (Tank, bool) {
	t, ok := ix.tanks[NormalizePlate(plate)]
	return t, ok
}

// Person looks a person up by ID number.
func (ix *Index) Person(id string) (Person, bool) {
	p, ok := ix.persons[normalizeID(id)]
	return p, ok
}

// Waybill looks a waybill up by number.
func (ix *Index) Waybill(number string) (Waybill, bool) {
	w, ok := ix.waybills[number]
	return w, ok
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
	Upsert                                        *Snapshot // its tanks are not read: see Tanks
	Tanks                                         []Tank    // every tank, in registry order
	Meta                                          Meta
}

// Apply returns a new index: ix with c applied, as NewIndex would build it
// from the registry after c. ix is not changed (an Index is immutable).
func (ix *Index) Apply(c Change) *Index {
	n := &Index{
		vehicles:  maps.Clone(ix.vehicles),
		persons:   maps.Clone(ix.persons),
		waybills:  maps.Clone(ix.waybills),
		blacklist: maps.Clone(ix.blacklist),
		tanks:     make(map[string]Tank, len(c.Tanks)),
		meta:      c.Meta,
	}
	for _, p := range c.DeleteVehicles {
		delete(n.vehicles, NormalizePlate(p))
	}
	for _, id := range c.DeletePersons {
		delete(n.persons, normalizeID(id))
	}
	for _, w := range c.DeleteWaybills {
		delete(n.waybills, w)
	}
	for _, b := range c.DeleteBlacklist {
		delete(n.blacklist, blacklistKey(b.Kind, b.Value))
	}
	if u := c.Upsert; u != nil {
		for _, v := range u.Vehicles {
			n.vehicles[NormalizePlate(v.Plate)] = v
		}
		for _, p := range u.Persons {
			n.persons[normalizeID(p.IDNumber)] = p
		}
		for _, w := range u.Waybills {
			n.waybills[w.Number] = w
		}
		for _, b := range u.Blacklist {
			n.blacklist[blacklistKey(b.Kind, b.Value)] = b
		}
	}
	for _, t := range c.Tanks {
		n.tanks[NormalizePlate(t.Vehicle)] = t
	}
	return n
}

// IndexBuilder builds an index one record at a time, as NewIndex builds it
// from a snapshot with the records in the same order (a later record with
// the same key replaces the earlier), without the snapshot being held.
type IndexBuilder struct{ ix *Index }

// NewIndexBuilder starts an empty index.
func NewIndexBuilder() *IndexBuilder {
	return &IndexBuilder{ix: &Index{
		vehicles:  map[string]Vehicle{},
		tanks:     map[string]Tank{},
		persons:   map[string]Person{},
		waybills:  map[string]Waybill{},
		blacklist: map[[2]string]BlacklistEntry{},
	}}
}

// Vehicle adds a vehicle.
func (b *IndexBuilder) Vehicle(v Vehicle) { b.ix.vehicles[NormalizePlate(v.Plate)] = v }

// Tank adds a tank (the tanks in snapshot order).
func (b *IndexBuilder) Tank(t Tank) { b.ix.tanks[NormalizePlate(t.Vehicle)] = t }

// Person adds a person.
func (b *IndexBuilder) Person(p Person) { b.ix.persons[normalizeID(p.IDNumber)] = p }

// Waybill adds a waybill.
func (b *IndexBuilder) Waybill(w Waybill) { b.ix.waybills[w.Number] = w }

// Blacklist adds a blacklist entry.
func (b *IndexBuilder) Blacklist(e BlacklistEntry) { b.ix.blacklist[blacklistKey(e.Kind, e.Value)] = e }

// Index returns the index built, with m as its meta; the builder must not
// be used after.
func (b *IndexBuilder) Index(m Meta) *Index {
	ix := b.ix
	b.ix = nil
	ix.meta = m
	return ix
}
