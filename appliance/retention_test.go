package appliance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/config"
	"github.com/hazgate/hazgate/record"
	"github.com/hazgate/hazgate/store"
)

// newTestAppliance assembles an appliance on missing devices (their lane
// is in fault), with extra appended to its configuration.
func newTestAppliance(t *testing.T, extra string, clk *clock.Fake, log *slog.Logger) *Appliance {
	t.Helper()
	dir := t.TempDir()
	yml := fmt.Sprintf(`park: p1
gate: g1
database: %s
lanes:
  - name: in-1
    direction: in
    idcard: {port: %s}
    scanner: {port: %s}
    arrival_loop: {pin: NO_SUCH_PIN_1}
    safety_loop: {pin: NO_SUCH_PIN_2}
    barrier: {open_pin: NO_SUCH_PIN_3, close_pin: NO_SUCH_PIN_4}
mqtt: {broker: "tcp://127.0.0.1:1"}
`, filepath.Join(dir, "gate.db"), filepath.Join(dir, "no-reader"), filepath.Join(dir, "no-scanner")) + extra
	cfg, err := config.Parse([]byte(yml), "hazgate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(context.Background(), cfg, Options{Clock: clk, Log: log, GPIOInit: func() error { return nil }, ClockSource: clock.NewFakeSource(clk)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.st.Close() })
	a.gate.ClockMonitor.Check(context.Background()) // synced, as Gate.Run finds it
	return a
}

// The retention job deletes face images after retention.faces and records
// after retention.records once they were delivered; the old scalar key
// still sets the faces' period, with a deprecation note in the log.
func TestRetentionJob(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC)
	clk := clock.NewFake(now)
	var logs bytes.Buffer
	a := newTestAppliance(t, "retention: 72h\n", clk, slog.New(slog.NewTextHandler(&logs, nil)))
	st := a.Store()
	for _, at := range []time.Time{now.Add(-4 * 24 * time.Hour), now.Add(-2 * 24 * time.Hour)} {
		if err := st.PutMedia(ctx, store.Media{InspectionID: "I1", Kind: "face_driver", Data: []byte{1}, CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	msg := func() store.OutboxMessage {
		return store.OutboxMessage{Kind: store.KindAlarm, Topic: "events/alarm", Payload: json.RawMessage(`{}`)}
	}
	// Two alarms from 25 months ago: one delivered, one not.
	old := now.AddDate(0, -25, 0)
	for i, id := range []string{"A1", "A2"} {
		if err := st.RecordAlarm(ctx, store.Alarm{ID: id, Gate: "g1", Kind: record.AlarmRejection, Detail: "x", At: old.Add(time.Duration(i) * time.Hour)}, msg()); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := st.PendingOutbox(ctx, 0, 10)
	if err != nil || len(rows) != 2 {
		t.Fatalf("pending %d, %v", len(rows), err)
	}
	if err := st.MarkSent(ctx, rows[0].Seq); err != nil {
		t.Fatal(err)
	}
	// While the clock is not trusted, nothing is purged.
	src := clock.NewFakeSource(clk)
	src.SetSynced(false)
	untrusted := *a.gate
	untrusted.ClockMonitor = clock.NewMonitor(clk, src, clock.MonitorConfig{})
	untrusted.ClockMonitor.Check(ctx)
	trusted := a.gate
	a.gate = &untrusted
	if res, err := a.purgeOnce(ctx); err != nil || res.Total() != 0 {
		t.Fatalf("purged %+v (%v) on a clock not trusted", res, err)
	}
	a.gate = trusted
	res, err := a.purgeOnce(ctx)
	if err != nil || res.Media != 1 || res.Alarms != 1 || res.HeldBack.IsZero() {
		t.Fatalf("purge %+v, %v; want one image and the delivered alarm, held back by the other", res, err)
	}
	if !strings.Contains(logs.String(), "kept until the platform has received them") {
		t.Errorf("the held-back records are not in the log:\n%s", logs.String())
	}
	if err := st.VerifyAudit(ctx); err != nil {
		t.Fatalf("audit after the purge: %v", err)
	}

	stopped, cancel := context.WithCancel(ctx)
	cancel()
	a.retain(stopped)
	if !strings.Contains(logs.String(), "retention: a single duration is deprecated") {
		t.Errorf("no deprecation note for the old key:\n%s", logs.String())
	}
}

// Below disk.min_free the disk_low alarm goes out (zh and en), the store
// queues no telemetry, and both end when there is room again.
func TestDiskLowCondition(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC))
	// No disk has an exbibyte free.
	a := newTestAppliance(t, "disk: {min_free: 1048576GiB}\n", clk, nil)
	diskAlarms := func() []record.AlarmEvent {
		rows, err := a.st.PendingOutbox(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var out []record.AlarmEvent
		for _, r := range rows {
			var ev record.AlarmEvent
			if r.Kind == store.KindAlarm && json.Unmarshal(r.Payload, &ev) == nil && ev.Kind == record.AlarmDiskLow {
				out = append(out, ev)
			}
		}
		return out
	}
	a.checkConditions(ctx)
	a.checkConditions(ctx)
	got := diskAlarms()
	if len(got) != 1 || got[0].State != record.StateRaised || got[0].Code != "disk_low" ||
		!strings.Contains(got[0].Text.EN, "Telemetry is paused") || !strings.Contains(got[0].Text.ZH, "遥测已暂停") {
		t.Fatalf("disk alarms %+v, want disk_low raised once, in zh and en", got)
	}
	if !a.st.DiskLow() {
		t.Fatal("the store was not told the disk is low")
	}
	a.cfg.Disk.MinFree = 1
	clk.Advance(conditionEvery)
	a.checkConditions(ctx)
	got = diskAlarms()
	if len(got) != 2 || got[1].State != record.StateCleared || got[1].AlarmID != got[0].AlarmID {
		t.Fatalf("disk alarms %+v, want disk_low cleared", got)
	}
	if a.st.DiskLow() {
		t.Fatal("the store still thinks the disk is low")
	}
}
