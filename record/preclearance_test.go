package record

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/store"
)

// preclearGate is a gate whose registry holds two compliant combinations
// and their appointments for this afternoon; change alters the snapshot.
func preclearGate(t *testing.T, change func(*registry.Snapshot, []fleetVehicle)) (*Keeper, []registry.Appointment, time.Time) {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 3, 15, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "gate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	snap, fleet := bigRegistry(4, now)
	for i, v := range fleet {
		snap.Appointments = append(snap.Appointments, registry.Appointment{ID: "A" + string(rune('1'+i)), Plate: v.plate, Company: "测试化工",
			From: registry.Instant(now.Add(3 * time.Hour)), Until: registry.Instant(now.Add(6 * time.Hour))})
	}
	if change != nil {
		change(snap, fleet)
	}
	if err := st.ImportSnapshot(ctx, snap, "test", now); err != nil {
		t.Fatal(err)
	}
	p := checks.DefaultParams()
	p.Location = now.Location()
	return New("east-1", st, p, nil), snap.Appointments, now
}

func TestPreclearPublishesOnlyAChangedResult(t *testing.T) {
	ctx := context.Background()
	g, appts, now := preclearGate(t, nil)
	pc, changed, err := g.Preclear(ctx, appts[0], store.PreclearRegistry, now, nil, nil)
	if err != nil || !changed {
		t.Fatalf("first pre-clearance: changed %v, %v", changed, err)
	}
	if pc.Verdict != checks.VerdictPass || pc.WaybillSource != PreclearWaybillByPlate || pc.Trailer == "" {
		t.Fatalf("pre-clearance %+v", pc)
	}
	if !pc.JudgedFor.Equal(now.Add(3 * time.Hour)) {
		t.Fatalf("judged for %v, want the window's opening", pc.JudgedFor)
	}
	msgs := pending(t, g)
	if len(msgs) != 1 || msgs[0]["_topic"] != "events/preclearance" || msgs[0]["schema"] != SchemaPreclearance || msgs[0]["id"] != pc.ID {
		t.Fatalf("outbox %v", msgs)
	}
	m := msgs[0]
	for _, k := range []string{"appointment", "plate", "trailer", "waybill", "waybill_source", "goods", "people", "trigger", "judged_for", "verdict", "checks", "failed", "unknown", "registry", "note", "clock_synced"} {
		if _, ok := m[k]; !ok {
			t.Errorf("payload lacks %q: %v", k, m)
		}
	}
	cs := m["checks"].(map[string]any)
	if len(cs) != 4 || cs[checks.PersonnelQualification] != nil || cs[checks.Identity] != nil {
		t.Fatalf("checks %v: want the four documentary checks", cs)
	}

	// The same appointment and the same data: nothing new.
	again, changed, err := g.Preclear(ctx, appts[0], store.PreclearRecheck, now.Add(15*time.Minute), &pc, nil)
	if err != nil || changed || again.ID != pc.ID {
		t.Fatalf("same data: changed %v, id %s (%v)", changed, again.ID, err)
	}
	if n := len(pending(t, g)); n != 1 {
		t.Fatalf("%d outbox messages after an unchanged recheck, want 1", n)
	}

	// The tank's inspection is found expired in a registry update: a
	// changed result is published, naming the previous one.
	snap, _ := bigRegistry(4, now)
	snap.Appointments = []registry.Appointment{appts[0], appts[1]}
	snap.Tanks[0].InspectionValidUntil = registry.Instant(now.Add(-24 * time.Hour))
	snap.Version = 2
	if err := g.Store.ImportSnapshot(ctx, snap, "test", now); err != nil {
		t.Fatal(err)
	}
	next, changed, err := g.Preclear(ctx, appts[0], store.PreclearRegistry, now.Add(20*time.Minute), &pc, nil)
	if err != nil || !changed || next.Verdict != checks.VerdictReject {
		t.Fatalf("changed data: changed %v, %+v (%v)", changed, next, err)
	}
	msgs = pending(t, g)
	if len(msgs) != 2 || msgs[1]["previous"] != pc.ID || msgs[1]["verdict"] != "reject" {
		t.Fatalf("outbox %v", msgs)
	}
	iv := msgs[1]["checks"].(map[string]any)[checks.InspectionValidity].(map[string]any)
	if iv["result"] != "fail" || !slices.Contains(iv["reasons"].([]any), any(checks.ReasonInspectionExpired)) {
		t.Fatalf("inspection_validity %v", iv)
	}
	for _, r := range iv["messages"].([]any) {
		r := r.(map[string]any)
		if r["zh"] == "" || r["en"] == "" {
			t.Fatalf("reason without its words: %v", r)
		}
	}
	latest, err := g.Store.LatestPreclearances(ctx)
	if err != nil || latest[appts[0].ID].ID != next.ID {
		t.Fatalf("latest %+v (%v)", latest, err)
	}
}

func TestPreclearWaybillServiceDownIsUnknown(t *testing.T) {
	ctx := context.Background()
	g, appts, now := preclearGate(t, nil)
	a := appts[1]
	a.Waybill = "YD-NOT-IN-REGISTRY"
	asked := 0
	find := func(_ context.Context, number string) checks.WaybillLookup {
		asked++
		return checks.WaybillLookup{Number: number, Unavailable: true, Detail: "the waybill service did not answer"}
	}
	pc, changed, err := g.Preclear(ctx, a, store.PreclearSchedule, now, nil, find)
	if err != nil || !changed || asked != 1 {
		t.Fatalf("changed %v, asked %d, %v", changed, asked, err)
	}
	c, _ := checks.Outcome{Checks: pc.Checks}.Check(checks.WaybillConsistency)
	if pc.Verdict != checks.VerdictReview || c.Result != checks.Unknown || !slices.Contains(c.Codes(), checks.ReasonWaybillUnavailable) {
		t.Fatalf("verdict %s, waybill_consistency %+v: want unknown, never a pass", pc.Verdict, c)
	}
	m := pending(t, g)[0]
	if l, ok := m["waybill_lookup"].(map[string]any); !ok || l["unavailable"] != true || m["waybill_source"] != PreclearWaybillAppointment {
		t.Fatalf("payload %v", m)
	}
}

func TestPreclearPeopleNamed(t *testing.T) {
	ctx := context.Background()
	g, appts, now := preclearGate(t, func(s *registry.Snapshot, fleet []fleetVehicle) {
		s.Appointments[0].Driver, s.Appointments[0].Escort = fleet[0].driver.IDNumber, fleet[0].escort.IDNumber
		// The escort's certificate ends before the window opens.
		s.Persons[1].Certificates[0].ValidUntil = registry.Instant(time.Date(2026, 3, 15, 10, 0, 0, 0, time.FixedZone("CST", 8*3600)))
	})
	pc, _, err := g.Preclear(ctx, appts[0], store.PreclearRegistry, now, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := checks.Outcome{Checks: pc.Checks}.Check(checks.PersonnelQualification)
	if !ok || c.Result != checks.Fail || pc.Verdict != checks.VerdictReject {
		t.Fatalf("personnel_qualification %+v (verdict %s)", c, pc.Verdict)
	}
	if people := pending(t, g)[0]["people"].([]any); len(people) != 2 {
		t.Fatalf("people %v", people)
	}
}
