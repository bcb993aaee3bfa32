package registry

import (
	"slices"
	"testing"
	"time"
)

// TestWaybillsByPlate: the waybills found from a plate are those naming
// the vehicle (plates compared normalised), valid in status, holding at
// now, and naming the trailer read when they name one; a delta that
// deletes or moves a waybill is followed, and the index it was applied to
// is unchanged.
func TestWaybillsByPlate(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	now := time.Date(2027, 3, 10, 9, 0, 0, 0, loc)
	wb := func(n, vehicle, trailer, status string, from, until Validity) Waybill {
		return Waybill{Number: n, Vehicle: vehicle, Trailer: trailer, Driver: "110105198001010019", Escort: "110105198001010027",
			ValidFrom: from, ValidUntil: until, Status: status, Goods: []Good{{UN: "UN1203", Name: "汽油", Class: "3", QuantityKg: 20000}}}
	}
	d9, d10, d11 := Date(2027, 3, 9), Date(2027, 3, 10), Date(2027, 3, 11)
	s := &Snapshot{Version: 1, Waybills: []Waybill{
		wb("WB-A", "浙B12345", "浙B6789挂", "", d9, d11),                   // the one
		wb("WB-B", "浙B12345", "", WaybillCancelled, d9, d11),            // cancelled
		wb("WB-C", "浙B12345", "", WaybillCompleted, d9, d11),            // completed
		wb("WB-D", "浙B12345", "", "", d11, d11),                         // not yet
		wb("WB-E", "浙B12345", "", "", d9, d9),                           // over
		wb("WB-F", "浙B12345", "浙B0000挂", WaybillValid, d9, d11),         // another trailer
		wb("WB-G", "浙B99999", "", "", d9, d11),                          // another vehicle
		wb("WB-H", "浙B12345", "", "", d10, Instant(now.Add(time.Hour))), // today, ends later
	}}
	ix := NewIndex(s, now)
	numbers := func(ws []Waybill) []string {
		var ns []string
		for _, w := range ws {
			ns = append(ns, w.Number)
		}
		return ns
	}
	for _, c := range []struct {
		plate, trailer string
		at             time.Time
		want           []string
	}{
		{"浙B12345", "浙B6789挂", now, []string{"WB-A", "WB-H"}},
		{"浙b 12345", "", now, []string{"WB-A", "WB-F", "WB-H"}}, // no trailer read: any
		{"浙B12345", "浙B0000挂", now, []string{"WB-F", "WB-H"}},
		{"浙B12345", "浙B6789挂", now.Add(2 * time.Hour), []string{"WB-A"}},
		{"浙B12345", "", time.Date(2027, 3, 12, 0, 0, 0, 0, loc), nil},
		{"浙B99999", "", now, []string{"WB-G"}},
		{"浙B55555", "", now, nil},
		{"", "", now, nil},
	} {
		if got := numbers(ix.WaybillsByPlate(c.plate, c.trailer, c.at, loc)); !slices.Equal(got, c.want) {
			t.Errorf("WaybillsByPlate(%q, %q, %v) = %v, want %v", c.plate, c.trailer, c.at, got, c.want)
		}
	}

	// A delta: WB-H deleted, WB-A moved to another vehicle, WB-I added.
	moved := wb("WB-A", "浙B99999", "", "", d9, d11)
	next := ix.Apply(Change{DeleteWaybills: []string{"WB-H"},
		Upsert: &Snapshot{Waybills: []Waybill{moved, wb("WB-I", "浙B12345", "", "", d9, d11)}}, Meta: Meta{Version: 2}})
	if got, want := numbers(next.WaybillsByPlate("浙B12345", "", now, loc)), []string{"WB-F", "WB-I"}; !slices.Equal(got, want) {
		t.Errorf("after the delta: %v, want %v", got, want)
	}
	if got, want := numbers(next.WaybillsByPlate("浙B99999", "", now, loc)), []string{"WB-A", "WB-G"}; !slices.Equal(got, want) {
		t.Errorf("after the delta, the other vehicle: %v, want %v", got, want)
	}
	if got, want := numbers(ix.WaybillsByPlate("浙B12345", "", now, loc)), []string{"WB-A", "WB-F", "WB-H"}; !slices.Equal(got, want) {
		t.Errorf("the index the delta was applied to changed: %v, want %v", got, want)
	}
}
