package registry

import (
	"strings"
	"testing"
	"time"
)

func TestNormalizePlate(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"浙B12345", "浙B12345"},
		{"浙ｂ１２３４５", "浙B12345"},
		{" 浙B 123 45 ", "浙B12345"},
		{"浙B·12345", "浙B12345"},
		{"浙B6789挂", "浙B6789挂"},
		{"浙B\u300012345", "浙B12345"}, // ideographic space
	} {
		if got := NormalizePlate(tt.in); got != tt.want {
			t.Errorf("NormalizePlate(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestValidity(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	day, _ := ParseValidity("2026-03-15")
	if !day.ValidUntil(time.Date(2026, 3, 15, 23, 59, 59, 0, cst), cst) {
		t.Error("a date is valid through its last second")
	}
	if day.ValidUntil(time.Date(2026, 3, 16, 0, 0, 0, 0, cst), cst) {
		t.Error("a date is not valid at the next midnight")
	}
	if day.ValidFrom(time.Date(2026, 3, 14, 23, 59, 59, 0, cst), cst) || !day.ValidFrom(time.Date(2026, 3, 15, 0, 0, 0, 0, cst), cst) {
		t.Error("a date is valid from its first instant")
	}
	inst, _ := ParseValidity("2026-03-16T00:00:00+08:00")
	if !inst.ValidUntil(time.Date(2026, 3, 15, 16, 0, 0, 0, time.UTC), cst) || inst.ValidUntil(time.Date(2026, 3, 15, 16, 0, 1, 0, time.UTC), cst) {
		t.Error("an instant is compared as an instant, whatever the zone")
	}
	long, err := ParseValidity("长期")
	if err != nil || !long.IsZero() || !long.ValidUntil(time.Now(), cst) {
		t.Errorf("长期: %v %v", long, err)
	}
	if _, err := ParseValidity("2026-02-30"); err == nil {
		t.Error("2026-02-30 parsed")
	}
}

func TestClassCovered(t *testing.T) {
	for _, tt := range []struct {
		good, permit string
		want         bool
	}{{"2.1", "2", true}, {"2.1", "2.1", true}, {"2", "2", true}, {"2.1", "2.2", false}, {"21", "2", false}, {"2", "2.1", false}, {"6.1", "6", true}} {
		if got := ClassCovered(tt.good, tt.permit); got != tt.want {
			t.Errorf("ClassCovered(%q, %q) = %v", tt.good, tt.permit, got)
		}
	}
}

func TestDecodeErrorsNameFileLineField(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"unknown key", "vehicles:\n  - plate: A1\n    kind: tractor\n    colour: red\n", "r.yaml:4: vehicles[0].colour: unknown key"},
		{"bad kind", "vehicles:\n  - {plate: A1, kind: boat}\n", `r.yaml:2: vehicles[0].kind: "boat" is not tractor, trailer or rigid`},
		{"duplicate plate", "vehicles:\n  - {plate: 浙B1, kind: tractor}\n  - {plate: 浙b 1, kind: tractor}\n", "r.yaml:3: vehicles[1].plate: 浙b 1 is already vehicles[0]"},
		{"bad UN", "tanks:\n  - {id: T1, vehicle: A, media: [1077]}\n", `tanks[0].media[0]: "1077" is not a UN number`},
		{"bad date", "waybills:\n  - {number: W, vehicle: A, valid_from: yesterday}\n", `r.yaml:2: waybills[0].valid_from: "yesterday" is neither a date`},
		{"bad role", "persons:\n  - id_number: \"990001198001010019\"\n    certificates: [{role: pilot, valid_until: 2027-01-01}]\n", `persons[0].certificates[0].role: "pilot"`},
		{"json too", `{"vehicles": [{"plate": "A1", "kind": "tractor", "wheels": 6}]}`, "r.yaml:1: vehicles[0].wheels: unknown key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.in), "r.yaml")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v\nwant %q", err, tt.want)
			}
		})
	}
}
