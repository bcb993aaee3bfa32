// Package registrytest holds what the tests of `hazgate registry import` and
// of MQTT registry sync share: one good registry, the bad registries that
// both must refuse (issue 15), and a dump of the registry tables to show
// that a refusal changed nothing.
package registrytest

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/hazgate/hazgate/idnumber"
	"github.com/hazgate/hazgate/registry"
)

// HeldVersion is the version of Good.
const HeldVersion = 10

// ID returns a synthetic ID number (region 990001, belonging to nobody)
// with its check digit.
func ID(n int) string {
	id, err := idnumber.Complete(fmt.Sprintf("990001198001%05d", n))
	if err != nil {
		panic(err)
	}
	return id
}

// Good is a valid registry of version HeldVersion, synced at syncedAt, with
// one record of each kind.
func Good(syncedAt time.Time) *registry.Snapshot {
	return &registry.Snapshot{
		Version:  HeldVersion,
		SyncedAt: registry.Instant(syncedAt.UTC().Truncate(time.Second)),
		Vehicles: []registry.Vehicle{Vehicle("浙B10001")},
		Tanks:    []registry.Tank{{ID: "TK-1", Vehicle: "浙B10001", InspectionValidUntil: registry.Date(2027, 9, 30), Media: []string{"UN1077"}}},
		Persons: []registry.Person{{IDNumber: ID(1), Name: "测试一",
			Certificates: []registry.Certificate{{Role: registry.RoleDriver, Number: "DG-1", ValidUntil: registry.Date(2028, 5, 1)}}}},
		Waybills:  []registry.Waybill{Waybill("WB-1")},
		Blacklist: []registry.BlacklistEntry{{Kind: registry.BlacklistCarrier, Value: "坏运输公司", Reason: "test"}},
	}
}

// Vehicle is a valid tractor with plate p.
func Vehicle(p string) registry.Vehicle {
	return registry.Vehicle{Plate: p, Kind: registry.KindTractor, LicenceValidUntil: registry.Date(2028, 1, 31),
		PermitNo: "330200100001", PermitValidUntil: registry.Date(2028, 6, 30), PermitClasses: []string{"2"},
		InspectionValidUntil: registry.Date(2027, 12, 31), RatedLoadKg: 40000}
}

// Waybill is a valid waybill numbered n.
func Waybill(n string) registry.Waybill {
	return registry.Waybill{Number: n, Vehicle: "浙B10001", Driver: ID(1), Escort: ID(2),
		ValidFrom: registry.Date(2026, 1, 1), ValidUntil: registry.Date(2028, 1, 1),
		Goods: []registry.Good{{UN: "UN1077", Name: "丙烯", Class: "2.1", QuantityKg: 20000}}}
}

// Case is a bad registry. In an import it is Good with the bad record
// added after Good's one (or its meta changed); in a delta from
// HeldVersion to HeldVersion+1 it is the bad record alone in upsert (or
// delete), or the delta's meta changed.
type Case struct {
	Name string
	// Field is the field the refusal names, with %d for the bad record's
	// index (1 in an import, 0 in a delta, whose fields start "upsert.").
	Field string
	// Add adds the bad record to a snapshot (nil for the other cases).
	Add func(s *registry.Snapshot)
	// Version, when not 0, is the version of the import and of the delta.
	Version int64
	// SyncedAt, when set, is the synced_at of the import and of the delta.
	SyncedAt time.Time
	// YAML, when set, is the whole file to import, as written; "" : the
	// case is not about import (or is built from Add).
	YAML string
	// Delta, when set, is the whole delta to send, as written; "" : the
	// case is not about deltas (or is built from Add).
	Delta string
}

// Cases returns the bad registries.
func Cases() []Case {
	var cs []Case
	plate := func(name, p string) {
		cs = append(cs, Case{Name: "plate " + name, Field: "vehicles[%d].plate",
			Add: func(s *registry.Snapshot) { s.Vehicles = append(s.Vehicles, Vehicle(p)) }})
	}
	plate("control character", "浙B\x0112345")
	plate("NUL", "浙B\x0012345")
	plate("tab", "浙B\t12345")
	plate("bidi override", "浙B\u202e12345")
	plate("HTML", "<img src=x>")
	plate("formula =", "=HYPERLINK(1)")
	plate("formula +", "+8612345")
	plate("formula -", "-12345")
	plate("formula @", "@SUM(A1)")
	plate("only spaces", "   ")
	plate("too long", strings.Repeat("浙B12345", 5))
	const html = "浙B<b>1</b>"
	cs = append(cs,
		Case{Name: "tank's vehicle HTML", Field: "tanks[%d].vehicle", Add: func(s *registry.Snapshot) {
			s.Tanks = append(s.Tanks, registry.Tank{ID: "TK-2", Vehicle: html, Media: []string{"UN1077"}})
		}},
		Case{Name: "waybill's vehicle HTML", Field: "waybills[%d].vehicle", Add: func(s *registry.Snapshot) {
			w := Waybill("WB-2")
			w.Vehicle = html
			s.Waybills = append(s.Waybills, w)
		}},
		Case{Name: "waybill's trailer formula", Field: "waybills[%d].trailer", Add: func(s *registry.Snapshot) {
			w := Waybill("WB-2")
			w.Trailer = "=1+1"
			s.Waybills = append(s.Waybills, w)
		}},
		Case{Name: "blacklisted plate NUL", Field: "blacklist[%d].value", Add: func(s *registry.Snapshot) {
			s.Blacklist = append(s.Blacklist, registry.BlacklistEntry{Kind: registry.BlacklistVehicle, Value: "浙B\x00", Reason: "x"})
		}},
	)
	id := func(name, v string) {
		cs = append(cs, Case{Name: "ID number " + name, Field: "persons[%d].id_number", Add: func(s *registry.Snapshot) {
			s.Persons = append(s.Persons, registry.Person{IDNumber: v, Name: "测试二"})
		}})
	}
	id("letter in the first 17", "99000119800101A019")
	id("non-ASCII digits", "99000119800101００1") // full-width digits, 18 bytes
	id("non-ASCII", "990001198001010é19")
	cs = append(cs,
		Case{Name: "waybill's driver letters", Field: "waybills[%d].driver", Add: func(s *registry.Snapshot) {
			w := Waybill("WB-2")
			w.Driver = "ABCDEFGHIJKLMNOPQR"
			s.Waybills = append(s.Waybills, w)
		}},
		Case{Name: "waybill's escort non-ASCII", Field: "waybills[%d].escort", Add: func(s *registry.Snapshot) {
			w := Waybill("WB-2")
			w.Escort = "９９０００１１９８００１０１００１９"
			s.Waybills = append(s.Waybills, w)
		}},
		Case{Name: "blacklisted person letters", Field: "blacklist[%d].value", Add: func(s *registry.Snapshot) {
			s.Blacklist = append(s.Blacklist, registry.BlacklistEntry{Kind: registry.BlacklistPerson, Value: "99000119800101A019", Reason: "x"})
		}},
		Case{Name: "waybill valid_from after valid_until", Field: "waybills[%d].valid_from", Add: func(s *registry.Snapshot) {
			w := Waybill("WB-2")
			w.ValidFrom, w.ValidUntil = registry.Date(2027, 6, 2), registry.Date(2027, 6, 1)
			s.Waybills = append(s.Waybills, w)
		}},
		Case{Name: "rated load not finite", Field: "vehicles[%d].rated_load_kg", Add: func(s *registry.Snapshot) {
			v := Vehicle("浙B20002")
			v.RatedLoadKg = math.Inf(1)
			s.Vehicles = append(s.Vehicles, v)
		}, Delta: "-"}, // JSON cannot carry it: json.Marshal fails
		Case{Name: "plate colour not a GA 36 colour", Field: "vehicles[%d].plate_color", Add: func(s *registry.Snapshot) {
			v := Vehicle("浙B20003")
			v.PlateColor = "pink"
			s.Vehicles = append(s.Vehicles, v)
		}},
		Case{Name: "emergency not a kind of emergency vehicle", Field: "vehicles[%d].emergency", Add: func(s *registry.Snapshot) {
			v := Vehicle("浙B20004")
			v.Emergency = "tanker"
			s.Vehicles = append(s.Vehicles, v)
		}},
		Case{Name: "curb weight negative", Field: "vehicles[%d].curb_weight_kg", Add: func(s *registry.Snapshot) {
			v := Vehicle("浙B20003")
			v.CurbWeightKg = -1
			s.Vehicles = append(s.Vehicles, v)
		}},
		Case{Name: "version 2^63-1", Field: "version", Version: math.MaxInt64},
		Case{Name: "version negative", Field: "version", Version: -5},
		Case{Name: "version not above the held one", Field: "version", Version: HeldVersion,
			Delta: fmt.Sprintf(`{"schema":"hazgate.registry.delta/1","base":%d,"version":%d,"upsert":{"blacklist":[{"kind":"carrier","value":"x","reason":"y"}]}}`, HeldVersion, HeldVersion)},
		Case{Name: "version jump", Field: "version", Version: HeldVersion + registry.MaxVersionJump + 1},
		Case{Name: "synced_at in 2998", Field: "synced_at", SyncedAt: time.Date(2998, 1, 1, 0, 0, 0, 0, time.UTC)},
		Case{Name: "null vehicle", Field: "vehicles[0]",
			YAML:  "version: 11\nvehicles:\n  - null\ntanks: []\npersons: []\nwaybills: []\nblacklist: []\n",
			Delta: fmt.Sprintf(`{"schema":"hazgate.registry.delta/1","base":%d,"version":%d,"upsert":{"vehicles":[null]}}`, HeldVersion, HeldVersion+1)},
		Case{Name: "null key in delete", Field: "delete.vehicles[0]",
			Delta: fmt.Sprintf(`{"schema":"hazgate.registry.delta/1","base":%d,"version":%d,"delete":{"vehicles":[null]}}`, HeldVersion, HeldVersion+1)},
		Case{Name: "second JSON value after a delta", Field: "one JSON value only",
			Delta: fmt.Sprintf(`{"schema":"hazgate.registry.delta/1","base":%d,"version":%d,"upsert":{}} {"delete":{"vehicles":["浙B10001"]}}`, HeldVersion, HeldVersion+1)},
		Case{Name: "second YAML document", Field: "second YAML document",
			YAML: "version: 11\nvehicles: []\ntanks: []\npersons: []\nwaybills: []\nblacklist: []\n---\nversion: 12\n"},
	)
	return cs
}

// FieldAt is c's field with the bad record at index i, under prefix
// ("upsert." in a delta) when it is a record's.
func (c Case) FieldAt(prefix string, i int) string {
	if !strings.Contains(c.Field, "%d") {
		return c.Field
	}
	return prefix + fmt.Sprintf(c.Field, i)
}

// Import returns the snapshot of c to import, or nil when c is raw YAML or
// about deltas only.
func (c Case) Import(good *registry.Snapshot) *registry.Snapshot {
	if c.YAML != "" || (c.Add == nil && c.Version == 0 && c.SyncedAt.IsZero()) {
		return nil
	}
	s := clone(good)
	s.Version = HeldVersion + 1
	if c.Add != nil {
		c.Add(s)
	}
	if c.Version != 0 {
		s.Version = c.Version
	}
	if !c.SyncedAt.IsZero() {
		s.SyncedAt = registry.Instant(c.SyncedAt)
	}
	return s
}

// DeltaJSON returns the delta of c from HeldVersion, or nil when c is not
// about deltas.
func (c Case) DeltaJSON() ([]byte, error) {
	switch c.Delta {
	case "-":
		return nil, nil
	case "":
	default:
		return []byte(c.Delta), nil
	}
	if c.YAML != "" {
		return nil, nil
	}
	d := map[string]any{"schema": "hazgate.registry.delta/1", "base": HeldVersion, "version": HeldVersion + 1}
	if c.Version != 0 {
		d["version"] = c.Version
	}
	if !c.SyncedAt.IsZero() {
		d["synced_at"] = c.SyncedAt
	}
	var up registry.Snapshot
	if c.Add != nil {
		c.Add(&up)
	}
	d["upsert"] = up
	return json.Marshal(d)
}

func clone(s *registry.Snapshot) *registry.Snapshot {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	var c registry.Snapshot
	if err := json.Unmarshal(b, &c); err != nil {
		panic(err)
	}
	return &c
}

// Tables are the registry tables, in the order Dump writes them.
var Tables = []string{"registry_meta", "vehicles", "tanks", "persons", "waybills", "blacklist"}

// Dump writes every row of the registry tables, every column, rows sorted:
// two dumps are equal exactly when the registry is byte for byte the same.
func Dump(ctx context.Context, db *sql.DB) (string, error) {
	var b strings.Builder
	for _, t := range Tables {
		rows, err := db.QueryContext(ctx, "SELECT * FROM "+t)
		if err != nil {
			return "", fmt.Errorf("dump %s: %w", t, err)
		}
		cols, _ := rows.Columns()
		fmt.Fprintf(&b, "%s %q\n", t, cols)
		var lines []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return "", err
			}
			var line strings.Builder
			for _, v := range vals {
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				fmt.Fprintf(&line, " %#v", v)
			}
			lines = append(lines, line.String())
		}
		if err := rows.Close(); err != nil {
			return "", err
		}
		slices.Sort(lines)
		for _, l := range lines {
			b.WriteString(l + "\n")
		}
	}
	return b.String(), nil
}
