package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/registry"
)

func preclearanceFor(id string, verdict checks.Verdict, fp string, at time.Time) *Preclearance {
	res := checks.Pass
	if verdict == checks.VerdictReject {
		res = checks.Fail
	}
	return &Preclearance{
		Gate: "east-1", Appointment: registry.Appointment{ID: id, Plate: "浙B20001", Company: "测试化工"},
		Trailer: "浙B2001挂", Waybill: "YD1", WaybillSource: "by_plate", Carrier: "测试运输",
		Goods:   []registry.Good{{UN: "UN1077", Name: "丙烯", Class: "2.1", QuantityKg: 24000}},
		Trigger: PreclearRegistry, Verdict: verdict, JudgedAt: at, JudgedFor: at.Add(time.Hour),
		Checks:      []checks.CheckResult{{ID: checks.InspectionValidity, Result: res, Reasons: []checks.Reason{}}},
		Registry:    registry.Meta{Version: 7, SyncedAt: at.Add(-time.Hour)},
		ClockSynced: true, Fingerprint: fp,
	}
}

func TestRecordPreclearance(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	msg := func() OutboxMessage {
		return OutboxMessage{Kind: KindPreclearance, Topic: "events/preclearance", Payload: json.RawMessage(`{"schema":"hazgate.preclearance/1"}`)}
	}
	first := preclearanceFor("A1", checks.VerdictPass, "f1", t0)
	if err := s.RecordPreclearance(ctx, first, msg()); err != nil {
		t.Fatal(err)
	}
	second := preclearanceFor("A1", checks.VerdictReject, "f2", t0.Add(time.Minute))
	if err := s.RecordPreclearance(ctx, second, msg()); err != nil {
		t.Fatal(err)
	}
	other := preclearanceFor("A2", checks.VerdictPass, "f3", t0)
	if err := s.RecordPreclearance(ctx, other, msg()); err != nil {
		t.Fatal(err)
	}
	latest, err := s.LatestPreclearances(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(latest) != 2 {
		t.Fatalf("%d latest, want 2: %+v", len(latest), latest)
	}
	got := latest["A1"]
	if got.ID != second.ID || got.Verdict != checks.VerdictReject || got.Fingerprint != "f2" || !got.JudgedAt.Equal(second.JudgedAt) ||
		!got.JudgedFor.Equal(second.JudgedFor) || got.Registry.Version != 7 || !got.ClockSynced || got.Waybill != "YD1" ||
		got.Trailer != "浙B2001挂" || got.Carrier != "测试运输" || len(got.Goods) != 1 || got.Appointment.Company != "测试化工" ||
		len(got.Checks) != 1 || got.Checks[0].Result != checks.Fail {
		t.Fatalf("latest of A1 = %+v", got)
	}
	// Each is an event: it takes the next event seq, like an inspection.
	rows, err := s.PendingOutbox(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("%d outbox rows, want 3", len(rows))
	}
	for i, r := range rows {
		if r.Kind != KindPreclearance || r.EventSeq != int64(i+1) {
			t.Fatalf("row %d: kind %s event seq %d", i, r.Kind, r.EventSeq)
		}
	}
	if n := queryInt(t, s, `SELECT count(*) FROM audit WHERE action = 'preclearance.judged'`); n != 3 {
		t.Fatalf("%d audit entries, want 3", n)
	}

	bad := preclearanceFor("A3", checks.VerdictPass, "", t0)
	if err := s.RecordPreclearance(ctx, bad); !errors.Is(err, ErrInvalid) {
		t.Fatalf("no fingerprint: %v, want ErrInvalid", err)
	}
	bad = preclearanceFor("A3", checks.VerdictPass, "f", t0)
	bad.Trigger = "whim"
	if err := s.RecordPreclearance(ctx, bad); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad trigger: %v, want ErrInvalid", err)
	}
}

// A file from before migration 26 keeps its outbox rows, their seqs and
// the counters; the rebuilt table takes the new kind and still refuses a
// duplicate id.
func TestMigration26KeepsTheOutbox(t *testing.T) {
	ctx := context.Background()
	known, err := migrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	var before, m26 []migration
	for _, m := range known {
		switch {
		case m.version < 26:
			before = append(before, m)
		case m.version == 26:
			m26 = append(m26, m)
		}
	}
	if len(m26) != 1 {
		t.Fatalf("no migration 26")
	}
	db, err := openDB(ctx, filepath.Join(t.TempDir(), "db"), true)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := applyMigrations(ctx, db, before, t0); err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	ins := `INSERT INTO outbox (seq, id, kind, event_seq, topic, lane, payload, created_at) VALUES (
		(SELECT value + 1 FROM counters WHERE name = 'outbox_seq'), ?1, ?2,
		CASE WHEN ?2 IN ('inspection', 'passage', 'alarm', 'decision', 'preclearance') THEN (SELECT value + 1 FROM counters WHERE name = 'event_seq') END,
		'events/x', '', '{}', ?3)`
	exec(ins, "01A", "inspection", fmtTime(t0))
	exec(ins, "01B", "status", fmtTime(t0))
	exec(ins, "01C", "alarm", fmtTime(t0))
	if _, err := db.ExecContext(ctx, ins, "01D", "preclearance", fmtTime(t0)); err == nil {
		t.Fatal("version 25 took a preclearance row")
	}
	if err := applyMigrations(ctx, db, append(before, m26...), t0); err != nil {
		t.Fatal(err)
	}
	exec(ins, "01D", "preclearance", fmtTime(t0))
	type row struct {
		seq   int64
		id    string
		event sql.NullInt64
	}
	r, err := db.QueryContext(ctx, `SELECT seq, id, event_seq FROM outbox ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	var got []row
	for r.Next() {
		var x row
		if err := r.Scan(&x.seq, &x.id, &x.event); err != nil {
			t.Fatal(err)
		}
		got = append(got, x)
	}
	r.Close()
	want := []row{{1, "01A", sql.NullInt64{Int64: 1, Valid: true}}, {2, "01B", sql.NullInt64{}}, {3, "01C", sql.NullInt64{Int64: 2, Valid: true}}, {4, "01D", sql.NullInt64{Int64: 3, Valid: true}}}
	if len(got) != len(want) {
		t.Fatalf("rows %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("row %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	var pending int
	if err := db.QueryRowContext(ctx, `SELECT value FROM counters WHERE name = 'outbox_pending'`).Scan(&pending); err != nil || pending != 4 {
		t.Fatalf("outbox_pending = %d (%v), want 4", pending, err)
	}
	if _, err := db.ExecContext(ctx, ins, "01D", "preclearance", fmtTime(t0)); err == nil {
		t.Fatal("a duplicate outbox id was taken after the rebuild")
	}
	var idx int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN ('outbox_event_seq', 'outbox_droppable')`).Scan(&idx); err != nil || idx != 2 {
		t.Fatalf("outbox indexes: %d (%v), want 2", idx, err)
	}
}

// Pre-clearances past retention.records go like the other records, once
// their event was delivered; a newer one stays.
func TestPurgePreclearances(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	const day = 24 * time.Hour
	old := preclearanceFor("A1", checks.VerdictPass, "f1", t0.Add(-800*day))
	recent := preclearanceFor("A2", checks.VerdictPass, "f2", t0.Add(-day))
	for _, p := range []*Preclearance{old, recent} {
		if err := s.RecordPreclearance(ctx, p, OutboxMessage{Kind: KindPreclearance, Topic: "events/preclearance", Payload: json.RawMessage(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	r := Retention{RecordsBefore: t0.Add(-730 * day)}
	res, err := s.Purge(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if res.Preclearances != 0 || res.HeldBack.IsZero() {
		t.Fatalf("undelivered: purged %+v", res)
	}
	rows, err := s.PendingOutbox(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []int64
	for _, r := range rows {
		seqs = append(seqs, r.Seq)
	}
	if err := s.MarkSent(ctx, seqs...); err != nil {
		t.Fatal(err)
	}
	if res, err = s.Purge(ctx, r); err != nil || res.Preclearances != 1 {
		t.Fatalf("delivered: purged %+v (%v)", res, err)
	}
	latest, err := s.LatestPreclearances(ctx)
	if err != nil || len(latest) != 1 || latest["A2"].ID != recent.ID {
		t.Fatalf("left %+v (%v)", latest, err)
	}
}
