package store

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/registry"
)

// The benchmarks are compared as ratios to BenchmarkDurableCommit, one bare
// durable SQLite commit on the same machine in the same run.

// BenchmarkDurableCommit is one single-row insert in its own transaction in
// a one-table file opened as the store opens its writer: WAL,
// synchronous=FULL, BEGIN IMMEDIATE.
func BenchmarkDurableCommit(b *testing.B) {
	ctx := context.Background()
	db, err := openDB(ctx, filepath.Join(b.TempDir(), "bare.db"), true)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO t (v) VALUES (?)`, fmt.Sprint("row ", i)); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCommitInspection is one realistic decided inspection: seven check
// results, its outbox message with the whole payload, and its audit entry.
// ns/op is the commit the barrier waits for; its follow-up transaction (the
// derived rows), which the gate does not wait for, runs between the timed
// commits and is reported as followup-µs.
func BenchmarkCommitInspection(b *testing.B) {
	ctx := context.Background()
	s, _ := openTest(b)
	f := newFixture(b)
	ins := newInspection(f, t0, checks.VerdictReject, checks.TankMedia)
	payload, err := json.Marshal(map[string]any{
		"schema": "hazgate.inspection/1", "gate": "g1", "lane": "in-1", "ts": t0.Format(time.RFC3339),
		"evidence": ins.Evidence, "outcome": ins.Outcome, "timings": ins.Timings, "decided_by": ins.DecidedBy,
	})
	if err != nil {
		b.Fatal(err)
	}
	var followUp time.Duration
	b.ResetTimer()
	for i := range b.N {
		ins.ID = ""
		ins.DecidedAt = t0.Add(time.Duration(i) * time.Second)
		m := OutboxMessage{Kind: KindInspection, Topic: "events/inspection", Lane: "in-1", Payload: payload}
		if err := s.CommitInspection(ctx, ins, m); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		start := time.Now()
		if err := s.flushDerived(ctx); err != nil {
			b.Fatal(err)
		}
		followUp += time.Since(start)
		b.StartTimer()
	}
	b.ReportMetric(float64(followUp.Microseconds())/float64(b.N), "followup-µs")
}

// BenchmarkLookup is what the checks need for one arrival from a
// 10 000-vehicle registry, as the gate does: after another commit (not
// timed). The registry is in memory, so neither reads the file.
func BenchmarkLookup(b *testing.B) {
	ctx := context.Background()
	s, _ := openTest(b)
	const n = 10000
	snap := bigSnapshot(b, n)
	for i := range 100 {
		tractor, trailer := snap.Vehicles[2*i*40], snap.Vehicles[2*i*40+1]
		snap.Waybills = append(snap.Waybills, registry.Waybill{
			Number: fmt.Sprintf("YD%08d", i), Vehicle: tractor.Plate, Trailer: trailer.Plate,
			Driver: snap.Persons[2*i].IDNumber, Escort: snap.Persons[2*i+1].IDNumber, Carrier: tractor.Carrier,
			ValidFrom: registry.Instant(t0), ValidUntil: registry.Instant(t0.Add(24 * time.Hour)),
			Goods: []registry.Good{{UN: "UN1077", Name: "丙烯", Class: "2.1", QuantityKg: 24000}},
		})
	}
	snap.Blacklist = []registry.BlacklistEntry{{Kind: registry.BlacklistCarrier, Value: "carrier 7", Reason: "test"}}
	if err := s.ImportSnapshot(ctx, snap, "bench", t0); err != nil {
		b.Fatal(err)
	}
	evs := make([]checks.Evidence, len(snap.Waybills))
	for i, w := range snap.Waybills {
		evs[i] = checks.Evidence{Plate: w.Vehicle, Trailer: w.Trailer, Waybill: w.Number,
			Driver: &checks.PersonEvidence{IDNumber: w.Driver}, Escort: &checks.PersonEvidence{IDNumber: w.Escort}}
	}
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		if err := s.Audit(ctx, ActorSystem, "bench.tick", "bench", nil, t0); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		ix, err := s.Lookup(ctx, evs[i%len(evs)])
		if err != nil {
			b.Fatal(err)
		}
		if _, ok := ix.TankOn(evs[i%len(evs)].Trailer); !ok {
			b.Fatal("tank not found")
		}
	}
}
