package store

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"reflect"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/registry"
)

// Appointments go through an import (as records and as a JSON stream), a
// delta and a reopen like the other registry records, and the index
// finds them by plate however it is written.
func TestAppointmentsRegistry(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v := func(s string) registry.Validity {
		x, err := registry.ParseValidity(s)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	f.snap.Appointments = []registry.Appointment{
		{ID: "A1", Plate: "浙B12345", Company: "甬化一厂", From: v("2026-03-15T08:00:00+08:00"), Until: v("2026-03-15T12:00:00+08:00")},
		{ID: "A2", Plate: "浙B12345", Company: "甬化二厂", From: v("2026-03-16"), Until: v("2026-03-16"), Status: registry.AppointmentPending},
	}
	s, path := openTest(t)
	if err := s.ImportSnapshot(ctx, f.snap, "test", t0); err != nil {
		t.Fatal(err)
	}
	ix, _ := s.Lookup(ctx, checks.Evidence{})
	if got := ix.Appointments("浙b 12345"); len(got) != 2 || got[0].ID != "A1" || got[1].Company != "甬化二厂" {
		t.Fatalf("appointments by plate: %+v", got)
	}
	// The JSON stream gives the same index.
	doc, err := json.Marshal(f.snap)
	if err != nil {
		t.Fatal(err)
	}
	j, _ := openTest(t)
	if err := j.ImportJSON(ctx, func() io.Reader { return bytes.NewReader(doc) }, "r.json", "test", 0, t0); err != nil {
		t.Fatal(err)
	}
	jx, _ := j.Lookup(ctx, checks.Evidence{})
	if !reflect.DeepEqual(jx.Appointments("浙B12345"), ix.Appointments("浙B12345")) {
		t.Fatalf("ImportJSON: %+v, ImportSnapshot: %+v", jx.Appointments("浙B12345"), ix.Appointments("浙B12345"))
	}
	// A delta deletes one by id and upserts another.
	d := &RegistryDelta{Base: 1, Version: 2, Delete: RegistryKeys{Appointments: []string{"A1"}},
		Upsert: registry.Snapshot{Appointments: []registry.Appointment{{ID: "A3", Plate: "浙B55555", Company: "甬化三厂", From: v("2026-03-15"), Until: v("2026-03-15")}}}}
	if d.Empty() {
		t.Fatal("a delta of appointments is empty")
	}
	if err := s.ApplyDelta(ctx, d, "test", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	ix, _ = s.Lookup(ctx, checks.Evidence{})
	if got := ix.Appointments("浙B12345"); len(got) != 1 || got[0].ID != "A2" {
		t.Fatalf("after the delta, 浙B12345: %+v", got)
	}
	if got := ix.Appointments("浙B55555"); len(got) != 1 || got[0].ID != "A3" {
		t.Fatalf("after the delta, 浙B55555: %+v", got)
	}
	s.Close()
	r := reopenTest(t, path)
	rx, _ := r.Lookup(ctx, checks.Evidence{})
	if !reflect.DeepEqual(rx, ix) {
		t.Fatalf("reopened index differs:\n got %+v\nwant %+v", rx, ix)
	}
	// A bad appointment is refused naming its field, and changes nothing.
	bad := *f.snap
	bad.Appointments = []registry.Appointment{{ID: "A9", Plate: "浙B12345", From: v("2026-03-16"), Until: v("2026-03-15")}}
	if err := r.ImportSnapshot(ctx, &bad, "bad", t0.Add(time.Hour)); err == nil || !bytes.Contains([]byte(err.Error()), []byte("appointments[0].from")) {
		t.Fatalf("bad import: %v", err)
	}
}

func TestWaybillCache(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	if _, _, ok, err := s.CachedWaybill(ctx, "YD1"); ok || err != nil {
		t.Fatalf("empty cache: %t %v", ok, err)
	}
	w := registry.Waybill{Number: "YD1", Vehicle: "浙B12345", Status: registry.WaybillCancelled,
		Goods: []registry.Good{{UN: "UN1077", Name: "丙烯", Class: "2.1", QuantityKg: 1}}}
	if err := s.CacheWaybill(ctx, w, t0); err != nil {
		t.Fatal(err)
	}
	w.Status = registry.WaybillCompleted
	if err := s.CacheWaybill(ctx, w, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	r := reopenTest(t, path)
	got, at, ok, err := r.CachedWaybill(ctx, "YD1")
	if err != nil || !ok || !at.Equal(t0.Add(time.Minute)) || got.Status != registry.WaybillCompleted {
		t.Fatalf("cached %+v at %v %t %v", got, at, ok, err)
	}
	if err := r.CacheWaybill(ctx, registry.Waybill{}, t0); err == nil {
		t.Fatal("a waybill without a number was cached")
	}
	// An answer a month later: YD1's, fetched more than WaybillCacheKeep
	// before it, goes.
	w.Number = "YD2"
	if err := r.CacheWaybill(ctx, w, t0.Add(time.Minute+WaybillCacheKeep+time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, _, ok, _ := r.CachedWaybill(ctx, "YD1"); ok {
		t.Fatal("an answer older than WaybillCacheKeep is kept")
	}
	if _, _, ok, _ := r.CachedWaybill(ctx, "YD2"); !ok {
		t.Fatal("the new answer is not kept")
	}
}
