package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/lane"
)

// outcome makes an outcome with all seven checks passing except those in
// failed, which fail with reason code "x_"+id.
func outcome(verdict checks.Verdict, failed ...string) checks.Outcome {
	o := checks.Outcome{Verdict: verdict}
	for _, id := range checks.IDs {
		c := checks.CheckResult{ID: id, Result: checks.Pass}
		for _, f := range failed {
			if f == id {
				c.Result = checks.Fail
				c.Reasons = []checks.Reason{{Code: "x_" + id, Subject: "tractor", ZH: "不通过", EN: "failed"}}
			}
		}
		o.Checks = append(o.Checks, c)
	}
	return o
}

func inspectionMsg(payload string) OutboxMessage {
	return OutboxMessage{Kind: KindInspection, Topic: "events/inspection", Lane: "in-1", Payload: json.RawMessage(payload)}
}

func newInspection(f fixture, at time.Time, verdict checks.Verdict, failed ...string) *Inspection {
	ev := f.evidence()
	ev.Arrived = at
	return &Inspection{
		Gate: "g1", Lane: "in-1", Direction: lane.DirectionIn, Evidence: ev, Outcome: outcome(verdict, failed...),
		DecidedBy: ActorSystem, ArrivedAt: at, DecidedAt: at.Add(21 * time.Second),
		Timings: map[string]time.Duration{"plate": time.Second, "driver_card": 8 * time.Second, "decided": 21 * time.Second},
	}
}

func TestCommitInspection(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	f := newFixture(t)
	ins := newInspection(f, t0, checks.VerdictReject, checks.TankMedia, checks.ParkRules)
	msg := []OutboxMessage{inspectionMsg(`{"schema":"hazgate.inspection/1"}`)}
	if err := s.CommitInspection(ctx, ins, msg...); err != nil {
		t.Fatal(err)
	}
	if ins.ID == "" || msg[0].ID == "" {
		t.Fatalf("IDs not filled: inspection %q, message %q", ins.ID, msg[0].ID)
	}

	t.Run("get returns what was committed", func(t *testing.T) {
		got, err := s.GetInspection(ctx, ins.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := *ins // times come back in UTC
		want.ArrivedAt, want.DecidedAt = want.ArrivedAt.UTC(), want.DecidedAt.UTC()
		if jsonOf(t, got) != jsonOf(t, want) {
			t.Fatalf("GetInspection =\n%s\nwant\n%s", jsonOf(t, got), jsonOf(t, want))
		}
		if !got.DecidedAt.Equal(ins.DecidedAt) || got.Timings["driver_card"] != 8*time.Second {
			t.Fatalf("times: %v %v", got.DecidedAt, got.Timings)
		}
	})

	t.Run("one row per check result", func(t *testing.T) {
		// Derived rows, written by the follow-up transaction: a reader
		// of check_results catches them up first.
		if err := s.flushDerived(ctx); err != nil {
			t.Fatal(err)
		}
		if n := queryInt(t, s, `SELECT count(*) FROM check_results WHERE inspection_id = ?`, ins.ID); n != int64(len(checks.IDs)) {
			t.Fatalf("%d check rows, want %d", n, len(checks.IDs))
		}
		var reasons string
		if err := s.reader.QueryRow(`SELECT reasons FROM check_results WHERE inspection_id = ? AND check_id = ? AND result = 'fail'`,
			ins.ID, checks.TankMedia).Scan(&reasons); err != nil || reasons != `["x_tank_media"]` {
			t.Fatalf("tank_media reasons = %s (%v)", reasons, err)
		}
	})

	t.Run("audited and queued in the same commit", func(t *testing.T) {
		entries, err := s.AuditFor(ctx, ins.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || entries[0].Action != "inspection.decided" || entries[0].Actor != ActorSystem {
			t.Fatalf("audit = %+v", entries)
		}
		rows, err := s.PendingOutbox(ctx, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].ID != msg[0].ID || !rows[0].CreatedAt.Equal(ins.DecidedAt) {
			t.Fatalf("outbox = %+v", rows)
		}
	})

	t.Run("a failing commit writes nothing", func(t *testing.T) {
		dup := newInspection(f, t0, checks.VerdictPass)
		dup.ID = ins.ID // the inspection insert fails
		depth, _, _ := s.OutboxStats(ctx)
		audits := queryInt(t, s, `SELECT count(*) FROM audit`)
		if err := s.CommitInspection(ctx, dup, inspectionMsg(`{}`)); err == nil {
			t.Fatal("committed an inspection with a duplicate ID")
		}
		bad := newInspection(f, t0, checks.VerdictPass)
		if err := s.CommitInspection(ctx, bad, OutboxMessage{Kind: "gossip", Topic: "x", Payload: json.RawMessage(`{}`)}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("bad outbox message: %v, want ErrInvalid", err)
		}
		if _, err := s.GetInspection(ctx, bad.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("the inspection of a failed commit is there: %v", err)
		}
		if d, _, _ := s.OutboxStats(ctx); d != depth {
			t.Fatalf("outbox depth %d after failed commits, want %d", d, depth)
		}
		if n := queryInt(t, s, `SELECT count(*) FROM audit`); n != audits {
			t.Fatalf("audit has %d rows after failed commits, want %d", n, audits)
		}
	})

	t.Run("get unknown", func(t *testing.T) {
		if _, err := s.GetInspection(ctx, "01NOSUCHINSPECTION00000000"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("GetInspection = %v, want ErrNotFound", err)
		}
	})
}

func TestCommitInspectionInvalid(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	f := newFixture(t)
	tests := []struct {
		name   string
		mutate func(*Inspection)
	}{
		{"no direction", func(i *Inspection) { i.Direction = "" }},
		{"sideways", func(i *Inspection) { i.Direction = "sideways" }},
		{"no verdict", func(i *Inspection) { i.Outcome.Verdict = "" }},
		{"no decider", func(i *Inspection) { i.DecidedBy = "" }},
		{"no decision time", func(i *Inspection) { i.DecidedAt = time.Time{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ins := newInspection(f, t0, checks.VerdictPass)
			tt.mutate(ins)
			if err := s.CommitInspection(ctx, ins); !errors.Is(err, ErrInvalid) {
				t.Fatalf("CommitInspection = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestListInspections(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	f := newFixture(t)
	var ids []string // in commit order, one per minute
	add := func(mutate func(*Inspection), verdict checks.Verdict, failed ...string) {
		ins := newInspection(f, t0.Add(time.Duration(len(ids))*time.Minute), verdict, failed...)
		if mutate != nil {
			mutate(ins)
		}
		if err := s.CommitInspection(ctx, ins); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ins.ID)
	}
	add(nil, checks.VerdictPass)                              // 0: the fixture's tanker
	add(nil, checks.VerdictReject, checks.WaybillConsistency) // 1
	add(func(i *Inspection) {                                 // 2: another vehicle, no people
		i.Evidence.Plate, i.Evidence.Trailer, i.Evidence.Driver, i.Evidence.Escort, i.Evidence.Waybill = "沪A00001", "", nil, nil, ""
	}, checks.VerdictReview)
	add(func(i *Inspection) { // 3: the fixture's escort drives
		i.Evidence.Plate, i.Evidence.Driver, i.Evidence.Escort = "苏E11111", &checks.PersonEvidence{IDNumber: f.escort}, nil
		i.Evidence.Trailer, i.Evidence.Waybill = "", "YD-OTHER"
	}, checks.VerdictPass)

	tests := []struct {
		name   string
		filter Filter
		want   []int // indexes into ids, newest first
	}{
		{"everything", Filter{}, []int{3, 2, 1, 0}},
		{"plate normalised", Filter{Plate: "浙ｂ １２３４５"}, []int{1, 0}},
		{"trailer plate", Filter{Plate: "浙B6789挂"}, []int{1, 0}},
		{"unknown plate", Filter{Plate: "京A1"}, nil},
		{"driver, lower-case x", Filter{IDNumber: f.driver[:17] + "x"}, []int{1, 0}},
		{"escort or driver", Filter{IDNumber: f.escort}, []int{3, 1, 0}},
		{"waybill", Filter{Waybill: "YD-OTHER"}, []int{3}},
		{"verdict", Filter{Verdict: checks.VerdictReject}, []int{1}},
		{"from", Filter{From: t0.Add(2 * time.Minute)}, []int{3, 2}},
		{"to is exclusive", Filter{To: t0.Add(2*time.Minute + 21*time.Second)}, []int{1, 0}},
		{"window", Filter{From: t0.Add(time.Minute), To: t0.Add(3 * time.Minute)}, []int{2, 1}},
		{"limit", Filter{Limit: 2}, []int{3, 2}},
		{"combined", Filter{Plate: "浙B12345", Verdict: checks.VerdictPass}, []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ListInspections(ctx, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			var gotIDs, wantIDs []string
			for _, g := range got {
				gotIDs = append(gotIDs, g.ID)
			}
			for _, w := range tt.want {
				wantIDs = append(wantIDs, ids[w])
			}
			if fmt.Sprint(gotIDs) != fmt.Sprint(wantIDs) {
				t.Fatalf("got %v, want %v", gotIDs, wantIDs)
			}
		})
	}
}
