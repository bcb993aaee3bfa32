package registry_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/registry/registrytest"
)

// TestCodecFixtures: every record of the registrytest fixtures (the good
// registry, every bad case's, a generated big one) comes back from the
// index's encoding, and from an index lookup, exactly as from its JSON, the
// form the index held before.
func TestCodecFixtures(t *testing.T) {
	snaps := map[string]*registry.Snapshot{"good": registrytest.Good(time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC))}
	for _, c := range registrytest.Cases() {
		if s := c.Import(registrytest.Good(time.Now())); s != nil {
			snaps[c.Name] = s
		}
	}
	var big bytes.Buffer
	if _, err := registrytest.WriteBig(&big, 200000, 7, time.Now()); err != nil {
		t.Fatal(err)
	}
	s, err := registry.DecodeJSON(&big, "big.json")
	if err != nil {
		t.Fatal(err)
	}
	snaps["big"] = s

	checked := 0
	for name, s := range snaps {
		ix := registry.NewIndex(s, time.Time{})
		noJSON := 0
		check := func(what, key string, rec, got any, found bool, trip func() (any, bool)) {
			t.Helper()
			b, err := json.Marshal(rec)
			if err != nil {
				noJSON++ // a NaN: held as it is
				return
			}
			want := reflect.New(reflect.TypeOf(rec))
			if err := json.Unmarshal(b, want.Interface()); err != nil {
				noJSON++ // a date past 9999: no JSON that reads back
				return
			}
			if rt, ok := trip(); !ok || !reflect.DeepEqual(rt, want.Elem().Interface()) {
				t.Errorf("%s: %s %q: the codec gives %#v %v, its JSON %#v", name, what, key, rt, ok, want.Elem().Interface())
			}
			if found && !reflect.DeepEqual(got, want.Elem().Interface()) {
				t.Errorf("%s: %s %q: the index gives %#v, its JSON %#v", name, what, key, got, want.Elem().Interface())
			}
			checked++
		}
		last := func(n, i int, same func(j int) bool) bool { // no later record has the same key
			for j := i + 1; j < n; j++ {
				if same(j) {
					return false
				}
			}
			return true
		}
		for i, v := range s.Vehicles {
			got, found := ix.Vehicle(v.Plate)
			found = found && last(len(s.Vehicles), i, func(j int) bool {
				return registry.NormalizePlate(s.Vehicles[j].Plate) == registry.NormalizePlate(v.Plate)
			})
			check("vehicle", v.Plate, v, got, found, func() (any, bool) { return registry.CodecRoundTrip(jsonTrip(t, v)) })
		}
		for i, tk := range s.Tanks {
			got, found := ix.TankOn(tk.Vehicle)
			found = found && last(len(s.Tanks), i, func(j int) bool {
				return registry.NormalizePlate(s.Tanks[j].Vehicle) == registry.NormalizePlate(tk.Vehicle)
			})
			check("tank", tk.ID, tk, got, found, func() (any, bool) { return registry.CodecRoundTrip(jsonTrip(t, tk)) })
		}
		for i, p := range s.Persons {
			got, found := ix.Person(p.IDNumber)
			found = found && last(len(s.Persons), i, func(j int) bool { return s.Persons[j].IDNumber == p.IDNumber })
			check("person", p.IDNumber, p, got, found, func() (any, bool) { return registry.CodecRoundTrip(jsonTrip(t, p)) })
		}
		for i, w := range s.Waybills {
			got, found := ix.Waybill(w.Number)
			found = found && last(len(s.Waybills), i, func(j int) bool { return s.Waybills[j].Number == w.Number })
			check("waybill", w.Number, w, got, found, func() (any, bool) { return registry.CodecRoundTrip(jsonTrip(t, w)) })
		}
		if held := registry.HeldAsIs(ix); held > noJSON {
			t.Errorf("%s: %d records held as they are, not encoded (%d have no JSON)", name, held, noJSON)
		}
	}
	if checked < 300 {
		t.Fatalf("only %d records checked", checked)
	}
	t.Logf("%d records of %d registries", checked, len(snaps))
}

func jsonTrip[T any](t *testing.T, rec T) T {
	var v T
	b, err := json.Marshal(rec)
	if err == nil {
		err = json.Unmarshal(b, &v)
	}
	if err != nil {
		t.Fatalf("%+v: %v", rec, err)
	}
	return v
}
