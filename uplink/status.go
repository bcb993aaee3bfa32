package uplink

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	"github.com/hazgate/hazgate/buildinfo"
	"github.com/hazgate/hazgate/health"
	"github.com/hazgate/hazgate/lane"
)

// SchemaStatus is the schema of <root>/status.
const SchemaStatus = "hazgate.status/1"

// StatusReport is the payload of the retained <root>/status. The status
// source fills Lanes and Devices; the uplink fills the rest when it
// publishes.
type StatusReport struct {
	Schema   string          `json:"schema"`
	Gate     string          `json:"gate"`
	Park     string          `json:"park"`
	TS       string          `json:"ts"`
	Lanes    []LaneStatus    `json:"lanes"`
	Devices  []health.Device `json:"devices"`
	Outbox   OutboxStatus    `json:"outbox"`
	Registry RegistryStatus  `json:"registry"`
	// Presence is who is inside the park, as this gate knows it
	// (park.go).
	Presence *ParkStatus `json:"presence,omitempty"`
	Software Software    `json:"software"`
	Audit    AuditHead   `json:"audit"`
	Uplink   ConnState   `json:"uplink"`
	// Alarms are the alarms still on (raised and not yet cleared), oldest
	// first: their cleared events will carry these ids.
	Alarms []ActiveAlarm `json:"alarms"`
	// Clock is the gate's clock (command_clock.go); absent when the gate
	// does not watch it.
	Clock *ClockStatus `json:"clock,omitempty"`

	// Evacuation is the gate's evacuation while it lasts (absent when
	// none): exit lanes held open, entry lanes closed.
	Evacuation *EvacuationStatus `json:"evacuation,omitempty"`
}

// EvacuationStatus is the gate's evacuation in the status. Authority is
// who may end it: "office" (a signed evacuate command) or "kiosk" (a
// supervisor at the kiosk).
type EvacuationStatus struct {
	On        bool   `json:"on"`
	Authority string `json:"authority"`
	By        string `json:"by"`
	Since     string `json:"since,omitempty"`
}

// ActiveAlarm is an alarm still on, in the status.
type ActiveAlarm struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	Code     string `json:"code"`
	Lane     string `json:"lane,omitempty"`
	RaisedAt string `json:"raised_at"`
}

// LaneStatus is one lane as the safety office sees it.
type LaneStatus struct {
	Lane         string              `json:"lane"`
	Direction    lane.Direction      `json:"direction"`
	Phase        string              `json:"phase"`   // idle, collecting, deciding, held, open, evacuating
	Barrier      lane.BarrierCommand `json:"barrier"` // last command
	BarrierState lane.BarrierState   `json:"barrier_state,omitempty"`
	Lockdown     bool                `json:"lockdown"`
	Evacuation   bool                `json:"evacuation,omitempty"`
	Plate        string              `json:"plate,omitempty"`
	InspectionID string              `json:"inspection_id,omitempty"`
	Verdict      string              `json:"verdict,omitempty"`
	Note         string              `json:"note,omitempty"`
}

// LaneStatusOf turns a lane's snapshot into its status entry.
func LaneStatusOf(s lane.Snapshot) LaneStatus {
	ls := LaneStatus{
		Lane: s.Lane, Direction: lane.DirectionIn, Phase: string(s.Phase), Barrier: s.BarrierCommanded,
		BarrierState: s.BarrierReported, Lockdown: s.Lockdown, Evacuation: s.Evacuation, Plate: s.Evidence.Plate,
		InspectionID: s.InspectionID, Note: s.Note,
	}
	if s.Exit {
		ls.Direction = lane.DirectionOut
	}
	if s.Outcome != nil {
		ls.Verdict = string(s.Outcome.Verdict)
	}
	return ls
}

// OutboxStatus is the outbox's depth and the age of its oldest message.
type OutboxStatus struct {
	Depth   int     `json:"depth"`
	OldestS float64 `json:"oldest_s"`
	Max     int     `json:"max,omitempty"`
}

// RegistryStatus is the registry's version and sync times.
type RegistryStatus struct {
	Version   int64  `json:"version"`
	SyncedAt  string `json:"synced_at,omitempty"`  // as the registry says
	AppliedAt string `json:"applied_at,omitempty"` // when this gate last applied an update from MQTT
	// Signed: only registry data signed by a registry key is applied
	// (mqtt.registry_keys); false: unsigned data is taken.
	Signed bool `json:"signed"`
}

// Software is the running build.
type Software struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Date    string `json:"date"`
}

// AuditHead is the audit log's last entry: published, it anchors the chain.
type AuditHead struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// statusLoop publishes the retained status at connect, whenever it changes
// (StatusChanged, or seen at a StatusPoll), and every StatusRefresh.
func (u *Uplink) statusLoop(ctx context.Context, s *session) {
	poll := time.NewTicker(u.cfg.StatusPoll)
	defer poll.Stop()
	var last []byte
	var lastAt time.Time
	for {
		rep := u.status(ctx)
		key := statusKey(rep)
		if last == nil || !bytes.Equal(key, last) || time.Since(lastAt) >= u.cfg.StatusRefresh {
			b, _ := json.Marshal(rep)
			if err := s.publishWait(ctx, "status", true, b); err != nil {
				return // the connection is gone; the next one publishes it
			}
			last, lastAt = key, time.Now()
		}
		select {
		case <-u.statusDue:
		case <-poll.C:
		case <-s.lost:
			return
		case <-ctx.Done():
			return
		}
	}
}

// status gathers the report.
func (u *Uplink) status(ctx context.Context) StatusReport {
	var rep StatusReport
	if u.deps.Status != nil {
		rep = u.deps.Status.Status()
	}
	now := u.clk.Now()
	rep.Schema, rep.Gate, rep.Park, rep.TS = SchemaStatus, u.cfg.Gate, u.cfg.Park, now.In(u.cfg.Location).Format(time.RFC3339Nano)
	if rep.Lanes == nil {
		rep.Lanes = []LaneStatus{}
	}
	if rep.Devices == nil {
		rep.Devices = []health.Device{}
	}
	rep.Uplink = u.Connection()
	rep.Software = Software{Version: buildinfo.Version, Commit: buildinfo.Commit, Date: buildinfo.Date}
	if depth, oldest, err := u.st.OutboxStats(ctx); err == nil {
		rep.Outbox = OutboxStatus{Depth: depth, Max: u.cfg.OutboxMax}
		if !oldest.IsZero() {
			rep.Outbox.OldestS = roundS(now.Sub(oldest))
		}
	}
	rep.Registry.Signed = u.registry.keys != nil
	rep.Presence = u.parkStatus(ctx)
	if m, err := u.st.RegistryMeta(ctx); err == nil {
		rep.Registry.Version = m.Version
		if !m.SyncedAt.IsZero() {
			rep.Registry.SyncedAt = m.SyncedAt.In(u.cfg.Location).Format(time.RFC3339)
		}
	}
	if at := u.registry.appliedAt(); !at.IsZero() {
		rep.Registry.AppliedAt = at.In(u.cfg.Location).Format(time.RFC3339)
	}
	rep.Alarms = []ActiveAlarm{}
	if active, err := u.st.ActiveAlarms(ctx); err == nil {
		for _, a := range active {
			rep.Alarms = append(rep.Alarms, ActiveAlarm{ID: a.ID, Kind: a.Kind, Code: a.Code, Lane: a.Lane,
				RaisedAt: a.RaisedAt.In(u.cfg.Location).Format(time.RFC3339)})
		}
	}
	rep.Clock = u.clockStatus()
	if seq, hash, err := u.st.AuditHead(ctx); err == nil {
		rep.Audit = AuditHead{Seq: seq, Hash: hash}
	}
	return rep
}

// statusKey is the report without what moves all the time (the time, the
// outbox, the audit head): a change in it republishes the status.
func statusKey(rep StatusReport) []byte {
	rep.TS, rep.Outbox, rep.Audit = "", OutboxStatus{}, AuditHead{}
	rep.Uplink.Since = time.Time{}
	if rep.Clock != nil {
		c := *rep.Clock
		c.CheckedAt, c.Detail = "", "" // moves at every look
		rep.Clock = &c
	}
	b, _ := json.Marshal(rep)
	return b
}

func roundS(d time.Duration) float64 { return float64(d.Milliseconds()) / 1000 }
