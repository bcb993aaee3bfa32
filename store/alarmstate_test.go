package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// An active alarm is raised once per condition, outlives a reopen, and is
// cleared once, with its messages in the outbox each time.
func TestActiveAlarms(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "gate.db")
	t0 := time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC)
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	raise := func(s *Store, id string, at time.Time) (ActiveAlarm, bool) {
		t.Helper()
		a := Alarm{ID: id, Gate: "g1", Lane: "in-1", Kind: "device_fault", Detail: "in-1/idcard unplugged", At: at}
		got, raised, err := s.RaiseActiveAlarm(ctx, "device_fault/in-1/idcard", "device_unplugged", a,
			OutboxMessage{ID: id, Kind: KindAlarm, Topic: "events/alarm", Payload: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		return got, raised
	}
	first, raised := raise(s, "01RAISED", t0)
	if !raised || first.ID != "01RAISED" || first.Code != "device_unplugged" {
		t.Fatalf("first raise: %+v raised=%v", first, raised)
	}
	s.Close()
	if s, err = Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	again, raised := raise(s, "01AGAIN", t0.Add(time.Minute))
	if raised || again.ID != "01RAISED" || !again.RaisedAt.Equal(t0) {
		t.Fatalf("raise after a reopen: %+v raised=%v, want the first alarm", again, raised)
	}
	if n := queryInt(t, s, `SELECT count(*) FROM outbox WHERE id = '01AGAIN'`); n != 0 {
		t.Fatal("a second raise queued its event")
	}
	active, err := s.ActiveAlarms(ctx)
	if err != nil || len(active) != 1 || active[0].Key != "device_fault/in-1/idcard" {
		t.Fatalf("active %+v %v", active, err)
	}
	clear := func() (ActiveAlarm, bool) {
		a, ok, err := s.ClearActiveAlarm(ctx, "device_fault/in-1/idcard", t0.Add(2*time.Minute), func(a ActiveAlarm) []OutboxMessage {
			return []OutboxMessage{{ID: "01CLEARED", Kind: KindAlarm, Topic: "events/alarm", Payload: []byte(`{"alarm_id":"` + a.ID + `"}`)}}
		})
		if err != nil {
			t.Fatal(err)
		}
		return a, ok
	}
	if a, ok := clear(); !ok || a.ID != "01RAISED" {
		t.Fatalf("clear: %+v %v", a, ok)
	}
	if _, ok := clear(); ok {
		t.Fatal("cleared twice")
	}
	if n := queryInt(t, s, `SELECT count(*) FROM outbox WHERE id = '01CLEARED'`); n != 1 {
		t.Fatalf("%d cleared events queued, want 1", n)
	}
	if n := queryInt(t, s, `SELECT count(*) FROM audit WHERE action = 'alarm.cleared' AND subject = '01RAISED'`); n != 1 {
		t.Fatalf("%d alarm.cleared audit entries, want 1", n)
	}
	if active, _ := s.ActiveAlarms(ctx); len(active) != 0 {
		t.Fatalf("active after clear %+v", active)
	}
}
