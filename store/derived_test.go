package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/lane"
)

// pauseFollowUps stops the background follow-up goroutine: derived rows are
// then written only by readers that flush (and by Close, and Open).
func pauseFollowUps(s *Store) {
	select {
	case <-s.deriv.quit:
	default:
		close(s.deriv.quit)
	}
	<-s.deriv.done
}

// crash abandons s as a power cut would leave the file: committed
// transactions are there, follow-ups not yet run are not.
func crash(t *testing.T, s *Store) {
	t.Helper()
	pauseFollowUps(s)
	s.stopRegistry()
	s.ckpt.stop()
	if err := s.closeDBs(); err != nil {
		t.Fatal(err)
	}
}

// derivedCounts are the sizes of the derived tables and of what they derive
// from, read on the writer without catching anything up.
func derivedCounts(t *testing.T, s *Store) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, tbl := range []string{"inspections", "inspection_search", "check_results", "audit", "audit_subjects", "outbox", "outbox_ids"} {
		out[tbl] = queryInt(t, s, `SELECT count(*) FROM `+tbl)
	}
	return out
}

// wantWholeDerived fails unless every derived table holds every record's
// rows: nChecks check results per inspection.
func wantWholeDerived(t *testing.T, s *Store, nChecks int64) {
	t.Helper()
	c := derivedCounts(t, s)
	if c["inspection_search"] != c["inspections"] || c["check_results"] != nChecks*c["inspections"] ||
		c["audit_subjects"] != c["audit"] || c["outbox_ids"] != c["outbox"] {
		t.Fatalf("derived tables are not whole: %v", c)
	}
}

// commitSome commits n inspections of distinct plates, each with its
// message, and a passage after each; it returns their IDs and plates.
func commitSome(t *testing.T, s *Store, f fixture, from, n int) (ids, plates []string) {
	t.Helper()
	ctx := context.Background()
	for i := from; i < from+n; i++ {
		at := t0.Add(time.Duration(i) * time.Minute)
		ins := newInspection(f, at, checks.VerdictReject, checks.TankMedia)
		ins.Evidence.Plate = fmt.Sprintf("粤B%05d", i)
		if err := s.CommitInspection(ctx, ins, msg(KindInspection)); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordPassage(ctx, Passage{InspectionID: ins.ID, Direction: lane.DirectionIn, Plate: ins.Evidence.Plate, At: at.Add(time.Minute)}, msg(KindPassage)); err != nil {
			t.Fatal(err)
		}
		ids, plates = append(ids, ins.ID), append(plates, ins.Evidence.Plate)
	}
	return ids, plates
}

// wantFound fails unless a search by each plate finds exactly its
// inspection, the audit of each has its entries, and its check results are
// there with the failed one's reasons.
func wantFound(t *testing.T, s *Store, ids, plates []string) {
	t.Helper()
	ctx := context.Background()
	for i, id := range ids {
		got, err := s.ListInspections(ctx, Filter{Plate: plates[i]})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ID != id {
			t.Fatalf("search by %s found %d inspections, want %s", plates[i], len(got), id)
		}
		entries, err := s.AuditFor(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 2 || entries[0].Action != "inspection.decided" || entries[1].Action != "passage.recorded" {
			t.Fatalf("audit for %s = %+v", id, entries)
		}
		var reasons string
		if err := s.reader.QueryRow(`SELECT reasons FROM check_results WHERE inspection_id = ? AND check_id = ? AND result = 'fail'`,
			id, checks.TankMedia).Scan(&reasons); err != nil || reasons != `["x_tank_media"]` {
			t.Fatalf("%s: tank_media reasons = %s (%v)", id, reasons, err)
		}
	}
	rejects, err := s.ListInspections(ctx, Filter{Verdict: checks.VerdictReject, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if !slices.ContainsFunc(rejects, func(ins Inspection) bool { return ins.ID == id }) {
			t.Fatalf("search by verdict misses %s", id)
		}
	}
}

// Searches see an inspection the moment CommitInspection returns, whether
// or not its follow-up has run.
func TestSearchRightAfterCommit(t *testing.T) {
	f := newFixture(t)

	t.Run("follow-ups paused", func(t *testing.T) {
		s, _ := openTest(t)
		pauseFollowUps(s)
		ids, plates := commitSome(t, s, f, 0, 5)
		if c := derivedCounts(t, s); c["inspection_search"] != 0 || c["check_results"] != 0 {
			t.Fatalf("derived rows written with follow-ups paused: %v", c)
		}
		wantFound(t, s, ids, plates)
		wantWholeDerived(t, s, int64(len(checks.IDs)))
	})

	t.Run("racing the follow-up", func(t *testing.T) {
		s, _ := openTest(t)
		ctx := context.Background()
		for i := range 50 {
			ins := newInspection(f, t0.Add(time.Duration(i)*time.Minute), checks.VerdictPass)
			ins.Evidence.Plate = fmt.Sprintf("粤B%05d", i)
			if err := s.CommitInspection(ctx, ins, msg(KindInspection)); err != nil {
				t.Fatal(err)
			}
			got, err := s.ListInspections(ctx, Filter{Plate: ins.Evidence.Plate})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].ID != ins.ID {
				t.Fatalf("inspection %d not found right after its commit: %d found", i, len(got))
			}
			if all, err := s.ListInspections(ctx, Filter{Limit: 1}); err != nil || len(all) != 1 || all[0].ID != ins.ID {
				t.Fatalf("newest inspection = %v (%v), want %s", all, err, ins.ID)
			}
		}
	})

	t.Run("a failed commit leaves no follow-up due", func(t *testing.T) {
		s, _ := openTest(t)
		pauseFollowUps(s)
		bad := newInspection(f, t0, checks.VerdictPass)
		if err := s.CommitInspection(context.Background(), bad, OutboxMessage{Kind: "gossip", Topic: "x", Payload: json.RawMessage(`{}`)}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("CommitInspection = %v, want ErrInvalid", err)
		}
		if k := s.deriv.pending.Load(); k != 0 {
			t.Fatalf("pending follow-up %b after a rolled-back commit", k)
		}
		// The next one takes the rolled-back one's rowid, and is found.
		ids, plates := commitSome(t, s, f, 0, 1)
		wantFound(t, s, ids, plates)
	})
}

// A crash between a commit and its follow-up: the next Open writes the
// missing derived rows from the records.
func TestCrashBeforeFollowUp(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	s, path := openTest(t)
	ids, plates := commitSome(t, s, f, 0, 3) // followed up normally
	if err := s.flushDerived(ctx); err != nil {
		t.Fatal(err)
	}
	pauseFollowUps(s)
	more, morePlates := commitSome(t, s, f, 3, 4) // never followed up
	ids, plates = append(ids, more...), append(plates, morePlates...)
	rows, err := s.PendingOutbox(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	lastID := rows[len(rows)-1].ID
	c := derivedCounts(t, s)
	if c["inspection_search"] != 3 || c["audit_subjects"] != 6 || c["outbox_ids"] != 6 {
		t.Fatalf("before the crash: %v", c)
	}
	crash(t, s)

	s, err = Open(ctx, path, WithClock(clock.NewFake(t0)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pauseFollowUps(s) // what follows is Open's doing
	wantWholeDerived(t, s, int64(len(checks.IDs)))
	wantFound(t, s, ids, plates)
	if err := s.Enqueue(ctx, t0, OutboxMessage{ID: lastID, Kind: KindStatus, Topic: "status", Payload: json.RawMessage(`{}`)}); err == nil {
		t.Fatal("a message with the ID of one written before the crash was queued")
	}
}

// Derived rows deleted by hand (raw SQL, watermarks untouched) are found
// missing at Open and rebuilt.
func TestDerivedRowsDeletedByHand(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	s, path := openTest(t)
	ids, plates := commitSome(t, s, f, 0, 4)
	if err := s.flushDerived(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := s.PendingOutbox(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`DELETE FROM inspection_search WHERE id IN (?, ?)`,
		`DELETE FROM check_results WHERE inspection_id IN (?, ?)`,
		`DELETE FROM audit_subjects WHERE subject IN (?, ?)`,
	} {
		if _, err := s.writer.Exec(q, ids[2], ids[3]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.writer.Exec(`DELETE FROM outbox_ids WHERE seq > 2`); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(ctx, path, WithClock(clock.NewFake(t0)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	wantWholeDerived(t, s, int64(len(checks.IDs)))
	wantFound(t, s, ids, plates)
	for _, r := range rows {
		if err := s.Enqueue(ctx, t0, OutboxMessage{ID: r.ID, Kind: KindStatus, Topic: "status", Payload: json.RawMessage(`{}`)}); err == nil {
			t.Fatalf("message ID %s (seq %d) queued twice", r.ID, r.Seq)
		}
	}
}

// Outbox IDs are unique without a UNIQUE index, wherever the first one is:
// above the watermark (not followed up yet), below it, or in the same
// transaction. A pruned message frees its ID, as before.
func TestOutboxIDUnique(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	s, _ := openTest(t)
	pauseFollowUps(s)
	status := func(id string) OutboxMessage {
		return OutboxMessage{ID: id, Kind: KindStatus, Topic: "status", Payload: json.RawMessage(`{}`)}
	}
	if err := s.Enqueue(ctx, t0, status("A"), status("B")); err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue(ctx, t0, status("A")); err == nil {
		t.Fatal("duplicate of a message not followed up yet was queued")
	}
	if err := s.flushDerived(ctx); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, s, `SELECT count(*) FROM outbox_ids`); n != 2 {
		t.Fatalf("outbox_ids has %d rows, want 2", n)
	}
	if err := s.Enqueue(ctx, t0, status("B")); err == nil {
		t.Fatal("duplicate of a followed-up message was queued")
	}
	ins := newInspection(f, t0, checks.VerdictPass)
	err := s.CommitInspection(ctx, ins, OutboxMessage{ID: "C", Kind: KindInspection, Topic: "events/inspection", Payload: json.RawMessage(`{}`)},
		OutboxMessage{ID: "C", Kind: KindAlarm, Topic: "events/alarm", Payload: json.RawMessage(`{}`)})
	if err == nil {
		t.Fatal("two messages with one ID were committed")
	}
	if _, err := s.GetInspection(ctx, ins.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the inspection of the failed commit is there: %v", err)
	}
	// In a batch, a duplicate is refused wherever in it the first one
	// is, and the batch leaves nothing behind.
	for _, first := range []int{0, 7, 8, 17} {
		batch := make([]OutboxMessage, 24)
		for i := range batch {
			batch[i] = status(fmt.Sprintf("batch-%d-%d", first, i))
		}
		batch[len(batch)-1].ID = batch[first].ID
		if err := s.Enqueue(ctx, t0, batch...); err == nil {
			t.Fatalf("a batch with message %d's ID twice was queued", first)
		}
		if n := queryInt(t, s, `SELECT count(*) FROM outbox WHERE id LIKE 'batch-%'`); n != 0 {
			t.Fatalf("a refused batch left %d rows", n)
		}
	}
	if n := queryInt(t, s, `SELECT count(*) FROM outbox_ids WHERE id LIKE 'batch-%'`); n != 0 {
		t.Fatalf("a refused batch left %d outbox_ids rows", n)
	}
	if _, err := s.writer.Exec(`UPDATE outbox SET id = 'B' WHERE id = 'A'`); err == nil {
		t.Fatal("an outbox ID was changed")
	}

	if err := s.MarkSent(ctx, 1, 2); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PruneOutbox(ctx, t0.Add(time.Second)); err != nil || n != 2 {
		t.Fatalf("PruneOutbox = %d, %v", n, err)
	}
	if n := queryInt(t, s, `SELECT count(*) FROM outbox_ids`); n != 0 {
		t.Fatalf("outbox_ids keeps %d IDs of pruned messages", n)
	}
	if err := s.Enqueue(ctx, t0, status("A")); err != nil {
		t.Fatalf("the ID of a pruned message: %v", err)
	}
}

// check_results are written after the commit, so what they would refuse is
// refused before it.
func TestCommitInspectionBadChecks(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	s, _ := openTest(t)
	for name, mutate := range map[string]func(*Inspection){
		"a check twice": func(i *Inspection) { i.Outcome.Checks = append(i.Outcome.Checks, i.Outcome.Checks[0]) },
		"a bad result":  func(i *Inspection) { i.Outcome.Checks[2].Result = "maybe" },
	} {
		ins := newInspection(f, t0, checks.VerdictPass)
		mutate(ins)
		if err := s.CommitInspection(ctx, ins, msg(KindInspection)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: CommitInspection = %v, want ErrInvalid", name, err)
		}
	}
	if n := queryInt(t, s, `SELECT count(*) FROM inspections`); n != 0 {
		t.Fatalf("%d inspections written", n)
	}
}

// A file written by the version-1 schema (an index for searches, check
// results written with their inspection, UNIQUE outbox IDs) keeps all of
// it through migration 2.
func TestMigrateFromVersion1(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "v1.db")
	db, err := openDB(ctx, path, true)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	if err := applyMigrations(ctx, db, ms[:1], t0); err != nil {
		t.Fatal(err)
	}
	// What version 1's CommitInspection wrote, with today's helpers.
	v1 := &Store{writer: db, prepared: map[string]*sql.Stmt{}}
	var ids, plates []string
	var msgIDs []string
	for i := range 3 {
		ins := newInspection(f, t0.Add(time.Duration(i)*time.Minute), checks.VerdictReject, checks.TankMedia)
		ins.ID = newID(ins.DecidedAt)
		ins.Evidence.Plate = fmt.Sprintf("粤B%05d", i)
		doc, err := ins.encode()
		if err != nil {
			t.Fatal(err)
		}
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		e := ins.Evidence
		if _, err := tx.Exec(qInsertInspection, ins.ID, ins.Gate, ins.Lane, ins.Direction, e.Plate, e.Plate, e.Trailer, e.Trailer,
			personID(e.Driver), personID(e.Escort), e.Waybill, string(ins.Outcome.Verdict), ins.DecidedBy,
			fmtTime(ins.ArrivedAt), fmtTime(ins.DecidedAt), doc.evidence, doc.outcome, doc.timings); err != nil {
			t.Fatal(err)
		}
		for _, c := range ins.Outcome.Checks {
			codes, _ := json.Marshal(c.Codes())
			if _, err := tx.Exec(`INSERT INTO check_results VALUES (?, ?, ?, ?)`, ins.ID, c.ID, c.Result, string(codes)); err != nil {
				t.Fatal(err)
			}
		}
		if err := v1.appendAudit(ctx, tx, ActorSystem, "inspection.decided", ins.ID, nil, ins.DecidedAt); err != nil {
			t.Fatal(err)
		}
		m := msg(KindInspection)
		if err := v1.insertOutbox(ctx, tx, []OutboxMessage{m}, ins.DecidedAt); err != nil {
			t.Fatal(err)
		}
		if err := v1.appendAudit(ctx, tx, ActorSystem, "passage.recorded", ins.ID, nil, ins.DecidedAt); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		var id string
		if err := db.QueryRow(`SELECT id FROM outbox ORDER BY seq DESC LIMIT 1`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids, plates, msgIDs = append(ids, ins.ID), append(plates, ins.Evidence.Plate), append(msgIDs, id)
	}
	if _, err := db.Exec(`UPDATE outbox SET sent_at = ? WHERE seq = 1`, fmtTime(t0)); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := Open(ctx, path, WithClock(clock.NewFake(t0)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	wantWholeDerived(t, s, int64(len(checks.IDs)))
	wantFound(t, s, ids, plates)
	if err := s.VerifyAudit(ctx); err != nil {
		t.Fatal(err)
	}
	pending, err := s.PendingOutbox(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 2 || pending[0].Seq != 2 || pending[0].ID != msgIDs[1] || pending[1].EventSeq != 3 {
		t.Fatalf("pending after migration = %+v", pending)
	}
	if d, _, err := s.OutboxStats(ctx); err != nil || d != 2 {
		t.Fatalf("OutboxStats = %d, %v", d, err)
	}
	for _, id := range msgIDs {
		if err := s.Enqueue(ctx, t0, OutboxMessage{ID: id, Kind: KindStatus, Topic: "status", Payload: json.RawMessage(`{}`)}); err == nil {
			t.Fatalf("message ID %s from before the migration queued twice", id)
		}
	}
	// New writes number on from the old ones.
	next := msg(KindAlarm)
	if err := s.RecordAlarm(ctx, Alarm{Kind: "test", At: t0}, next); err != nil {
		t.Fatal(err)
	}
	if rows, err := s.PendingOutbox(ctx, 3, 10); err != nil || len(rows) != 1 || rows[0].Seq != 4 || rows[0].EventSeq != 4 {
		t.Fatalf("after migration: %+v, %v", rows, err)
	}
}
