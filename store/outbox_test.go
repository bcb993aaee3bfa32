package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/lane"
)

func msg(kind string) OutboxMessage {
	return OutboxMessage{Kind: kind, Topic: "x/" + kind, Lane: "in-1", Payload: json.RawMessage(`{"k":"` + kind + `"}`)}
}

func TestOutboxSeq(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	f := newFixture(t)

	// Every way a message gets in, interleaved.
	var kinds []string
	at := t0
	for i := range 3 {
		at = at.Add(time.Minute)
		ins := newInspection(f, at, checks.VerdictPass)
		if err := s.CommitInspection(ctx, ins, msg(KindInspection)); err != nil {
			t.Fatal(err)
		}
		if err := s.Enqueue(ctx, at, msg(KindTelemetry), msg(KindStatus)); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordPassage(ctx, Passage{InspectionID: ins.ID, Direction: lane.DirectionIn, Plate: "浙B12345", At: at}, msg(KindPassage)); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordAlarm(ctx, Alarm{Kind: "test", At: at}, msg(KindAlarm), msg(KindAlarm)); err != nil {
			t.Fatal(err)
		}
		if i == 1 { // a failed transaction takes no seq
			bad := newInspection(f, at, checks.VerdictPass)
			bad.ID = ins.ID
			if err := s.CommitInspection(ctx, bad, msg(KindInspection)); err == nil {
				t.Fatal("duplicate inspection committed")
			}
		}
		kinds = append(kinds, KindInspection, KindTelemetry, KindStatus, KindPassage, KindAlarm, KindAlarm)
	}

	rows, err := s.PendingOutbox(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(kinds) {
		t.Fatalf("%d pending, want %d", len(rows), len(kinds))
	}
	var event int64
	for i, r := range rows {
		if r.Seq != int64(i+1) {
			t.Fatalf("row %d has seq %d, want %d", i, r.Seq, i+1)
		}
		if r.Kind != kinds[i] {
			t.Fatalf("row %d is %s, want %s", i, r.Kind, kinds[i])
		}
		want := int64(0)
		if isEvent(r.Kind) {
			event++
			want = event
		}
		if r.EventSeq != want {
			t.Fatalf("row %d (%s) has event seq %d, want %d", i, r.Kind, r.EventSeq, want)
		}
		if r.ID == "" || string(r.Payload) != `{"k":"`+r.Kind+`"}` {
			t.Fatalf("row %d = %+v", i, r)
		}
	}

	t.Run("paging", func(t *testing.T) {
		page, err := s.PendingOutbox(ctx, 4, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) != 3 || page[0].Seq != 5 || page[2].Seq != 7 {
			t.Fatalf("page = %+v", page)
		}
	})

	t.Run("mark sent", func(t *testing.T) {
		if err := s.MarkSent(ctx, 1, 2, 3, 5, 99); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkSent(ctx, 1); err != nil { // again: ignored
			t.Fatal(err)
		}
		page, err := s.PendingOutbox(ctx, 0, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) != 2 || page[0].Seq != 4 || page[1].Seq != 6 {
			t.Fatalf("pending after MarkSent = %+v", page)
		}
		depth, oldest, err := s.OutboxStats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if depth != len(kinds)-4 || !oldest.Equal(rows[3].CreatedAt) {
			t.Fatalf("OutboxStats = %d %v, want %d %v", depth, oldest, len(kinds)-4, rows[3].CreatedAt)
		}
		var sync int
		if err := s.writer.QueryRow(`PRAGMA synchronous`).Scan(&sync); err != nil || sync != 2 {
			t.Fatalf("synchronous after MarkSent = %d (%v), want 2 (FULL)", sync, err)
		}
	})

	t.Run("pruning never lets a seq be reused", func(t *testing.T) {
		all := make([]int64, len(rows))
		for i, r := range rows {
			all[i] = r.Seq
		}
		if err := s.MarkSent(ctx, all...); err != nil {
			t.Fatal(err)
		}
		n, err := s.PruneOutbox(ctx, t0.Add(time.Second)) // the fake clock stamped sent_at at t0
		if err != nil || n != len(rows) {
			t.Fatalf("PruneOutbox = %d, %v; want %d", n, err, len(rows))
		}
		if depth, oldest, err := s.OutboxStats(ctx); err != nil || depth != 0 || !oldest.IsZero() {
			t.Fatalf("OutboxStats = %d %v %v", depth, oldest, err)
		}
		if err := s.RecordAlarm(ctx, Alarm{Kind: "test", At: at}, msg(KindAlarm)); err != nil {
			t.Fatal(err)
		}
		next, err := s.PendingOutbox(ctx, 0, 10)
		if err != nil || len(next) != 1 || next[0].Seq != int64(len(rows)+1) || next[0].EventSeq != event+1 {
			t.Fatalf("after pruning: %+v, %v; want seq %d, event seq %d", next, err, len(rows)+1, event+1)
		}
	})
}

func TestOutboxInvalid(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	tests := []struct {
		name string
		m    OutboxMessage
	}{
		{"unknown kind", OutboxMessage{Kind: "gossip", Topic: "t", Payload: json.RawMessage(`{}`)}},
		{"no topic", OutboxMessage{Kind: KindStatus, Payload: json.RawMessage(`{}`)}},
		{"payload not JSON", OutboxMessage{Kind: KindStatus, Topic: "t", Payload: json.RawMessage(`{`)}},
		{"no payload", OutboxMessage{Kind: KindStatus, Topic: "t"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Enqueue(ctx, t0, msg(KindStatus), tt.m); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Enqueue = %v, want ErrInvalid", err)
			}
			if depth, _, _ := s.OutboxStats(ctx); depth != 0 {
				t.Fatalf("depth %d after a failed enqueue", depth)
			}
		})
	}
}

func TestOutboxLimit(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t, WithOutboxLimit(3))
	steps := []struct {
		kind    string
		pending []string // the kinds pending afterwards, in order
	}{
		{KindTelemetry, []string{KindTelemetry}},
		{KindStatus, []string{KindTelemetry, KindStatus}},
		{KindInspection, []string{KindTelemetry, KindStatus, KindInspection}},
		{KindTelemetry, []string{KindTelemetry, KindStatus, KindInspection}},               // full: dropped
		{KindAlarm, []string{KindStatus, KindInspection, KindAlarm}},                       // displaces the oldest telemetry
		{KindPassage, []string{KindInspection, KindAlarm, KindPassage}},                    // then the status
		{KindInspection, []string{KindInspection, KindAlarm, KindPassage, KindInspection}}, // events are never dropped
		{KindStatus, []string{KindInspection, KindAlarm, KindPassage, KindInspection}},
	}
	for i, st := range steps {
		if err := s.Enqueue(ctx, t0.Add(time.Duration(i)*time.Second), msg(st.kind)); err != nil {
			t.Fatal(err)
		}
		checkPendingKinds(t, s, fmt.Sprintf("step %d (%s)", i, st.kind), st.pending)
	}
}

// checkPendingKinds holds the kinds of the unsent messages, in order, and
// the outbox depth, to want.
func checkPendingKinds(t *testing.T, s *Store, what string, want []string) {
	t.Helper()
	ctx := context.Background()
	rows, err := s.PendingOutbox(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.Kind)
	}
	if jsonOf(t, got) != jsonOf(t, want) {
		t.Fatalf("%s: pending %v, want %v", what, got, want)
	}
	if depth, _, _ := s.OutboxStats(ctx); depth != len(want) {
		t.Fatalf("%s: depth %d, want %d", what, depth, len(want))
	}
}

func TestMarkSentUsesClock(t *testing.T) {
	ctx := context.Background()
	c := clock.NewFake(t0.Add(time.Hour))
	s, _ := openTest(t, WithClock(c))
	if err := s.Enqueue(ctx, t0, msg(KindStatus)); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSent(ctx, 1); err != nil {
		t.Fatal(err)
	}
	var sent string
	if err := s.reader.QueryRow(`SELECT sent_at FROM outbox WHERE seq = 1`).Scan(&sent); err != nil || sent != fmtTime(t0.Add(time.Hour)) {
		t.Fatalf("sent_at = %q (%v), want %s", sent, err, fmtTime(t0.Add(time.Hour)))
	}
}

// The outbox bound holds inside one batch as it does across commits.
func TestOutboxLimitBatch(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t, WithOutboxLimit(3))
	kinds := []string{KindTelemetry, KindStatus, KindInspection, KindTelemetry, KindAlarm, KindPassage, KindInspection, KindStatus}
	var msgs []OutboxMessage
	for _, k := range kinds {
		msgs = append(msgs, msg(k))
	}
	if err := s.Enqueue(ctx, t0, msgs...); err != nil {
		t.Fatal(err)
	}
	checkPendingKinds(t, s, "one batch", []string{KindInspection, KindAlarm, KindPassage, KindInspection})
}
