package registry

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// jsonTrip is what the index gave back before it held records in its own
// form: the record decoded from its JSON.
func jsonTrip[T any](t testing.TB, rec T) T {
	t.Helper()
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatalf("marshal %+v: %v", rec, err)
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
	return v
}

// checkCodec: rec, as the JSON round trip gives it, encodes, and decodes
// to the very same (reflect.DeepEqual: locations, nil and empty slices).
func checkCodec[T any](t testing.TB, what string, rec T) {
	t.Helper()
	want := jsonTrip(t, rec)
	enc, ok := encodeRecord(&want)
	if !ok {
		t.Fatalf("%s: %+v does not encode", what, want)
	}
	got, ok := decodeRecord[T](enc)
	if !ok {
		t.Fatalf("%s: %q does not decode", what, enc)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: decoded\n %#v\nwant (the JSON round trip)\n %#v", what, got, want)
	}
}

// TestCodecEdgeCases: hand-made records at the edges of the form decode to
// what the JSON round trip gives: empty slices and nil ones, zero
// validities, dates and instants at several offsets (the process's own zone
// among them), CJK and odd strings, negative zero and huge floats.
func TestCodecEdgeCases(t *testing.T) {
	east8 := time.FixedZone("", 8*3600)
	half := time.FixedZone("", -(9*3600 + 30*60)) // not a whole hour
	_, localOff := time.Date(2027, 6, 1, 12, 0, 0, 0, time.Local).Zone()
	inLocal := time.Date(2027, 6, 1, 12, 0, 0, 0, time.FixedZone("", localOff+3600)) // another offset
	validities := []Validity{
		{},
		Date(2027, 1, 31),
		Date(1, 1, 1),
		Date(9999, 12, 31),
		Instant(time.Date(2027, 3, 4, 5, 6, 7, 0, time.UTC)),
		Instant(time.Date(2027, 3, 4, 5, 6, 7, 891, east8)), // nanoseconds: the JSON drops them
		Instant(time.Date(1969, 12, 31, 23, 59, 59, 0, half)),
		Instant(time.Date(2027, 6, 1, 12, 0, 0, 0, time.Local)),
		Instant(inLocal),
		Instant(time.Now()), // a monotonic reading: the JSON drops it
	}
	for _, s := range []string{"长期", "2027-01-31", "20270131", "2027-01-31T08:00:00+08:00", "2027-01-31 08:00:00Z", "2027-01-31T08:00-05:30"} {
		v, err := ParseValidity(s)
		if err != nil {
			t.Fatal(err)
		}
		validities = append(validities, v)
	}
	strs := []string{"", "浙B·12345挂", "危险化学品运输有限公司", "\x01\x00\xff", `"\`, strings.Repeat("长", 300), "\u2028"}
	for i, v := range validities {
		s := strs[i%len(strs)]
		for _, classes := range [][]string{nil, {}, {"2.1", s}} {
			checkCodec(t, "vehicle", Vehicle{Plate: "浙B1234" + s, Kind: s, Carrier: s, LicenceValidUntil: v, PermitNo: s,
				PermitValidUntil: v, PermitClasses: classes, InspectionValidUntil: v, RatedLoadKg: 40000, PlateColor: s,
				CurbWeightKg: math.Copysign(0, -1), MaxGrossKg: math.MaxFloat64, Emergency: s})
			checkCodec(t, "tank", Tank{ID: s, Vehicle: s, InspectionValidUntil: v, Media: classes})
		}
		for _, certs := range [][]Certificate{nil, {}, {{Role: RoleEscort, Number: s, ValidFrom: v, ValidUntil: v}, {}}} {
			checkCodec(t, "person", Person{IDNumber: s, Name: s, Gender: "女", Nation: "汉", Birth: v, Address: s, Authority: s,
				CardValidFrom: v, CardValidUntil: v, Certificates: certs})
		}
		for _, goods := range [][]Good{nil, {}, {{UN: "UN1077", Name: s, Class: "2.1", QuantityKg: 0.1}, {QuantityKg: -1e-300}}} {
			checkCodec(t, "waybill", Waybill{Number: s, Vehicle: s, Trailer: s, Driver: s, Escort: s, Carrier: s,
				ValidFrom: v, ValidUntil: v, Goods: goods, Status: s})
		}
	}
}

// TestCodecRefuses: what the form cannot give back exactly is not encoded
// (the index then holds the record as it is), and what is not a record's
// encoding does not decode.
func TestCodecRefuses(t *testing.T) {
	named := time.FixedZone("CST", 8*3600)
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		if _, ok := encodeRecord(&Tank{InspectionValidUntil: Instant(time.Date(2027, 1, 1, 0, 0, 0, 0, loc))}); ok {
			t.Error("a time in a zone loaded by name was encoded")
		}
	}
	if _, ok := encodeRecord(&Tank{InspectionValidUntil: Instant(time.Now())}); ok {
		t.Error("a time with a monotonic reading was encoded")
	}
	// A fixed zone with a name is given back.
	want := Tank{ID: "t", InspectionValidUntil: Instant(time.Date(2027, 1, 1, 0, 0, 0, 5, named))}
	enc, ok := encodeRecord(&want)
	if got, ok2 := decodeRecord[Tank](enc); !ok || !ok2 || !reflect.DeepEqual(got, want) {
		t.Errorf("a named fixed zone: %#v, want %#v", got, want)
	}
	w := Waybill{Number: "YD1", Goods: []Good{{UN: "UN1077"}}}
	enc, _ = encodeRecord(&w)
	for _, bad := range []string{enc[:len(enc)-1], enc + "x", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", ""} {
		if got, ok := decodeRecord[Waybill](bad); ok {
			t.Errorf("%q decoded to %+v", bad, got)
		}
	}
	if _, ok := decodeRecord[Person](enc); ok {
		t.Error("a waybill's encoding decoded as a person")
	}
}

// TestCodecEncodesEveryField guards the form against a field added to a
// record type later: for every field, at any depth (a certificate's, a
// good's), a record with only that field set must come back with it set.
// A field the codec does not write comes back zero, and this fails naming
// it; a field of a kind this test cannot set fails too, so that the test
// is taught it along with the codec.
func TestCodecEncodesEveryField(t *testing.T) {
	for _, rec := range []any{Vehicle{}, Tank{}, Person{}, Waybill{}} {
		typ := reflect.TypeOf(rec)
		for _, v := range oneFieldSet(t, typ, typ.Name()) {
			var got any
			var ok bool
			switch r := v.val.Addr().Interface().(type) {
			case *Vehicle:
				got, ok = roundTrip(r)
			case *Tank:
				got, ok = roundTrip(r)
			case *Person:
				got, ok = roundTrip(r)
			case *Waybill:
				got, ok = roundTrip(r)
			}
			if !ok || !reflect.DeepEqual(got, v.val.Interface()) {
				t.Errorf("%s is not encoded: %#v comes back as %#v", v.path, v.val.Interface(), got)
			}
		}
	}
}

func roundTrip[T any](rec *T) (T, bool) {
	enc, ok := encodeRecord(rec)
	if !ok {
		var zero T
		return zero, false
	}
	return decodeRecord[T](enc)
}

type fieldSet struct {
	path string
	val  reflect.Value // addressable
}

// oneFieldSet gives values of typ, each with one field (leaf) set to a
// value that is not its zero.
func oneFieldSet(t *testing.T, typ reflect.Type, path string) []fieldSet {
	t.Helper()
	one := func(x any) []fieldSet {
		v := reflect.New(typ).Elem()
		v.Set(reflect.ValueOf(x).Convert(typ))
		return []fieldSet{{path, v}}
	}
	if typ == reflect.TypeOf(Validity{}) {
		var out []fieldSet
		for _, x := range []Validity{Date(2027, 1, 31), Instant(time.Date(2027, 1, 31, 8, 0, 0, 0, time.FixedZone("", 8*3600))),
			{set: true}, {dateOnly: true}} {
			out = append(out, one(x)...)
		}
		return out
	}
	switch typ.Kind() {
	case reflect.String:
		return one("值")
	case reflect.Float64, reflect.Float32:
		return one(1.5)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return one(7)
	case reflect.Bool:
		return one(true)
	case reflect.Slice:
		empty := reflect.New(typ).Elem()
		empty.Set(reflect.MakeSlice(typ, 0, 0))
		out := []fieldSet{{path + " (empty, not nil)", empty}}
		for _, e := range oneFieldSet(t, typ.Elem(), path+"[0]") {
			s := reflect.New(typ).Elem()
			s.Set(reflect.Append(reflect.MakeSlice(typ, 0, 1), e.val))
			out = append(out, fieldSet{e.path, s})
		}
		return out
	case reflect.Struct:
		var out []fieldSet
		for i := range typ.NumField() {
			f := typ.Field(i)
			if !f.IsExported() {
				t.Errorf("%s.%s is unexported: the codec guard cannot set it", path, f.Name)
				continue
			}
			for _, fv := range oneFieldSet(t, f.Type, path+"."+f.Name) {
				v := reflect.New(typ).Elem()
				v.Field(i).Set(fv.val)
				out = append(out, fieldSet{fv.path, v})
			}
		}
		return out
	}
	t.Errorf("%s is a %s: teach the codec (codec.go) and this guard its kind", path, typ)
	return nil
}

// FuzzCodec: records made of any strings, floats and times come back from
// their encoding as they went in, and no bytes make the decoder panic or
// give a record of what it did not write whole.
func FuzzCodec(f *testing.F) {
	f.Add("浙B12345", "2.1", 40000.0, int64(1800000000), uint32(0), int32(8*3600), uint8(3), "")
	f.Add("", "", math.Copysign(0, -1), int64(-62135596800), uint32(999999999), int32(-34200), uint8(0xff), "\x00\x01")
	f.Fuzz(func(t *testing.T, s, class string, kg float64, sec int64, nsec uint32, offset int32, shape uint8, junk string) {
		if math.IsNaN(kg) {
			kg = 0 // NaN never reaches the codec (it has no JSON); and NaN != NaN
		}
		var locs = []*time.Location{time.UTC, time.Local, time.FixedZone("", int(offset%(18*3600))), time.FixedZone(s, int(offset))}
		tm := time.Unix(sec%(1<<40), int64(nsec%1e9)).In(locs[shape%4])
		v := Validity{t: tm, set: shape&4 != 0, dateOnly: shape&8 != 0}
		if shape&16 != 0 {
			v = Validity{}
		}
		var classes []string
		if shape&32 != 0 {
			classes = []string{}
		}
		if shape&64 != 0 {
			classes = append(classes, class, s)
		}
		var goods []Good
		var certs []Certificate
		if shape&128 != 0 {
			goods = []Good{{UN: class, Name: s, QuantityKg: kg}, {}}
			certs = []Certificate{{Role: Role(class), Number: s, ValidFrom: v}, {}}
		} else if shape&32 != 0 {
			goods, certs = []Good{}, []Certificate{}
		}
		fuzzTrip(t, Vehicle{Plate: s, Kind: class, PermitClasses: classes, LicenceValidUntil: v, RatedLoadKg: kg, MaxGrossKg: -kg, Emergency: s})
		fuzzTrip(t, Tank{ID: class, Vehicle: s, InspectionValidUntil: v, Media: classes})
		fuzzTrip(t, Person{IDNumber: s, Name: class, Birth: v, CardValidUntil: v, Certificates: certs})
		fuzzTrip(t, Waybill{Number: s, Status: class, ValidFrom: v, Goods: goods})
		// Arbitrary bytes: no panic; what decodes is a record whose
		// encoding decodes to itself (its encoding is compared, not the
		// record: the bytes may hold a NaN).
		for _, doc := range []string{junk, s + junk} {
			if w, ok := decodeRecord[Waybill](doc); ok {
				if enc, ok := encodeRecord(&w); ok {
					w2, ok2 := decodeRecord[Waybill](enc)
					if enc2, _ := encodeRecord(&w2); !ok2 || enc2 != enc {
						t.Errorf("%q decoded to %#v, whose encoding %q decodes to %#v", doc, w, enc, w2)
					}
				}
			}
			decodeRecord[Vehicle](doc)
			decodeRecord[Person](doc)
			decodeRecord[Tank](doc)
		}
	})
}

func fuzzTrip[T any](t *testing.T, rec T) {
	t.Helper()
	enc, ok := encodeRecord(&rec)
	if !ok {
		t.Fatalf("%#v does not encode", rec)
	}
	got, ok := decodeRecord[T](enc)
	if !ok || !reflect.DeepEqual(got, rec) {
		t.Fatalf("decoded %#v, want %#v", got, rec)
	}
	// And as the index holds it: the JSON round trip first, when the
	// record has JSON (a time past year 9999 has none).
	if b, err := json.Marshal(rec); err == nil {
		var v T
		if json.Unmarshal(b, &v) == nil {
			checkCodec(t, "json", rec)
		}
	}
}

// TestIndexLookupsOwnTheirSlices: a record a lookup gives is its own: what
// its caller does to its slices is not seen by the next lookup, whether the
// index holds it encoded or as it is (a NaN).
func TestIndexLookupsOwnTheirSlices(t *testing.T) {
	s := &Snapshot{
		Vehicles: []Vehicle{{Plate: "浙B10001", Kind: KindTractor, PermitClasses: []string{"2"}},
			{Plate: "浙B10002", Kind: KindTractor, PermitClasses: []string{"2"}, RatedLoadKg: math.NaN()}},
		Tanks:    []Tank{{ID: "T1", Vehicle: "浙B10001", Media: []string{"UN1077"}}},
		Persons:  []Person{{IDNumber: "110105198001010010", Certificates: []Certificate{{Role: RoleDriver, Number: "DG-1"}}}},
		Waybills: []Waybill{{Number: "WB-1", Goods: []Good{{UN: "UN1077", QuantityKg: 1}}}},
	}
	ix := NewIndex(s, time.Time{})
	for range 2 {
		for _, plate := range []string{"浙B10001", "浙B10002"} {
			v, _ := ix.Vehicle(plate)
			if len(v.PermitClasses) != 1 || v.PermitClasses[0] != "2" {
				t.Fatalf("%s: permit classes %q", plate, v.PermitClasses)
			}
			v.PermitClasses[0] = "9"
		}
		tk, _ := ix.TankOn("浙B10001")
		p, _ := ix.Person("110105198001010010")
		w, _ := ix.Waybill("WB-1")
		if len(tk.Media) != 1 || tk.Media[0] != "UN1077" || len(p.Certificates) != 1 || p.Certificates[0].Number != "DG-1" ||
			len(w.Goods) != 1 || w.Goods[0].QuantityKg != 1 {
			t.Fatalf("a lookup sees what the last one's caller did: %+v %+v %+v", tk, p, w)
		}
		tk.Media[0], p.Certificates[0].Number, w.Goods[0].QuantityKg = "x", "x", 2
	}
}
