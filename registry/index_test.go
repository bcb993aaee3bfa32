package registry

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"
)

// TestIndexHoldsCompactRecords: the index gives back each record as
// decoded from its JSON, whatever its strings hold (field names, control
// bytes, quotes and colons), and holds it shorter than its JSON.
func TestIndexHoldsCompactRecords(t *testing.T) {
	tricky := []string{`"plate":`, "\x01!", "\x01", `\"kind\":`, `x":"y`, `":`, `"`, `\`, "<b>&", "浙B·12345", "\u2028"}
	s := &Snapshot{Version: 3}
	for i, str := range tricky {
		plate := "浙B1000" + string(rune('0'+i))
		s.Vehicles = append(s.Vehicles, Vehicle{Plate: plate, Kind: KindTractor, Carrier: str, PermitNo: str + str,
			PermitClasses: []string{str}, LicenceValidUntil: Date(2027, 1, 31), RatedLoadKg: 1.5})
		s.Tanks = append(s.Tanks, Tank{ID: str + "id", Vehicle: plate, Media: []string{str}})
		s.Persons = append(s.Persons, Person{IDNumber: "11010519800101001" + string(rune('0'+i)), Name: str, Address: str,
			Certificates: []Certificate{{Role: RoleDriver, Number: str, ValidUntil: Date(2028, 1, 1)}}})
		s.Waybills = append(s.Waybills, Waybill{Number: "WB" + str, Vehicle: plate, Driver: str,
			Goods: []Good{{UN: "UN1077", Name: str, Class: "2.1", QuantityKg: 3}}})
	}
	ix := NewIndex(s, time.Unix(0, 0))
	held, plain := 0, 0
	for i := range tricky {
		check := func(what string, got, rec any, ok bool) {
			t.Helper()
			var want = reflect.New(reflect.TypeOf(rec))
			b, _ := json.Marshal(rec)
			plain += len(b)
			if err := json.Unmarshal(b, want.Interface()); err != nil {
				t.Fatal(err)
			}
			if !ok || !reflect.DeepEqual(got, want.Elem().Interface()) {
				t.Errorf("%s %d: got %+v %v, want %+v", what, i, got, ok, want.Elem().Interface())
			}
		}
		v, ok := ix.Vehicle(s.Vehicles[i].Plate)
		check("vehicle", v, s.Vehicles[i], ok)
		tk, ok := ix.TankOn(s.Tanks[i].Vehicle)
		check("tank", tk, s.Tanks[i], ok)
		p, ok := ix.Person(s.Persons[i].IDNumber)
		check("person", p, s.Persons[i], ok)
		w, ok := ix.Waybill(s.Waybills[i].Number)
		check("waybill", w, s.Waybills[i], ok)
	}
	for _, m := range []map[string]string{ix.vehicles.docs, ix.tanks.docs, ix.persons.docs, ix.waybills.docs} {
		for _, doc := range m {
			held += len(doc)
		}
	}
	if len(ix.vehicles.odd)+len(ix.tanks.odd)+len(ix.persons.odd)+len(ix.waybills.odd) != 0 {
		t.Error("records with JSON are held as they are, not encoded")
	}
	if held >= plain/2 {
		t.Errorf("the index holds %d bytes for %d of JSON", held, plain)
	}
}

// TestIndexRecordWithoutJSON: a record that has no JSON (a NaN, in a
// snapshot built by hand: Validate refuses it) is still found, as it is,
// and a later record with its key replaces it, either way round.
func TestIndexRecordWithoutJSON(t *testing.T) {
	nan := Vehicle{Plate: "浙B10001", Kind: KindTractor, RatedLoadKg: math.NaN()}
	ok := Vehicle{Plate: "浙b 10001", Kind: KindRigid, RatedLoadKg: 1}
	ix := NewIndex(&Snapshot{Vehicles: []Vehicle{nan}}, time.Time{})
	if v, found := ix.Vehicle("浙B10001"); !found || !math.IsNaN(v.RatedLoadKg) {
		t.Fatalf("the NaN vehicle: %+v %v", v, found)
	}
	if v, found := NewIndex(&Snapshot{Vehicles: []Vehicle{nan, ok}}, time.Time{}).Vehicle("浙B10001"); !found || v.Kind != KindRigid {
		t.Fatalf("a later vehicle does not replace the NaN one: %+v %v", v, found)
	}
	if v, found := NewIndex(&Snapshot{Vehicles: []Vehicle{ok, nan}}, time.Time{}).Vehicle("浙B10001"); !found || v.Kind != KindTractor {
		t.Fatalf("a later NaN vehicle does not replace the one before: %+v %v", v, found)
	}
	if _, found := ix.Apply(Change{DeleteVehicles: []string{"浙B 10001"}}).Vehicle("浙B10001"); found {
		t.Fatal("a deleted NaN vehicle is still found")
	}
}

// BenchmarkIndexLookup: what a lookup costs now that the index decodes the
// record from its own encoding (codec.go): a vehicle and a person.
func BenchmarkIndexLookup(b *testing.B) {
	p := Person{IDNumber: "110105198001010010", Name: "测试人员", Address: "浙江省宁波市镇海区测试路1号",
		Certificates: []Certificate{{Role: RoleDriver, Number: "DG-0000001", ValidUntil: Date(2028, 5, 1)}}}
	v := Vehicle{Plate: "浙B12345", Kind: KindTractor, Carrier: "宁波危化运输有限公司0001", LicenceValidUntil: Date(2028, 1, 31),
		PermitNo: "330200100001", PermitValidUntil: Date(2028, 6, 30), PermitClasses: []string{"2"},
		InspectionValidUntil: Date(2027, 12, 31), RatedLoadKg: 40000}
	ix := NewIndex(&Snapshot{Vehicles: []Vehicle{v}, Persons: []Person{p}}, time.Time{})
	for b.Loop() {
		if _, ok := ix.Vehicle("浙B12345"); !ok {
			b.Fatal("no vehicle")
		}
		if _, ok := ix.Person("110105198001010010"); !ok {
			b.Fatal("no person")
		}
	}
}
