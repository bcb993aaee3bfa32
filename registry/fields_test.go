package registry

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

func TestPlateProblem(t *testing.T) {
	for _, tt := range []struct {
		plate string
		ok    bool
	}{
		{"浙B12345", true}, {"浙B·12345", true}, {"浙Ｂ１２３４５", true}, {"浙B1001挂", true}, {" 浙B 12345 ", true},
		{"", false}, {"   ", false}, {"\u3000", false}, {"浙B\x0012345", false}, {"浙B\x01", false}, {"浙B\t1", false},
		{"浙B\r1", false}, {"浙B\u202e1", false}, {"<b>", false}, {"浙B>1", false}, {"=1", false}, {"+1", false},
		{"-1", false}, {"@A", false}, {strings.Repeat("8", MaxPlateBytes), true}, {strings.Repeat("8", MaxPlateBytes+1), false},
		{"浙B\xff", false},
	} {
		if got := PlateProblem(tt.plate); (got == "") != tt.ok {
			t.Errorf("PlateProblem(%q) = %q; want ok=%v", tt.plate, got, tt.ok)
		}
	}
}

func TestIDProblem(t *testing.T) {
	for _, tt := range []struct {
		id string
		ok bool
	}{
		{"990001198001010019", true}, {"990001198001010011", true}, // a wrong check digit is the identity check's to judge
		{"99000119800101001X", true}, {"99000119800101001x", true}, {"USA123456789012", true},
		{"", false}, {"99000119800101A019", false}, {"A90001198001010019", false}, {"99000119800101001Y", false},
		{"99000119800101001", false}, {"9900011980010100199", false}, {"99000119800101００1", false},
		{"９９０００１１９８００１０１００１９", false}, {"usa123456789012", false},
	} {
		if got := IDProblem(tt.id); (got == "") != tt.ok {
			t.Errorf("IDProblem(%q) = %q; want ok=%v", tt.id, got, tt.ok)
		}
	}
}

func TestCheckSync(t *testing.T) {
	now := time.Date(2026, 3, 15, 8, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name  string
		c     SyncChange
		field string // "" : allowed
	}{
		{"next", SyncChange{Held: 5, Version: 6}, ""},
		{"first, large", SyncChange{Held: 0, Version: 5_000_000}, ""},
		{"jump at the bound", SyncChange{Held: 5, Version: 5 + MaxVersionJump}, ""},
		{"jump over the bound", SyncChange{Held: 5, Version: 6 + MaxVersionJump}, "version"},
		{"jump forced", SyncChange{Held: 5, Version: 6 + MaxVersionJump, Force: true}, ""},
		{"2^63-1 forced", SyncChange{Held: 5, Version: math.MaxInt64, Force: true}, "version"},
		{"2^63-1 first", SyncChange{Version: math.MaxInt64}, "version"},
		{"zero", SyncChange{Held: 5, Version: 0}, "version"},
		{"negative", SyncChange{Held: 0, Version: -1}, "version"},
		{"same", SyncChange{Held: 5, Version: 5}, "version"},
		{"same, empty delta", SyncChange{Held: 5, Version: 5, Same: true}, ""},
		{"back", SyncChange{Held: 5, Version: 4}, "version"},
		{"synced now + skew", SyncChange{Held: 5, Version: 6, SyncedAt: now.Add(MaxClockSkew)}, ""},
		{"synced just beyond the skew", SyncChange{Held: 5, Version: 6, SyncedAt: now.Add(MaxClockSkew + time.Second)}, "synced_at"},
		{"synced 2998", SyncChange{Held: 5, Version: 6, SyncedAt: time.Date(2998, 1, 1, 0, 0, 0, 0, time.UTC)}, "synced_at"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ps := CheckSync(tt.c, now)
			switch {
			case tt.field == "" && len(ps) > 0:
				t.Fatalf("refused: %v", ps)
			case tt.field != "" && (len(ps) != 1 || ps[0].Field != tt.field):
				t.Fatalf("got %v; want one problem at %s", ps, tt.field)
			}
		})
	}
}

func TestDecodeJSON(t *testing.T) {
	good := `{"version":3,"vehicles":[{"plate":"浙B1","kind":"tractor"}],"tanks":[],"persons":null,"waybills":[],"blacklist":[],"synced_at":null}`
	s, err := DecodeJSON(strings.NewReader(good), "g.json")
	if err != nil || s.Version != 3 || len(s.Vehicles) != 1 || s.Vehicles[0].Plate != "浙B1" {
		t.Fatalf("DecodeJSON = %+v, %v", s, err)
	}
	for _, tt := range []struct{ name, doc, want string }{
		{"null vehicle", `{"vehicles":[null]}`, "vehicles: [0]: null"},
		{"unknown key", `{"vehicle":[]}`, "vehicle: unknown field"},
		{"unknown record key", `{"vehicles":[{"plate":"浙B1","kind":"tractor","x":1}]}`, "unknown field"},
		{"repeated key", `{"vehicles":[],"vehicles":[]}`, "given twice"},
		{"second document", `{"vehicles":[]} {"vehicles":[]}`, "one document only"},
		{"not an object", `[]`, "where \"{\" belongs"},
		{"invalid record", `{"vehicles":[{"plate":"<b>","kind":"tractor"}]}`, "b.json: vehicles[0].plate"},
		{"truncated", `{"vehicles":[{"plate":"浙B1"`, "b.json: byte"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeJSON(strings.NewReader(tt.doc), "b.json")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("DecodeJSON(%s) = %v; want an error with %q", tt.doc, err, tt.want)
			}
		})
	}
}

func TestValidateWaybillOrder(t *testing.T) {
	w := Waybill{Number: "W", Vehicle: "浙B1", Goods: []Good{{UN: "UN1077", Class: "2.1"}}}
	for _, tt := range []struct {
		from, until Validity
		ok          bool
	}{
		{Date(2027, 1, 1), Date(2027, 1, 1), true},
		{Date(2027, 1, 2), Date(2027, 1, 1), false},
		{Instant(time.Date(2027, 1, 1, 10, 0, 0, 0, time.UTC)), Instant(time.Date(2027, 1, 1, 9, 0, 0, 0, time.UTC)), false},
		{Instant(time.Date(2027, 1, 1, 20, 0, 0, 0, time.UTC)), Date(2027, 1, 1), true}, // the park's zone may be ahead
		{Date(2027, 1, 3), Instant(time.Date(2027, 1, 1, 9, 0, 0, 0, time.UTC)), false},
	} {
		w.ValidFrom, w.ValidUntil = tt.from, tt.until
		s := Snapshot{Waybills: []Waybill{w}}
		ps := s.Validate()
		if (len(ps) == 0) != tt.ok || !tt.ok && ps[0].Field != "waybills[0].valid_from" {
			t.Errorf("%s..%s: %v; want ok=%v", tt.from, tt.until, ps, tt.ok)
		}
	}
}

// The optional weights are left out, or finite and positive.
func TestValidateOptionalWeights(t *testing.T) {
	for _, c := range []struct {
		name        string
		curb, gross float64
		fields      []string
	}{
		{"left out", 0, 0, nil},
		{"given", 15000, 49000, nil},
		{"negative curb", -1, 49000, []string{"vehicles[0].curb_weight_kg"}},
		{"infinite maximum", 15000, math.Inf(1), []string{"vehicles[0].max_gross_kg"}},
		{"NaN both", math.NaN(), math.NaN(), []string{"vehicles[0].curb_weight_kg", "vehicles[0].max_gross_kg"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := Snapshot{Vehicles: []Vehicle{{Plate: "浙B10001", Kind: KindTractor, CurbWeightKg: c.curb, MaxGrossKg: c.gross}}}
			var got []string
			for _, p := range s.Validate() {
				got = append(got, p.Field)
			}
			if fmt.Sprint(got) != fmt.Sprint(c.fields) {
				t.Fatalf("problems in %v; want %v", got, c.fields)
			}
		})
	}
	// A file names the line of the mistake.
	_, err := Decode([]byte("vehicles:\n  - {plate: 浙B10001, kind: tractor, curb_weight_kg: -5}\n"), "reg.yaml")
	if err == nil || !strings.Contains(err.Error(), "reg.yaml:2") || !strings.Contains(err.Error(), "curb_weight_kg") {
		t.Fatalf("Decode: %v; want an error naming reg.yaml:2 and curb_weight_kg", err)
	}
}
