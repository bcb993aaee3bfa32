package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/registry/registrytest"
)

func jsonOf(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sameAnswers fails unless got answers every question about keys as want
// does.
func sameAnswers(t *testing.T, got, want *registry.Index, plates, ids []string, blacklist [][2]string) {
	t.Helper()
	for _, p := range plates {
		gv, gok := got.Vehicle(p)
		wv, wok := want.Vehicle(p)
		if gok != wok || jsonOf(t, gv) != jsonOf(t, wv) {
			t.Errorf("Vehicle(%q) = %v %v, want %v %v", p, gv, gok, wv, wok)
		}
		gt, gok := got.TankOn(p)
		wt, wok := want.TankOn(p)
		if gok != wok || jsonOf(t, gt) != jsonOf(t, wt) {
			t.Errorf("TankOn(%q) = %v %v, want %v %v", p, gt, gok, wt, wok)
		}
	}
	for _, id := range ids {
		gp, gok := got.Person(id)
		wp, wok := want.Person(id)
		if gok != wok || jsonOf(t, gp) != jsonOf(t, wp) {
			t.Errorf("Person(%q) = %v %v, want %v %v", id, gp, gok, wp, wok)
		}
	}
	for _, b := range blacklist {
		gb, gok := got.Blacklisted(b[0], b[1])
		wb, wok := want.Blacklisted(b[0], b[1])
		if gok != wok || gb != wb {
			t.Errorf("Blacklisted(%q, %q) = %v %v, want %v %v", b[0], b[1], gb, gok, wb, wok)
		}
	}
	if got.Meta() != want.Meta() {
		t.Errorf("Meta() = %+v, want %+v", got.Meta(), want.Meta())
	}
}

func TestImportAndLookup(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	f := newFixture(t)
	if err := s.ImportSnapshot(ctx, f.snap, "test", t0); err != nil {
		t.Fatal(err)
	}
	full := registry.NewIndex(&registry.Snapshot{
		Version: 1, Vehicles: f.snap.Vehicles, Tanks: f.snap.Tanks, Persons: f.snap.Persons,
		Waybills: f.snap.Waybills, Blacklist: f.snap.Blacklist,
	}, t0.UTC())

	meta, err := s.RegistryMeta(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if meta.Version != 1 || !meta.SyncedAt.Equal(t0) {
		t.Fatalf("RegistryMeta = %+v, want version 1 synced at %v", meta, t0)
	}

	rigid := checks.Evidence{Plate: "沪A 00001", Driver: &checks.PersonEvidence{IDNumber: f.other}}
	tests := []struct {
		name      string
		ev        checks.Evidence
		plates    []string
		ids       []string
		blacklist [][2]string
		waybill   bool
	}{
		{
			name:    "compliant tanker, plates full-width, spaced and lower-case",
			ev:      f.evidence(),
			plates:  []string{"浙B12345", "浙Ｂ１２３４５", "浙B6789挂", "浙 b 6789挂"},
			ids:     []string{f.driver, strings.ToLower(f.driver), f.escort},
			waybill: true,
			blacklist: [][2]string{{registry.BlacklistCarrier, "甬运危货"}, {registry.BlacklistVehicle, "浙B12345"},
				{registry.BlacklistPerson, f.driver}},
		},
		{
			name:   "blacklisted rigid tanker, person and carrier",
			ev:     rigid,
			plates: []string{"沪A00001", "沪a00001"},
			ids:    []string{f.other},
			blacklist: [][2]string{{registry.BlacklistVehicle, "沪A00001"}, {registry.BlacklistVehicle, "沪A·00001"},
				{registry.BlacklistPerson, f.other}, {registry.BlacklistCarrier, "黑名单物流"}},
		},
		{
			name:    "people named only by the waybill are loaded",
			ev:      checks.Evidence{Plate: "浙B12345", Waybill: "YD3302002603150001"},
			plates:  []string{"浙B12345", "浙B6789挂"},
			ids:     []string{f.driver, f.escort},
			waybill: true,
		},
		{
			name:   "unregistered plate and person",
			ev:     checks.Evidence{Plate: "粤Z99999", Driver: &checks.PersonEvidence{IDNumber: synthID(t, "12345619990909999")}},
			plates: []string{"粤Z99999"},
			ids:    []string{synthID(t, "12345619990909999")},
		},
		{
			name: "no evidence at all",
			ev:   checks.Evidence{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix, err := s.Lookup(ctx, tt.ev)
			if err != nil {
				t.Fatal(err)
			}
			sameAnswers(t, ix, full, tt.plates, tt.ids, tt.blacklist)
			_, got := ix.Waybill(tt.ev.Waybill)
			if got != tt.waybill {
				t.Errorf("Waybill(%q) found = %v, want %v", tt.ev.Waybill, got, tt.waybill)
			}
		})
	}

	t.Run("lookup is the whole registry, whatever the evidence", func(t *testing.T) {
		// The registry is held in memory: Lookup does no I/O, and its
		// index answers every question as the full one does.
		ix, err := s.Lookup(ctx, f.evidence())
		if err != nil {
			t.Fatal(err)
		}
		sameAnswers(t, ix, full, []string{"沪A00001", "浙B12345", "粤Z99999"}, []string{f.other, f.driver},
			[][2]string{{registry.BlacklistVehicle, "沪A00001"}, {registry.BlacklistCarrier, "黑名单物流"}})
		if again, _ := s.Lookup(ctx, checks.Evidence{}); again != ix {
			t.Error("two lookups with no import in between built two indexes")
		}
	})

	t.Run("second import without a version increments it", func(t *testing.T) {
		later := t0.Add(time.Hour)
		snap := *f.snap
		snap.Vehicles = snap.Vehicles[:1]
		if err := s.ImportSnapshot(ctx, &snap, "test", later); err != nil {
			t.Fatal(err)
		}
		meta, err := s.RegistryMeta(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if meta.Version != 2 || !meta.SyncedAt.Equal(later) {
			t.Fatalf("RegistryMeta = %+v, want version 2 synced at %v", meta, later)
		}
		ix, err := s.Lookup(ctx, f.evidence())
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := ix.Vehicle("浙B6789挂"); ok {
			t.Error("a vehicle removed by the new snapshot is still there")
		}
	})

	t.Run("explicit version and synced_at are kept", func(t *testing.T) {
		snap := *f.snap
		snap.Version = 42
		snap.SyncedAt = registry.Instant(t0.Add(-2 * time.Hour))
		if err := s.ImportSnapshot(ctx, &snap, "mqtt", t0); err != nil {
			t.Fatal(err)
		}
		ix, err := s.Lookup(ctx, checks.Evidence{})
		if err != nil {
			t.Fatal(err)
		}
		if m := ix.Meta(); m.Version != 42 || !m.SyncedAt.Equal(t0.Add(-2*time.Hour)) {
			t.Fatalf("Meta = %+v", m)
		}
	})
}

func TestLookupNeverImported(t *testing.T) {
	s, _ := openTest(t)
	f := newFixture(t)
	ix, err := s.Lookup(context.Background(), f.evidence())
	if err != nil {
		t.Fatal(err)
	}
	if m := ix.Meta(); m.Version != 0 || !m.SyncedAt.IsZero() {
		t.Fatalf("Meta = %+v, want zero", m)
	}
	if _, ok := ix.Vehicle("浙B12345"); ok {
		t.Fatal("found a vehicle in an empty registry")
	}
}

// registryState is everything an import may change, for comparing before
// and after a failed one.
func registryState(t *testing.T, s *Store) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT plate || doc FROM vehicles ORDER BY plate`, `SELECT id || doc FROM tanks ORDER BY id`,
		`SELECT id_number || doc FROM persons ORDER BY id_number`, `SELECT number || doc FROM waybills ORDER BY number`,
		`SELECT kind || value || reason FROM blacklist ORDER BY kind, value`,
		`SELECT version || synced_at || source || imported_at FROM registry_meta`, `SELECT hash FROM audit ORDER BY seq`,
	} {
		rows, err := s.reader.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			b.WriteString(v + "\n")
		}
		rows.Close()
	}
	return b.String()
}

func TestBadImportChangesNothing(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	tests := []struct {
		name   string
		mutate func(*registry.Snapshot)
		want   string // in the error
	}{
		{"second vehicle has a bad kind", func(s *registry.Snapshot) { s.Vehicles[1].Kind = "bus" }, "vehicles[1].kind"},
		{"second vehicle has no plate", func(s *registry.Snapshot) { s.Vehicles[1].Plate = "" }, "vehicles[1].plate"},
		{"same plate twice, written differently", func(s *registry.Snapshot) { s.Vehicles[2].Plate = "浙b 12345" }, "vehicles[2].plate"},
		{"a waybill's good has a bad UN number", func(s *registry.Snapshot) { s.Waybills[0].Goods[0].UN = "1077" }, "waybills[0].goods[0].un"},
		{
			// Passes registry validation; refused inside the transaction,
			// after the vehicles and tanks were written.
			"same person twice, x and X",
			func(s *registry.Snapshot) {
				p := s.Persons[0]
				p.IDNumber = strings.ToLower(p.IDNumber)
				s.Persons = append(s.Persons, p)
			},
			"persons[3].id_number",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := openTest(t)
			if err := s.ImportSnapshot(ctx, f.snap, "good", t0); err != nil {
				t.Fatal(err)
			}
			before := registryState(t, s)
			bad := *f.snap
			bad.Vehicles = append([]registry.Vehicle(nil), f.snap.Vehicles...)
			bad.Persons = append([]registry.Person(nil), f.snap.Persons...)
			bad.Waybills = []registry.Waybill{f.snap.Waybills[0]}
			bad.Waybills[0].Goods = []registry.Good{f.snap.Waybills[0].Goods[0]}
			tt.mutate(&bad)
			err := s.ImportSnapshot(ctx, &bad, "bad", t0.Add(time.Hour))
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ImportSnapshot = %v, want ErrInvalid naming %s", err, tt.want)
			}
			if after := registryState(t, s); after != before {
				t.Fatalf("a failed import changed the store:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

func TestImportFile(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	good := fmt.Sprintf(`vehicles:
  - {plate: 浙B12345, kind: tractor, licence_valid_until: 2027-01-31, permit_no: "330200100001",
     permit_valid_until: 2027-06-30, permit_classes: ["2", "3"], inspection_valid_until: 2026-12-31, rated_load_kg: 25000}
  - {plate: 浙B6789挂, kind: %s, licence_valid_until: 2027-01-31, permit_no: "330200100002",
     permit_valid_until: 2027-06-30, permit_classes: ["2"], inspection_valid_until: 2026-12-31, rated_load_kg: 25000}
tanks:
  - {id: TK-0001, vehicle: 浙B6789挂, inspection_valid_until: 2026-09-30, media: [UN1077]}
persons:
  - {id_number: "%s", name: 测试甲, certificates: [{role: driver, number: "1", valid_until: 2027-05-01}]}
waybills: []
blacklist: []
synced_at: 2026-03-15T08:00:00+08:00
`, "%s", f.driver)
	dir := t.TempDir()
	write := func(name, kind string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(fmt.Sprintf(good, kind)), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	s, _ := openTest(t)

	t.Run("good file", func(t *testing.T) {
		if err := s.ImportFile(ctx, write("good.yaml", "trailer"), t0); err != nil {
			t.Fatal(err)
		}
		ix, err := s.Lookup(ctx, checks.Evidence{Trailer: "浙B6789挂"})
		if err != nil {
			t.Fatal(err)
		}
		if tk, ok := ix.TankOn("浙B6789挂"); !ok || tk.ID != "TK-0001" {
			t.Fatalf("TankOn = %v %v", tk, ok)
		}
		if m := ix.Meta(); m.Version != 1 || !m.SyncedAt.Equal(t0.Add(-time.Hour)) {
			t.Fatalf("Meta = %+v", m)
		}
	})

	t.Run("bad file names file, line and field and changes nothing", func(t *testing.T) {
		before := registryState(t, s)
		p := write("bad.yaml", "bus")
		err := s.ImportFile(ctx, p, t0)
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), p+":4: vehicles[1].kind") {
			t.Fatalf("ImportFile = %v, want ErrInvalid naming %s:4: vehicles[1].kind", err, p)
		}
		if after := registryState(t, s); after != before {
			t.Fatal("a bad file changed the store")
		}
	})

	t.Run("missing file", func(t *testing.T) {
		if err := s.ImportFile(ctx, filepath.Join(dir, "none.yaml"), t0); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("ImportFile = %v, want ErrNotExist", err)
		}
	})
}

// bigSnapshot has n vehicles (half tractors, half trailers with a tank) and
// n/10 persons.
func bigSnapshot(t testing.TB, n int) *registry.Snapshot {
	s := &registry.Snapshot{}
	for i := range n {
		v := registry.Vehicle{Plate: fmt.Sprintf("浙B%05d", i), Kind: registry.KindTractor, Carrier: fmt.Sprintf("carrier %d", i%50),
			PermitNo: fmt.Sprintf("3302%08d", i), PermitClasses: []string{"2", "3"}, RatedLoadKg: 25000,
			LicenceValidUntil: registry.Date(2027, 1, 31), PermitValidUntil: registry.Date(2027, 6, 30),
			InspectionValidUntil: registry.Date(2026, 12, 31)}
		if i%2 == 1 {
			v.Plate = fmt.Sprintf("浙B%05d挂", i)
			v.Kind = registry.KindTrailer
			s.Tanks = append(s.Tanks, registry.Tank{ID: fmt.Sprintf("TK-%05d", i), Vehicle: v.Plate,
				InspectionValidUntil: registry.Date(2026, 9, 30), Media: []string{"UN1077", "UN1075"}})
		}
		s.Vehicles = append(s.Vehicles, v)
	}
	for i := range n / 10 {
		s.Persons = append(s.Persons, registry.Person{IDNumber: synthID(t, fmt.Sprintf("330200199001%05d", i)), Name: "测试",
			Certificates: []registry.Certificate{{Role: registry.RoleDriver, Number: fmt.Sprint(i), ValidUntil: registry.Date(2027, 1, 1)}}})
	}
	return s
}

func TestImportLarge(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	snap := bigSnapshot(t, 10000)
	if err := s.ImportSnapshot(ctx, snap, "big", t0); err != nil {
		t.Fatal(err)
	}
	if got := queryInt(t, s, `SELECT count(*) FROM vehicles`); got != 10000 {
		t.Fatalf("%d vehicles stored, want 10000", got)
	}
	ix, err := s.Lookup(ctx, checks.Evidence{Plate: "浙B04998", Trailer: "浙B04999挂",
		Driver: &checks.PersonEvidence{IDNumber: snap.Persons[500].IDNumber}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ix.Vehicle("浙B04998"); !ok {
		t.Error("tractor not found")
	}
	if tk, ok := ix.TankOn("浙B04999挂"); !ok || tk.ID != "TK-04999" {
		t.Errorf("TankOn = %v %v", tk, ok)
	}
	if _, ok := ix.Person(snap.Persons[500].IDNumber); !ok {
		t.Error("person not found")
	}
}

func TestLookupTwoTanksOnOneVehicle(t *testing.T) {
	// registry.NewIndex keeps the later of two tanks on one vehicle; so
	// must Lookup, whatever the tanks' IDs (positions 2 and 10 also tell a
	// numeric order from a textual one).
	ctx := context.Background()
	s, _ := openTest(t)
	snap := &registry.Snapshot{Vehicles: []registry.Vehicle{{Plate: "浙B6789挂", Kind: registry.KindTrailer}}}
	for i := range 11 {
		snap.Tanks = append(snap.Tanks, registry.Tank{ID: fmt.Sprintf("TK-%02d", i), Vehicle: fmt.Sprintf("浙B%05d", i)})
	}
	snap.Tanks[2] = registry.Tank{ID: "TK-Z", Vehicle: "浙B6789挂"}
	snap.Tanks[10] = registry.Tank{ID: "TK-A", Vehicle: "浙b 6789挂"}
	if err := s.ImportSnapshot(ctx, snap, "test", t0); err != nil {
		t.Fatal(err)
	}
	want, _ := registry.NewIndex(snap, t0).TankOn("浙B6789挂")
	ix, err := s.Lookup(ctx, checks.Evidence{Trailer: "浙B6789挂"})
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := ix.TankOn("浙B6789挂"); !ok || got.ID != want.ID || got.ID != "TK-A" {
		t.Fatalf("TankOn = %v %v, want %s", got, ok, want.ID)
	}
}

// BenchmarkRegistryDeltaDelete times a delta that deletes 300 000 plates
// from a registry of 300 000 vehicles: the writer (which the lanes'
// commits wait for) is held for all of it.
func BenchmarkRegistryDeltaDelete(b *testing.B) {
	ctx := context.Background()
	const n = 300_000
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		s, err := Open(ctx, filepath.Join(dir, "gate.db"))
		if err != nil {
			b.Fatal(err)
		}
		snap := &registry.Snapshot{Version: 1}
		keys := make([]string, n)
		for i := range n {
			keys[i] = registrytest.BigPlate(i)
			snap.Vehicles = append(snap.Vehicles, registrytest.Vehicle(keys[i]))
		}
		if err := s.ImportSnapshot(ctx, snap, "bench", t0); err != nil {
			b.Fatal(err)
		}
		snap = nil
		// Opened again, so that the import's checkpoint is not timed.
		dbPath := filepath.Join(dir, "gate.db")
		s.Close()
		if s, err = Open(ctx, dbPath); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		if err := s.ApplyDelta(ctx, &RegistryDelta{Base: 1, Version: 2, Delete: RegistryKeys{Vehicles: keys}}, "bench", t0); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds()*1000, "ms/delta")
		b.StopTimer()
		if ix, _ := s.Lookup(ctx, checks.Evidence{}); ix == nil {
			b.Fatal("no index")
		} else if _, ok := ix.Vehicle(keys[n-1]); ok {
			b.Fatal("a deleted vehicle is still there")
		}
		s.Close()
		b.StartTimer()
	}
}

// After each delta the index the store swaps in is the one Open would
// build from the tables: deletes, upserts (a person's x in either case, a
// blacklisted plate written differently), a tank deleted from a vehicle
// that has another, a tank upserted onto one; and a refused delta leaves
// both as they were.
func TestApplyDeltaIndexAsOpen(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "gate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	snap := registrytest.Good(t0.Add(-time.Hour))
	snap.Vehicles = append(snap.Vehicles, registrytest.Vehicle("浙B20002"), registrytest.Vehicle("浙B30003"))
	snap.Tanks = append(snap.Tanks, registry.Tank{ID: "TK-2", Vehicle: "浙B10001", Media: []string{"UN1005"}},
		registry.Tank{ID: "TK-3", Vehicle: "浙B20002", Media: []string{"UN1005"}})
	snap.Persons = append(snap.Persons, registry.Person{IDNumber: "99000119800101002X", Name: "x"})
	if err := s.ImportSnapshot(ctx, snap, "test", t0); err != nil {
		t.Fatal(err)
	}
	check := func(what string) {
		t.Helper()
		want, err := loadIndex(ctx, s.reader)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.reg.view.Load().ix; !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: the index swapped in is not the one Open builds:\n got %+v\nwant %+v", what, got, want)
		}
	}
	check("import")
	v := int64(registrytest.HeldVersion)
	for _, d := range []RegistryDelta{
		{Delete: RegistryKeys{Vehicles: []string{"浙b 20002"}, Tanks: []string{"TK-2"}, Persons: []string{"99000119800101002x"}}},
		{Upsert: registry.Snapshot{
			Vehicles:  []registry.Vehicle{registrytest.Vehicle("浙B40004")},
			Tanks:     []registry.Tank{{ID: "TK-1", Vehicle: "浙B30003", Media: []string{"UN1077"}}, {ID: "TK-4", Vehicle: "浙B10001"}},
			Persons:   []registry.Person{{IDNumber: "99000119800101002x", Name: "again"}},
			Waybills:  []registry.Waybill{registrytest.Waybill("WB-9")},
			Blacklist: []registry.BlacklistEntry{{Kind: registry.BlacklistVehicle, Value: "浙b·40004", Reason: "r"}}}},
		{Delete: RegistryKeys{Blacklist: []registry.BlacklistEntry{{Kind: registry.BlacklistVehicle, Value: "浙B40004"},
			{Kind: registry.BlacklistCarrier, Value: "坏运输公司"}}, Waybills: []string{"WB-1", "WB-404"}}},
		{SyncedAt: t0.Add(time.Minute)}, // same version, nothing in it
	} {
		d.Base = v
		if d.SyncedAt.IsZero() {
			v++
		}
		d.Version = v
		if err := s.ApplyDelta(ctx, &d, "test", t0.Add(time.Duration(v)*time.Second)); err != nil {
			t.Fatal(err)
		}
		check(fmt.Sprintf("delta to %d", v))
	}
	bad := RegistryDelta{Base: v, Version: v + 1, Delete: RegistryKeys{Vehicles: []string{"浙B10001"}},
		Upsert: registry.Snapshot{Vehicles: []registry.Vehicle{registrytest.Vehicle("<b>")}}}
	before := s.reg.view.Load().ix
	if err := s.ApplyDelta(ctx, &bad, "test", t0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad delta: %v", err)
	}
	if s.reg.view.Load().ix != before {
		t.Fatal("a refused delta swapped the index")
	}
	check("refused delta")
}

// TestImportJSON: a snapshot's JSON imported as a stream leaves the store
// as ImportSnapshot leaves it (tables, meta, audit) with the index Open
// builds; a bad one changes nothing and names its field, whether the
// registry's rules or the store's own (a person twice, x and X) refuse it.
func TestImportJSON(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	good, err := json.Marshal(f.snap)
	if err != nil {
		t.Fatal(err)
	}
	open := func(b []byte) func() io.Reader { return func() io.Reader { return bytes.NewReader(b) } }
	a, _ := openTest(t)
	if err := a.ImportSnapshot(ctx, f.snap, "good", t0); err != nil {
		t.Fatal(err)
	}
	s, _ := openTest(t)
	if err := s.ImportJSON(ctx, open(good), "good.json", "good", 0, t0); err != nil {
		t.Fatal(err)
	}
	if got, want := registryState(t, s), registryState(t, a); got != want {
		t.Fatalf("ImportJSON left\n%s\nImportSnapshot\n%s", got, want)
	}
	want, err := loadIndex(ctx, s.reader)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.reg.view.Load().ix; !reflect.DeepEqual(got, want) || !reflect.DeepEqual(got, a.reg.view.Load().ix) {
		t.Fatalf("the index swapped in is not the one Open builds:\n got %+v\nwant %+v", got, want)
	}
	before, beforeIx := registryState(t, s), s.reg.view.Load().ix
	tests := []struct {
		name    string
		mutate  func(*registry.Snapshot)
		version int64
		want    string // in the error
	}{
		{"second vehicle has a bad kind", func(s *registry.Snapshot) { s.Vehicles[1].Kind = "bus" }, 0, "vehicles[1].kind"},
		{"same plate twice, written differently", func(s *registry.Snapshot) { s.Vehicles[2].Plate = "浙b 12345" }, 0, "vehicles[2].plate: 浙b 12345 is already vehicles[0]"},
		{"a waybill's good has a bad UN number", func(s *registry.Snapshot) { s.Waybills[0].Goods[0].UN = "1077" }, 0, "waybills[0].goods[0].un"},
		{"same person twice, x and X", func(s *registry.Snapshot) {
			p := s.Persons[0]
			p.IDNumber = strings.ToLower(p.IDNumber)
			s.Persons = append(s.Persons, p)
		}, 0, "persons[3].id_number"},
		{"another version than its chunks", func(s *registry.Snapshot) { s.Version = 7 }, 8, "version: the snapshot says 7, not 8"},
		{"an old version", func(s *registry.Snapshot) { s.Version = 1 }, 0, "version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := *f.snap
			bad.Vehicles = append([]registry.Vehicle(nil), f.snap.Vehicles...)
			bad.Persons = append([]registry.Person(nil), f.snap.Persons...)
			bad.Waybills = []registry.Waybill{f.snap.Waybills[0]}
			bad.Waybills[0].Goods = []registry.Good{f.snap.Waybills[0].Goods[0]}
			tt.mutate(&bad)
			b, err := json.Marshal(&bad)
			if err != nil {
				t.Fatal(err)
			}
			err = s.ImportJSON(ctx, open(b), "bad.json", "bad", tt.version, t0.Add(time.Hour))
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ImportJSON = %v, want ErrInvalid naming %s", err, tt.want)
			}
			if after := registryState(t, s); after != before {
				t.Fatalf("a failed import changed the store:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			if s.reg.view.Load().ix != beforeIx {
				t.Fatal("a failed import swapped the index")
			}
		})
	}
	// JSON that changes between the two passes is refused.
	n := 0
	changing := func() io.Reader {
		n++
		if n == 1 {
			return bytes.NewReader(good)
		}
		return strings.NewReader(`{"vehicles":[]}`)
	}
	if err := s.ImportJSON(ctx, changing, "c.json", "c", 0, t0.Add(time.Hour)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("JSON changed between the passes: %v", err)
	}
	if after := registryState(t, s); after != before {
		t.Fatal("a failed import changed the store")
	}
	// JSON that breaks on the second reading (a read error, or changed)
	// fails the import after some records were written: none is kept.
	n = 0
	breaking := func() io.Reader {
		n++
		if n == 1 {
			return bytes.NewReader(good)
		}
		return io.MultiReader(bytes.NewReader(good[:len(good)/2]), iotest.ErrReader(errors.New("disk gone")))
	}
	if err := s.ImportJSON(ctx, breaking, "b.json", "b", 0, t0.Add(time.Hour)); err == nil || !strings.Contains(err.Error(), "disk gone") {
		t.Fatalf("JSON broken on the second reading: %v", err)
	}
	if after := registryState(t, s); after != before {
		t.Fatal("a failed import changed the store")
	}
	if s.reg.view.Load().ix != beforeIx {
		t.Fatal("a failed import swapped the index")
	}
}

// A delta applied by a store whose index is older than the tables (another
// process imported a registry since it loaded them) is applied to the
// registry the tables hold, not to the one in memory.
func TestApplyDeltaAfterAnotherProcessImported(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "gate.db")
	gate, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer gate.Close()
	snap := registrytest.Good(t0.Add(-time.Hour))
	if err := gate.ImportSnapshot(ctx, snap, "test", t0); err != nil {
		t.Fatal(err)
	}
	// `hazgate registry import`, in another process, adds a vehicle.
	cli, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	next := registrytest.Good(t0.Add(-time.Hour))
	next.Version = snap.Version + 1
	next.Vehicles = append(next.Vehicles, registrytest.Vehicle("浙B20002"))
	if err := cli.ImportSnapshot(ctx, next, "cli", t0); err != nil {
		t.Fatal(err)
	}
	cli.Close()
	// The gate, before it has looked again, takes a delta on that version.
	d := RegistryDelta{Base: next.Version, Version: next.Version + 1, Upsert: registry.Snapshot{Vehicles: []registry.Vehicle{registrytest.Vehicle("浙B30003")}}}
	if err := gate.ApplyDelta(ctx, &d, "test", t0); err != nil {
		t.Fatal(err)
	}
	want, err := loadIndex(ctx, gate.reader)
	if err != nil {
		t.Fatal(err)
	}
	got := gate.reg.view.Load().ix
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("the index is not the registry on disk:\n got %+v\nwant %+v", got, want)
	}
	if _, ok := got.Vehicle("浙B20002"); !ok {
		t.Fatal("the vehicle the other process imported is missing from the index")
	}
}
