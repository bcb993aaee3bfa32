package uplink

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/store"
)

// SchemaTelemetry is the schema of <root>/telemetry.
const SchemaTelemetry = "hazgate.telemetry/1"

// Telemetry is the payload of <root>/telemetry (QoS 0): periodic health
// figures. It goes through the outbox like the events, so an outage leaves
// a history that arrives afterwards marked with queued_s; the store drops
// telemetry first when the outbox is full.
type Telemetry struct {
	Schema        string  `json:"schema"`
	ID            string  `json:"id"`
	Gate          string  `json:"gate"`
	Lane          string  `json:"lane"`
	TS            string  `json:"ts"`
	UptimeS       float64 `json:"uptime_s"`
	Connected     bool    `json:"connected"`
	Reconnects    int64   `json:"reconnects"`
	Published     int64   `json:"published"`
	Acked         int64   `json:"acked"`
	OutboxDepth   int     `json:"outbox_depth"`
	OutboxOldestS float64 `json:"outbox_oldest_s"`
	RegistryAgeS  float64 `json:"registry_age_s"`
	DevicesFaulty int     `json:"devices_faulty"`
	HeapBytes     uint64  `json:"heap_bytes"`
	Goroutines    int     `json:"goroutines"`
}

// telemetryLoop writes a telemetry message to the outbox at start and then
// TelemetryInterval of the gate's clock after each: the first figures do
// not wait for the first interval.
func (u *Uplink) telemetryLoop(ctx context.Context) {
	if u.cfg.TelemetryInterval < 0 {
		return
	}
	paused := false
	for {
		// While the database's disk is low the store would drop it
		// anyway (store.SetDiskLow): the room left is for records.
		if low := u.st.DiskLow(); low != paused {
			paused = low
			if low {
				u.log.Warn("telemetry paused: the database's disk is nearly full")
			} else {
				u.log.Info("telemetry resumed: the disk has room again")
			}
		}
		if !paused {
			if err := u.enqueueTelemetry(ctx); err != nil && ctx.Err() == nil {
				u.log.Error("telemetry not queued", "err", err)
			}
		}
		// The interval is waited as a duration, not to an instant of
		// Now: the simulator's timers run on the wall clock while its
		// Now runs at scenario speed.
		if !clock.Sleep(ctx, u.clk, u.cfg.TelemetryInterval) {
			return
		}
	}
}

func (u *Uplink) enqueueTelemetry(ctx context.Context) error {
	now := u.clk.Now()
	id := ulid.MustNew(ulid.Timestamp(now), ulid.DefaultEntropy()).String()
	st := u.Stats()
	t := Telemetry{
		Schema: SchemaTelemetry, ID: id, Gate: u.cfg.Gate, TS: now.In(u.cfg.Location).Format(time.RFC3339Nano),
		UptimeS: roundS(now.Sub(u.started)), Connected: u.Connection().Connected,
		Reconnects: st.Reconnects, Published: st.Published, Acked: st.Acked,
		Goroutines: runtime.NumGoroutine(),
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.HeapBytes = ms.HeapAlloc
	if depth, oldest, err := u.st.OutboxStats(ctx); err == nil {
		t.OutboxDepth = depth
		if !oldest.IsZero() {
			t.OutboxOldestS = roundS(now.Sub(oldest))
		}
	}
	if m, err := u.st.RegistryMeta(ctx); err == nil && !m.SyncedAt.IsZero() {
		t.RegistryAgeS = roundS(now.Sub(m.SyncedAt))
	}
	if u.deps.Status != nil {
		for _, d := range u.deps.Status.Status().Devices {
			if !d.OK {
				t.DevicesFaulty++
			}
		}
	}
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("uplink: telemetry: %w", err)
	}
	if err := u.st.Enqueue(ctx, now, store.OutboxMessage{ID: id, Kind: store.KindTelemetry, Topic: "telemetry", Payload: b}); err != nil {
		return fmt.Errorf("uplink: telemetry: %w", err)
	}
	u.Kick()
	return nil
}

// watchOutbox raises an outbox_full alarm when the outbox reaches its
// bound, and again only after it has fallen below 90 % of it. At the bound
// the store drops telemetry and status; events are kept, so the depth can
// go on growing: the alarm says so.
func (u *Uplink) watchOutbox(ctx context.Context) {
	if u.cfg.OutboxMax <= 0 {
		return
	}
	t := time.NewTicker(u.cfg.StatusPoll)
	defer t.Stop()
	for {
		u.checkOutbox(ctx)
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

func (u *Uplink) checkOutbox(ctx context.Context) {
	depth, oldest, err := u.st.OutboxStats(ctx)
	if err != nil {
		return
	}
	max := u.cfg.OutboxMax
	switch {
	case depth >= max && !u.outboxAlarmed.Load():
		now := u.clk.Now()
		detail := fmt.Sprintf("outbox full: %d unsent messages (bound %d), oldest from %s; telemetry is being dropped, inspections, passages and alarms are kept",
			depth, max, oldest.In(u.cfg.Location).Format(time.RFC3339))
		if err := u.deps.Alarms.RaiseAlarm(ctx, "", AlarmOutboxFull, detail, now); err != nil {
			u.log.Error("outbox_full alarm not recorded", "err", err)
			return
		}
		u.outboxAlarmed.Store(true)
		u.log.Error("outbox full", "depth", depth, "max", max)
		u.StatusChanged()
		u.Kick()
	case depth < max*9/10 && u.outboxAlarmed.Load():
		u.outboxAlarmed.Store(false)
		u.log.Info("outbox below its bound again", "depth", depth, "max", max)
	}
}
