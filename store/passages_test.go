package store

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/lane"
)

func TestLastEntry(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	const plate = "浙B12345"
	type step struct {
		inspection string // a name for an inspection to commit first; "" for none
		dir        lane.Direction
		plate      string
		min        int // minutes after t0
	}
	tests := []struct {
		name   string
		steps  []step
		ask    string
		want   string // the inspection name, "" for not inside
		wantAt int
	}{
		{"never seen", nil, plate, "", 0},
		{"inside", []step{{"A", "in", plate, 1}}, plate, "A", 1},
		{"left", []step{{"A", "in", plate, 1}, {"", "out", plate, 30}}, plate, "", 0},
		{"came back", []step{{"A", "in", plate, 1}, {"", "out", plate, 30}, {"B", "in", plate, 40}}, plate, "B", 40},
		{"plate asked differently", []step{{"A", "in", plate, 1}}, "浙ｂ １２３４５", "A", 1},
		{"another plate's exit does not count", []step{{"A", "in", plate, 1}, {"", "out", "沪A00001", 30}}, plate, "A", 1},
		{"inspected but never passed", []step{{"A", "", plate, 1}}, plate, "", 0},
		{"two entries, no exit", []step{{"A", "in", plate, 1}, {"B", "in", plate, 5}}, plate, "B", 5},
		{"forced entry without inspection", []step{{"A", "in", plate, 1}, {"", "in", plate, 5}}, plate, "A", 1},
		{"exit before entry does not count", []step{{"", "out", plate, 0}, {"A", "in", plate, 1}}, plate, "A", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := openTest(t)
			names := map[string]string{}
			for _, st := range tt.steps {
				at := t0.Add(time.Duration(st.min) * time.Minute)
				var id string
				if st.inspection != "" {
					ins := newInspection(f, at.Add(-21*time.Second), checks.VerdictPass)
					ins.Evidence.Plate = st.plate
					if err := s.CommitInspection(ctx, ins); err != nil {
						t.Fatal(err)
					}
					id, names[ins.ID] = ins.ID, st.inspection
				}
				if st.dir == "" {
					continue
				}
				if err := s.RecordPassage(ctx, Passage{InspectionID: id, Gate: "g1", Lane: "l", Direction: st.dir, Plate: st.plate, At: at}); err != nil {
					t.Fatal(err)
				}
			}
			id, at, ok, err := s.LastEntry(ctx, tt.ask)
			if err != nil {
				t.Fatal(err)
			}
			if names[id] != tt.want || ok != (tt.want != "") {
				t.Fatalf("LastEntry = %q (%s) %v, want %s", id, names[id], ok, tt.want)
			}
			if ok && !at.Equal(t0.Add(time.Duration(tt.wantAt)*time.Minute)) {
				t.Fatalf("at = %v, want t0+%dm", at, tt.wantAt)
			}
		})
	}
}

func TestRecordPassage(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	f := newFixture(t)
	ins := newInspection(f, t0, checks.VerdictPass)
	if err := s.CommitInspection(ctx, ins); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		p       Passage
		wantErr bool
	}{
		{"entry", Passage{ID: "P1", InspectionID: ins.ID, Direction: lane.DirectionIn, Plate: "浙B12345", At: t0.Add(time.Minute)}, false},
		{"exit linked to its entry", Passage{ID: "P2", Direction: lane.DirectionOut, Plate: "浙B12345", At: t0.Add(time.Hour),
			EntryID: ins.ID, Stay: time.Hour - time.Minute}, false},
		{"unknown inspection", Passage{InspectionID: "nope", Direction: lane.DirectionIn, Plate: "x", At: t0}, true},
		{"unknown entry", Passage{EntryID: "nope", Direction: lane.DirectionOut, Plate: "x", At: t0}, true},
		{"no direction", Passage{Plate: "x", At: t0}, true},
		{"no time", Passage{Direction: lane.DirectionIn, Plate: "x"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := OutboxMessage{Kind: KindPassage, Topic: "events/passage", Payload: json.RawMessage(`{}`)}
			err := s.RecordPassage(ctx, tt.p, msg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("RecordPassage = %v, want error %v", err, tt.wantErr)
			}
		})
	}
	entries, err := s.AuditFor(ctx, ins.ID)
	if err != nil {
		t.Fatal(err)
	}
	// inspection.decided and the entry; the exit has no inspection of its own.
	if len(entries) != 2 || entries[1].Action != "passage.recorded" {
		t.Fatalf("audit for the inspection = %+v", entries)
	}
	if exit, err := s.AuditFor(ctx, "P2"); err != nil || len(exit) != 1 {
		t.Fatalf("audit for the exit = %+v, %v", exit, err)
	}
	if n := queryInt(t, s, `SELECT stay_ns FROM passages WHERE id = 'P2'`); n != int64(59*time.Minute) {
		t.Fatalf("stay = %v", time.Duration(n))
	}
}

func TestRecordDecision(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	f := newFixture(t)
	ins := newInspection(f, t0, checks.VerdictReview)
	if err := s.CommitInspection(ctx, ins); err != nil {
		t.Fatal(err)
	}
	ok := Decision{InspectionID: ins.ID, Operator: "王工", Action: ActionRelease, Reason: "人脸服务故障，人工核验证件", At: t0.Add(time.Minute)}
	tests := []struct {
		name    string
		mutate  func(*Decision)
		wantErr error // nil for success; errAny for an error of any kind
	}{
		{"release with a reason", nil, nil},
		{"no reason", func(d *Decision) { d.Reason = "  " }, ErrInvalid},
		{"no operator", func(d *Decision) { d.Operator = "" }, ErrInvalid},
		{"unknown action", func(d *Decision) { d.Action = "wave" }, ErrInvalid},
		{"unknown inspection", func(d *Decision) { d.InspectionID = "nope" }, errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := ok
			if tt.mutate != nil {
				tt.mutate(&d)
			}
			err := s.RecordDecision(ctx, d, OutboxMessage{Kind: KindAlarm, Topic: "events/alarm", Payload: json.RawMessage(`{}`)})
			switch {
			case tt.wantErr == nil && err != nil, tt.wantErr != nil && err == nil:
				t.Fatalf("RecordDecision = %v, want %v", err, tt.wantErr)
			case tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
				t.Fatalf("RecordDecision = %v, want %v", err, tt.wantErr)
			}
		})
	}
	ds, err := s.Decisions(ctx, ins.ID)
	if err != nil || len(ds) != 1 || ds[0].Reason != ok.Reason || !ds[0].At.Equal(ok.At) {
		t.Fatalf("Decisions = %+v, %v", ds, err)
	}
	entries, err := s.AuditFor(ctx, ins.ID)
	if err != nil {
		t.Fatal(err)
	}
	if last := entries[len(entries)-1]; last.Actor != "operator:王工" || last.Action != "decision.release" {
		t.Fatalf("last audit entry = %+v", last)
	}
}

var errAny = errors.New("any error")

func TestRecordAlarm(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	a := Alarm{ID: "A1", Gate: "g1", Lane: "in-1", Kind: "barrier_forced", Detail: "loop occupied without a command", At: t0}
	if err := s.RecordAlarm(ctx, a, OutboxMessage{Kind: KindAlarm, Topic: "events/alarm", Payload: json.RawMessage(`{"kind":"barrier_forced"}`)}); err != nil {
		t.Fatal(err)
	}
	entries, err := s.AuditFor(ctx, "A1")
	if err != nil || len(entries) != 1 || entries[0].Action != "alarm.raised" {
		t.Fatalf("audit = %+v, %v", entries, err)
	}
	if err := s.RecordAlarm(ctx, Alarm{At: t0}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("alarm without a kind: %v, want ErrInvalid", err)
	}
}
