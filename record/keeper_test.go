package record

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/store"
)

func newGate(t *testing.T) (*Keeper, []fleetVehicle, time.Time) {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 3, 15, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "gate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	snap, fleet := bigRegistry(8, now)
	if err := st.ImportSnapshot(ctx, snap, "test", now); err != nil {
		t.Fatal(err)
	}
	return New("east-1", st, checks.DefaultParams(), nil), fleet, now
}

func evidenceFor(v fleetVehicle, arrived time.Time) checks.Evidence {
	s := 0.93
	d, e := v.driver, v.escort
	d.Face, e.Face = &s, &s
	return checks.Evidence{Lane: "in-1", Arrived: arrived, Plate: v.plate, Trailer: v.trailer, Driver: &d, Escort: &e, Waybill: v.waybill,
		Steps: map[string]time.Time{"plate": arrived.Add(time.Second), "waybill": arrived.Add(21 * time.Second)}}
}

// pending returns the outbox rows as decoded payloads.
func pending(t *testing.T, g *Keeper) []map[string]any {
	t.Helper()
	rows, err := g.Store.PendingOutbox(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, r := range rows {
		var m map[string]any
		if err := json.Unmarshal(r.Payload, &m); err != nil {
			t.Fatal(err)
		}
		m["_topic"] = r.Topic
		out = append(out, m)
	}
	return out
}

func TestDecideCommitsInspectionWithItsEvent(t *testing.T) {
	g, fleet, now := newGate(t)
	ev := evidenceFor(fleet[0], now)
	id, out, err := g.Decide(context.Background(), "in-1", ev, now.Add(21*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if out.Verdict != checks.VerdictPass {
		t.Fatalf("verdict %s: %+v", out.Verdict, out.Checks)
	}
	ins, err := g.Store.GetInspection(context.Background(), id)
	if err != nil || ins.Outcome.Verdict != checks.VerdictPass || ins.Evidence.Plate != fleet[0].plate {
		t.Fatalf("stored inspection %+v, %v", ins, err)
	}
	msgs := pending(t, g)
	if len(msgs) != 1 {
		t.Fatalf("%d outbox messages, want 1", len(msgs))
	}
	m := msgs[0]
	for _, k := range []string{"schema", "id", "gate", "lane", "ts", "plate", "trailer", "people", "waybill", "goods", "checks", "verdict", "decided_by", "timings"} {
		if _, ok := m[k]; !ok {
			t.Errorf("inspection payload lacks %q: %v", k, m)
		}
	}
	if m["schema"] != SchemaInspection || m["_topic"] != "events/inspection" || m["id"] != id || m["gate"] != "east-1" || m["decided_by"] != "system" {
		t.Fatalf("payload header %v", m)
	}
	if ts, _ := m["ts"].(string); ts == "" || ts[len(ts)-6:] != "+08:00" {
		t.Fatalf("ts %q: want RFC 3339 with the park's offset", m["ts"])
	}
	cm := m["checks"].(map[string]any)
	if len(cm) != len(checks.IDs) {
		t.Fatalf("checks %v", cm)
	}
	if tm := m["timings"].(map[string]any); tm["waybill_s"] != 21.0 || tm["decided_s"] != 21.0 {
		t.Fatalf("timings %v", tm)
	}
	if goods := m["goods"].([]any); len(goods) != 1 {
		t.Fatalf("goods %v", goods)
	}
}

func TestRejectionCommitsAnAlarmWithTheInspection(t *testing.T) {
	g, fleet, now := newGate(t)
	ev := evidenceFor(fleet[1], now)
	low := 0.2
	ev.Driver.Face = &low
	id, out, err := g.Decide(context.Background(), "in-1", ev, now.Add(21*time.Second))
	if err != nil || out.Verdict != checks.VerdictReject {
		t.Fatalf("verdict %s, %v", out.Verdict, err)
	}
	msgs := pending(t, g)
	if len(msgs) != 2 || msgs[1]["_topic"] != "events/alarm" || msgs[1]["kind"] != AlarmRejection || msgs[1]["inspection_id"] != id {
		t.Fatalf("messages %v", msgs)
	}
}

func TestOperatorDecisionAndPassages(t *testing.T) {
	ctx := context.Background()
	g, fleet, now := newGate(t)
	ev := evidenceFor(fleet[2], now)
	ev.Escort = nil
	ev.DeadlineExceeded = true
	id, out, err := g.Decide(ctx, "in-1", ev, now.Add(120*time.Second))
	if err != nil || out.Verdict != checks.VerdictReview {
		t.Fatalf("verdict %s, %v", out.Verdict, err)
	}
	if err := g.RecordDecision(ctx, "in-1", id, "op1", store.ActionRelease, "", now.Add(130*time.Second)); err == nil {
		t.Fatal("a decision without a reason was recorded")
	}
	if err := g.RecordDecision(ctx, "in-1", id, "op1", store.ActionRelease, "escort confirmed in person", now.Add(130*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := g.RecordPassage(ctx, "in-1", id, lane.DirectionIn, now.Add(140*time.Second)); err != nil {
		t.Fatal(err)
	}
	entry, stay, err := g.RecordExit(ctx, "out-1", fleet[2].plate, now.Add(2*time.Hour))
	if err != nil || entry != id || stay != 2*time.Hour-140*time.Second {
		t.Fatalf("exit: entry %q stay %v err %v", entry, stay, err)
	}
	if err := g.RecordPassage(ctx, "out-1", entry, lane.DirectionOut, now.Add(2*time.Hour+10*time.Second)); err != nil {
		t.Fatal(err)
	}
	var topics []string
	for _, m := range pending(t, g) {
		topics = append(topics, str(m["_topic"])+":"+str(m["kind"])+str(m["direction"]))
		if m["kind"] == "operator_override" {
			if m["operator"] != "op1" || m["action"] != "release" || m["reason"] != "escort confirmed in person" || m["inspection_id"] != id {
				t.Fatalf("override alarm %v", m)
			}
		}
		if m["_topic"] == "events/passage" && m["direction"] == "out" {
			if m["entry_id"] != id || m["stay_s"] != (2*time.Hour-140*time.Second).Seconds() {
				t.Fatalf("exit passage %v", m)
			}
		}
	}
	want := []string{"events/inspection:in", "events/alarm:operator_override", "events/decision:", "events/passage:in", "events/passage:out"}
	if !slices.Equal(topics, want) {
		t.Fatalf("outbox %v, want %v", topics, want)
	}
	if err := g.Store.VerifyAudit(ctx); err != nil {
		t.Fatal(err)
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// On a lane with a weighbridge the inspection, stored and published,
// carries the gross weight; elsewhere the payload has no weight at all.
func TestInspectionCarriesTheWeight(t *testing.T) {
	g, fleet, now := newGate(t)
	ev := evidenceFor(fleet[0], now)
	kg := 40120.0
	ev.Weighbridge, ev.GrossKg = true, &kg
	id, _, err := g.Decide(context.Background(), "in-1", ev, now.Add(21*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ins, err := g.Store.GetInspection(context.Background(), id)
	if err != nil || ins.Evidence.GrossKg == nil || *ins.Evidence.GrossKg != kg || !ins.Evidence.Weighbridge {
		t.Fatalf("stored evidence %+v, %v", ins.Evidence, err)
	}
	if _, _, err := g.Decide(context.Background(), "in-1", evidenceFor(fleet[1], now), now.Add(22*time.Second)); err != nil {
		t.Fatal(err)
	}
	msgs := pending(t, g)
	if len(msgs) != 2 || msgs[0]["gross_kg"] != kg || msgs[0]["weighbridge"] != true {
		t.Fatalf("payload %v; want gross_kg %v", msgs[0], kg)
	}
	if _, ok := msgs[1]["gross_kg"]; ok {
		t.Fatalf("a lane without a weighbridge published a weight: %v", msgs[1])
	}
	if _, ok := msgs[1]["weighbridge"]; ok {
		t.Fatalf("a lane without a weighbridge says weighbridge: %v", msgs[1])
	}
}
