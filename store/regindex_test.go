package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/registry"
)

func TestRegistryIndexSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	f := newFixture(t)
	snap := *f.snap
	// Instants the file keeps to the second, and a sync time it keeps to
	// the nanosecond: the index of the import must be the one of the file.
	w := snap.Waybills[0]
	w.ValidUntil = registry.Instant(t0.Add(15*time.Hour + 123456789))
	snap.Waybills = []registry.Waybill{w}
	if err := s.ImportSnapshot(ctx, &snap, "test", t0.Add(987654321)); err != nil {
		t.Fatal(err)
	}
	before, _ := s.Lookup(ctx, checks.Evidence{})
	s.Close()

	s, err := Open(ctx, path, WithClock(clock.NewFake(t0)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	after, err := s.Lookup(ctx, checks.Evidence{})
	if err != nil {
		t.Fatal(err)
	}
	sameAnswers(t, after, before, []string{"浙B12345", "浙B6789挂", "沪A00001", "京A1"}, []string{f.driver, f.escort, f.other},
		[][2]string{{registry.BlacklistVehicle, "沪A00001"}, {registry.BlacklistPerson, f.other}, {registry.BlacklistCarrier, "黑名单物流"}})
	wb, _ := before.Waybill("YD3302002603150001")
	if wa, ok := after.Waybill("YD3302002603150001"); !ok || wa.Driver != f.driver || len(wa.Goods) != 1 ||
		!wa.ValidUntil.End(time.UTC).Equal(wb.ValidUntil.End(time.UTC)) {
		t.Fatalf("waybill after reopen = %+v %v, before %+v", wa, ok, wb)
	}
	if m, _ := s.RegistryMeta(ctx); m != before.Meta() || m.Version != 1 {
		t.Fatalf("RegistryMeta after reopen = %+v, want %+v", m, before.Meta())
	}
}

func TestFailedImportKeepsIndex(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	f := newFixture(t)
	if err := s.ImportSnapshot(ctx, f.snap, "good", t0); err != nil {
		t.Fatal(err)
	}
	good, _ := s.Lookup(ctx, checks.Evidence{})

	// Refused inside the transaction, after the tables were rewritten.
	bad := *f.snap
	bad.Vehicles = bad.Vehicles[:1]
	p := f.snap.Persons[0]
	p.IDNumber = f.driver[:17] + "x"
	bad.Persons = append(append([]registry.Person(nil), f.snap.Persons...), p)
	if err := s.ImportSnapshot(ctx, &bad, "bad", t0.Add(time.Hour)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("ImportSnapshot = %v, want ErrInvalid", err)
	}
	if ix, _ := s.Lookup(ctx, checks.Evidence{}); ix != good {
		t.Fatal("a failed import swapped the index")
	}

	// A change that fails after writing, through the helper deltas use.
	boom := errors.New("boom")
	err := s.swapIndex(ctx, "test change", func(tx *sql.Tx, cur *registry.Index) (*registry.Index, error) {
		if cur != good {
			t.Error("swapIndex did not hand over the current index")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM vehicles`); err != nil {
			return nil, err
		}
		return nil, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("swapIndex = %v, want boom", err)
	}
	if ix, _ := s.Lookup(ctx, checks.Evidence{}); ix != good {
		t.Fatal("a failed change swapped the index")
	}
	if n := queryInt(t, s, `SELECT count(*) FROM vehicles`); n != int64(len(f.snap.Vehicles)) {
		t.Fatalf("%d vehicles after a failed change, want %d", n, len(f.snap.Vehicles))
	}

	// A successful one swaps only after its commit.
	err = s.swapIndex(ctx, "test change", func(tx *sql.Tx, cur *registry.Index) (*registry.Index, error) {
		if _, err := tx.ExecContext(ctx, `DELETE FROM vehicles WHERE plate = '沪A00001'`); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE registry_meta SET version = version + 1`); err != nil {
			return nil, err
		}
		if ix, _ := s.Lookup(ctx, checks.Evidence{}); ix != good {
			t.Error("swapped before the commit")
		}
		return loadIndex(ctx, tx)
	})
	if err != nil {
		t.Fatal(err)
	}
	ix, _ := s.Lookup(ctx, checks.Evidence{})
	if _, ok := ix.Vehicle("沪A00001"); ok || ix.Meta().Version != 2 {
		t.Fatalf("after the change: vehicle still there (%v) or version %d", ok, ix.Meta().Version)
	}
}

// An import by another process (hazgate registry import -db on a running
// gate's file) reaches the running store's index.
func TestRegistryFromAnotherWriter(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	other, err := Open(ctx, path, WithClock(clock.NewFake(t0)))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	f := newFixture(t)
	if err := other.ImportSnapshot(ctx, f.snap, "cli", t0); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * registryPoll)
	for {
		ix, _ := s.Lookup(ctx, checks.Evidence{})
		if _, ok := ix.Vehicle("浙B12345"); ok && ix.Meta().Version == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the other writer's import never reached the index")
		}
		time.Sleep(registryPoll / 10)
	}
	if reloaded, err := s.reloadIfChanged(ctx); reloaded || err != nil {
		t.Fatalf("reloadIfChanged with nothing new = %v, %v", reloaded, err)
	}
	// Its own imports are not reloaded a second time either.
	if err := s.ImportSnapshot(ctx, f.snap, "self", t0); err != nil {
		t.Fatal(err)
	}
	if reloaded, err := s.reloadIfChanged(ctx); reloaded || err != nil {
		t.Fatalf("reloadIfChanged after its own import = %v, %v", reloaded, err)
	}
}

// fleetSnapshot is a registry the size of a big park's: n/2 tractors and
// n/2 trailers with a tank each, a driver and an escort (with their ID
// card's fields) and a waybill per tractor: n vehicles, n persons, n/2
// waybills.
func fleetSnapshot(t testing.TB, n int) *registry.Snapshot {
	s := &registry.Snapshot{SyncedAt: registry.Instant(t0)}
	far := registry.Date(2027, 6, 30)
	for i := range n / 2 {
		tractor, trailer := fmt.Sprintf("浙B%05d", i), fmt.Sprintf("浙B%05d挂", i)
		carrier := fmt.Sprintf("宁波危货运输有限公司%03d", i%200)
		v := registry.Vehicle{Plate: tractor, Kind: registry.KindTractor, Carrier: carrier, LicenceValidUntil: far,
			PermitNo: fmt.Sprintf("3302%08d", 2*i), PermitValidUntil: far, PermitClasses: []string{"2", "3"},
			InspectionValidUntil: far, RatedLoadKg: 40000}
		s.Vehicles = append(s.Vehicles, v)
		v.Plate, v.Kind, v.PermitNo, v.RatedLoadKg = trailer, registry.KindTrailer, fmt.Sprintf("3302%08d", 2*i+1), 25000
		s.Vehicles = append(s.Vehicles, v)
		s.Tanks = append(s.Tanks, registry.Tank{ID: fmt.Sprintf("TK-%06d", i), Vehicle: trailer, InspectionValidUntil: far,
			Media: []string{"UN1077", "UN1075", "UN1978"}})
		var ids [2]string
		for j, role := range []registry.Role{registry.RoleDriver, registry.RoleEscort} {
			ids[j] = synthID(t, fmt.Sprintf("330203198%d%07d", j, i))
			s.Persons = append(s.Persons, registry.Person{IDNumber: ids[j], Name: "测试人员", Gender: "男", Nation: "汉",
				Birth: registry.Date(1980, 1, 1), Address: "浙江省宁波市镇海区蛟川街道某某路123号", Authority: "宁波市公安局镇海分局",
				CardValidFrom: registry.Date(2016, 1, 1), CardValidUntil: registry.Date(2036, 1, 1),
				Certificates: []registry.Certificate{{Role: role, Number: fmt.Sprintf("3302%08d", 2*i+j), ValidUntil: far}}})
		}
		s.Waybills = append(s.Waybills, registry.Waybill{Number: fmt.Sprintf("YD33020026031%05d", i), Vehicle: tractor, Trailer: trailer,
			Driver: ids[0], Escort: ids[1], Carrier: carrier,
			ValidFrom: registry.Instant(t0.Add(-time.Hour)), ValidUntil: registry.Instant(t0.Add(23 * time.Hour)),
			Goods: []registry.Good{{UN: "UN1077", Name: "丙烯", Class: "2.1", QuantityKg: 24000}}})
	}
	return s
}

// BenchmarkRegistryMemory imports a 10 000-vehicle, 10 000-person,
// 5 000-waybill registry (5 000 tanks), and reports what its in-memory index
// costs: the heap that stays live once it is loaded (index-MiB) and the time
// to load it from the tables, as Open does (ns/op). Run it with
// -benchtime 1x.
func BenchmarkRegistryMemory(b *testing.B) {
	ctx := context.Background()
	s, _ := openTest(b)
	snap := fleetSnapshot(b, 10000)
	start := time.Now()
	if err := s.ImportSnapshot(ctx, snap, "big", t0); err != nil {
		b.Fatal(err)
	}
	b.Logf("import of %d vehicles, %d tanks, %d persons, %d waybills: %v", len(snap.Vehicles), len(snap.Tanks),
		len(snap.Persons), len(snap.Waybills), time.Since(start).Round(time.Millisecond))
	snap = nil
	// The store's own index, and the one loaded here, are both live below:
	// measure the one loaded here.
	var v *registryView
	var m0, m1 runtime.MemStats
	b.ResetTimer()
	for range b.N {
		v = nil
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&m0)
		b.StartTimer()
		var err error
		if v, err = loadView(ctx, s.reader); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&m1)
	mib := float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc)) / (1 << 20)
	b.ReportMetric(mib, "index-MiB")
	b.Logf("in-memory index: %.1f MiB live heap, %d objects", mib, int64(m1.HeapObjects)-int64(m0.HeapObjects))
	if _, ok := v.ix.Vehicle("浙B04999挂"); !ok {
		b.Fatal("vehicle missing from the index")
	}
	if _, ok := v.ix.Waybill("YD33020026031" + "04999"); !ok {
		b.Fatal("waybill missing from the index")
	}
	runtime.KeepAlive(v)
}
