package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
)

func decisionMsg() OutboxMessage {
	return OutboxMessage{Kind: KindDecision, Topic: "events/decision", Payload: json.RawMessage(`{"action":"refuse"}`)}
}

// A release or a refusal closes the case: a second decision on the same
// inspection is refused with ErrDecided, naming the first, and writes
// nothing (no decision, no audit entry, no outbox message).
func TestOneDecisionPerInspection(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	f := newFixture(t)
	ins := newInspection(f, t0, checks.VerdictReject, "tank_media")
	if err := s.CommitInspection(ctx, ins); err != nil {
		t.Fatal(err)
	}
	first := Decision{InspectionID: ins.ID, Operator: "王工", Action: ActionRefuse, Reason: "罐体不适装", At: t0.Add(time.Minute)}
	if err := s.RecordDecision(ctx, first, decisionMsg()); err != nil {
		t.Fatal(err)
	}
	count := func() [3]int64 {
		return [3]int64{
			queryInt(t, s, `SELECT count(*) FROM decisions`),
			queryInt(t, s, `SELECT count(*) FROM audit`),
			queryInt(t, s, `SELECT count(*) FROM outbox`),
		}
	}
	before := count()
	for _, action := range []string{ActionRefuse, ActionRelease} {
		second := first
		second.Operator, second.Action, second.At = "李工", action, t0.Add(2*time.Minute)
		err := s.RecordDecision(ctx, second, decisionMsg())
		if !errors.Is(err, ErrDecided) {
			t.Fatalf("second decision (%s) = %v, want ErrDecided", action, err)
		}
		if want := "was refused by 王工"; !strings.Contains(err.Error(), want) {
			t.Fatalf("second decision error %q does not say %q", err, want)
		}
	}
	if after := count(); after != before {
		t.Fatalf("decisions, audit, outbox after the refused decisions = %v, want %v", after, before)
	}
	// The trigger refuses a second row to any other writer too.
	if _, err := s.writer.Exec(`INSERT INTO decisions (inspection_id, operator, action, reason, at) VALUES (?, 'x', 'release', 'y', ?)`,
		ins.ID, fmtTime(t0)); err == nil {
		t.Fatal("a second decision row inserted directly was accepted")
	}
}

// Operators deciding the same inspection at once: exactly one decision is
// recorded.
func TestConcurrentDecisions(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	f := newFixture(t)
	ins := newInspection(f, t0, checks.VerdictReview)
	if err := s.CommitInspection(ctx, ins); err != nil {
		t.Fatal(err)
	}
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			action := ActionRelease
			if i%2 == 1 {
				action = ActionRefuse
			}
			errs[i] = s.RecordDecision(ctx, Decision{InspectionID: ins.ID, Operator: "op", Action: action, Reason: "r", At: t0.Add(time.Minute)}, decisionMsg())
		}()
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrDecided):
			t.Fatalf("decision %d: %v, want nil or ErrDecided", i, err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d decisions recorded, want 1", ok)
	}
	if ds, err := s.Decisions(ctx, ins.ID); err != nil || len(ds) != 1 {
		t.Fatalf("Decisions = %+v, %v", ds, err)
	}
	if n := queryInt(t, s, `SELECT count(*) FROM outbox WHERE kind = 'decision'`); n != 1 {
		t.Fatalf("%d decision messages in the outbox, want 1", n)
	}
}

// The history filters by outcome: passed, pending, released, refused.
func TestOutcomeFilter(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	f := newFixture(t)
	mk := func(min int, v checks.Verdict, failed ...string) string {
		ins := newInspection(f, t0.Add(time.Duration(min)*time.Minute), v, failed...)
		if err := s.CommitInspection(ctx, ins); err != nil {
			t.Fatal(err)
		}
		return ins.ID
	}
	passed := mk(0, checks.VerdictPass)
	pending := mk(1, checks.VerdictReview)
	released := mk(2, checks.VerdictReview)
	refused := mk(3, checks.VerdictReject, "tank_media")
	for id, action := range map[string]string{released: ActionRelease, refused: ActionRefuse} {
		if err := s.RecordDecision(ctx, Decision{InspectionID: id, Operator: "王工", Action: action, Reason: "核验", At: t0.Add(time.Hour)}, decisionMsg()); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct{ outcome, want string }{
		{OutcomePassed, passed}, {OutcomePending, pending}, {OutcomeReleased, released}, {OutcomeRefused, refused},
	} {
		t.Run(tt.outcome, func(t *testing.T) {
			list, err := s.ListInspections(ctx, Filter{Outcome: tt.outcome})
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 1 || list[0].ID != tt.want {
				t.Fatalf("outcome %s selects %d inspections, want %s", tt.outcome, len(list), tt.want)
			}
			ds, err := s.Decisions(ctx, list[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			if got := Outcome(string(list[0].Outcome.Verdict), ds); got != tt.outcome {
				t.Fatalf("Outcome = %s, want %s", got, tt.outcome)
			}
		})
	}
	if _, err := s.ListInspections(ctx, Filter{Outcome: "waved"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("outcome waved: %v, want ErrInvalid", err)
	}
}

// A decision message is an event: it takes the next event seq, in order
// with the others.
func TestDecisionMessageIsAnEvent(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	f := newFixture(t)
	ins := newInspection(f, t0, checks.VerdictReview)
	if err := s.CommitInspection(ctx, ins, OutboxMessage{Kind: KindInspection, Topic: "events/inspection", Payload: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue(ctx, t0, OutboxMessage{Kind: KindStatus, Topic: "status", Payload: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	d := Decision{InspectionID: ins.ID, Operator: "王工", Action: ActionRelease, Reason: "核验", At: t0.Add(time.Minute)}
	if err := s.RecordDecision(ctx, d, OutboxMessage{Kind: KindAlarm, Topic: "events/alarm", Payload: json.RawMessage(`{}`)}, decisionMsg()); err != nil {
		t.Fatal(err)
	}
	rows, err := s.PendingOutbox(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	var seqs []int64
	for _, r := range rows {
		kinds = append(kinds, r.Kind)
		seqs = append(seqs, r.EventSeq)
	}
	if want := []string{KindInspection, KindStatus, KindAlarm, KindDecision}; !slices.Equal(kinds, want) {
		t.Fatalf("kinds = %v, want %v", kinds, want)
	}
	if want := []int64{1, 0, 2, 3}; !slices.Equal(seqs, want) {
		t.Fatalf("event seqs = %v, want %v", seqs, want)
	}
}

// A file from before schema 12 that holds two decisions on one inspection
// (a second refusal was accepted then) upgrades and keeps both; its unsent
// outbox rows, their seqs and the counters survive the outbox's rebuild.
func TestMigrateDecisionOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v10.db")
	db, err := openDB(ctx, path, true)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ms, func(m migration) bool { return m.version == 12 })
	if i < 0 {
		t.Fatal("no migration 12")
	}
	if err := applyMigrations(ctx, db, ms[:i], t0); err != nil {
		t.Fatal(err)
	}
	old := &Store{writer: db, prepared: map[string]*sql.Stmt{}}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if err := old.insertOutbox(ctx, tx, []OutboxMessage{msg(KindAlarm), msg(KindTelemetry), msg(KindAlarm)}, t0); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`UPDATE outbox SET sent_at = '` + fmtTime(t0) + `' WHERE seq = 1`,
		`INSERT INTO inspections (id, gate, lane, direction, plate, plate_norm, trailer, trailer_norm, driver_id, escort_id, waybill, verdict, decided_by, evidence, outcome, timings, arrived_at, decided_at)
			VALUES ('I1', 'g1', 'in-1', 'in', 'p', 'p', '', '', '', '', '', 'reject', 'system', '{}', '{}', '{}', '` + fmtTime(t0) + `', '` + fmtTime(t0) + `')`,
		`INSERT INTO decisions (inspection_id, operator, action, reason, at) VALUES ('I1', 'a', 'refuse', 'r1', '` + fmtTime(t0) + `')`,
		`INSERT INTO decisions (inspection_id, operator, action, reason, at) VALUES ('I1', 'b', 'refuse', 'r2', '` + fmtTime(t0) + `')`,
	} {
		if _, err := tx.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := Open(ctx, path, WithClock(clock.NewFake(t0)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := queryInt(t, s, `SELECT count(*) FROM decisions WHERE inspection_id = 'I1'`); n != 2 {
		t.Fatalf("%d decisions kept, want 2", n)
	}
	checkPending(t, s)
	if got := pendingSeqs(t, s); !slices.Equal(got, []int64{2, 3}) {
		t.Fatalf("pending after the upgrade = %v, want 2 3", got)
	}
	if n := queryInt(t, s, `SELECT count(*) FROM outbox_ids`) + queryInt(t, s, `SELECT count(*) FROM outbox`); n < 3 {
		t.Fatalf("outbox rows lost in the rebuild")
	}
	if err := s.Enqueue(ctx, t0, msg(KindDecision)); err != nil {
		t.Fatalf("a decision message after the upgrade: %v", err)
	}
	if n := queryInt(t, s, `SELECT event_seq FROM outbox WHERE kind = 'decision'`); n != 3 {
		t.Fatalf("the decision message's event seq = %d, want 3", n)
	}
	if err := s.Enqueue(ctx, t0, OutboxMessage{ID: "dup", Kind: KindStatus, Topic: "status", Payload: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue(ctx, t0, OutboxMessage{ID: "dup", Kind: KindStatus, Topic: "status", Payload: json.RawMessage(`{}`)}); err == nil {
		t.Fatal("a duplicate outbox id was accepted after the rebuild: the trigger is gone")
	}
}
