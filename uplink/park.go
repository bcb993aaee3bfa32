package uplink

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/store"
)

// Who is inside the park (docs/uplink.md "Who is inside the park"). Every
// gate of a park reads its siblings' passages, live from their
// <park>/+/events/passage and, after a restart, from their retained
// <park>/+/presence: each gate keeps there its own passages of the last
// day and the entries of the vehicles still inside that came in through
// it. A passage is a fact with an id: hearing one twice changes nothing,
// so the park's view is the union of every gate's own.

// SchemaPresence is the schema of a gate's retained <root>/presence.
const SchemaPresence = "hazgate.presence/1"

// schemaPassage is the schema of a passage event (the record package's).
const schemaPassage = "hazgate.passage/1"

// presenceWindow is how far back a gate's presence view reaches, beside
// the entries of the vehicles still inside; presenceMax bounds it.
const (
	presenceWindow = 24 * time.Hour
	presenceMax    = 2000
)

// Presence is the payload of <root>/presence.
type Presence struct {
	Schema   string            `json:"schema"`
	Gate     string            `json:"gate"`
	Park     string            `json:"park"`
	TS       string            `json:"ts"`
	Passages []PresencePassage `json:"passages"`
}

// PresencePassage is one of a gate's passages in its presence view.
type PresencePassage struct {
	ID           string         `json:"id"`
	Lane         string         `json:"lane"`
	Direction    lane.Direction `json:"direction"`
	Plate        string         `json:"plate"`
	At           time.Time      `json:"at"`
	InspectionID string         `json:"inspection_id,omitempty"`
}

// passageEvent is what the uplink reads of a sibling's passage event.
type passageEvent struct {
	Schema       string         `json:"schema"`
	ID           string         `json:"id"`
	Gate         string         `json:"gate"`
	Lane         string         `json:"lane"`
	TS           string         `json:"ts"`
	Direction    lane.Direction `json:"direction"`
	Plate        string         `json:"plate"`
	InspectionID string         `json:"inspection_id"`
}

// ParkStatus is the park's presence in the status: how many vehicles are
// inside and (the longest there first, at most parkListMax) which.
type ParkStatus struct {
	Inside   int             `json:"inside"`
	Vehicles []store.Present `json:"vehicles"`
}

const parkListMax = 100

// parkTopics are the siblings' topics the gate reads: the level above its
// root, any gate.
func (u *Uplink) parkTopics() (passages, presence string) {
	parent := path.Dir(u.cfg.Root)
	return parent + "/+/events/passage", parent + "/+/presence"
}

// siblingOf is the sibling gate's root level of a topic under the park, or
// "" when the topic is the gate's own or not a sibling's.
func (u *Uplink) siblingOf(topic string) string {
	parent := path.Dir(u.cfg.Root) + "/"
	rest, ok := strings.CutPrefix(topic, parent)
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "/")
	if name == "" || parent+name == u.cfg.Root || parent+name == u.cfg.RegistryTopic {
		return ""
	}
	return name
}

// handlePark keeps a sibling's passage, or the passages of its presence
// view. What cannot be read is logged and dropped: a sibling's feed is
// not the gate's to alarm on.
func (u *Uplink) handlePark(ctx context.Context, m inboxMsg) {
	sib := u.siblingOf(m.topic)
	if sib == "" {
		return // our own, heard back
	}
	var ps []store.ParkPassage
	if strings.HasSuffix(m.topic, "/presence") {
		var v Presence
		if err := decodeStrict(m.payload, &v); err != nil || v.Schema != SchemaPresence || v.Gate != sib {
			u.log.Warn("a sibling gate's presence view is unreadable: dropped", "topic", m.topic, "err", err)
			return
		}
		for _, p := range v.Passages {
			ps = append(ps, store.ParkPassage{ID: p.ID, Gate: sib, Lane: p.Lane, Direction: p.Direction, Plate: p.Plate, At: p.At, InspectionID: p.InspectionID})
		}
	} else {
		var e passageEvent
		dec := json.NewDecoder(bytes.NewReader(m.payload))
		err := dec.Decode(&e)
		if err == nil && (e.Schema != schemaPassage || e.Gate != sib) {
			err = fmt.Errorf("schema %q, gate %q", e.Schema, e.Gate)
		}
		at, terr := time.Parse(time.RFC3339Nano, e.TS)
		if err == nil && terr != nil {
			err = terr
		}
		if err != nil {
			u.log.Warn("a sibling gate's passage is unreadable: dropped", "topic", m.topic, "err", err)
			return
		}
		ps = append(ps, store.ParkPassage{ID: e.ID, Gate: sib, Lane: e.Lane, Direction: e.Direction, Plate: e.Plate, At: at, InspectionID: e.InspectionID})
	}
	added := 0
	for _, p := range ps {
		if p.Plate == "" {
			continue // an exit whose plate was never read tells nothing
		}
		ok, err := u.st.RecordParkPassage(ctx, p, u.clk.Now())
		if err != nil {
			u.log.Warn("a sibling gate's passage not kept", "gate", sib, "passage", p.ID, "err", err)
			continue
		}
		if ok {
			added++
		}
	}
	if added > 0 {
		u.log.Info("passages heard from a sibling gate", "gate", sib, "n", added)
		if u.deps.ParkChanged != nil {
			u.deps.ParkChanged()
		}
		u.StatusChanged()
	}
}

// presenceLoop publishes the gate's retained presence view at connect and
// whenever a record may have changed it (Kick), when it did, and every
// hour (its window moves).
func (u *Uplink) presenceLoop(ctx context.Context, s *session) {
	var last []byte
	var lastAt time.Time
	refresh := time.NewTicker(time.Hour)
	defer refresh.Stop()
	for {
		if b, err := u.presence(ctx); err != nil {
			u.log.Warn("presence view not made", "err", err)
		} else if !bytes.Equal(b, last) || time.Since(lastAt) >= time.Hour {
			if err := s.publishWait(ctx, "presence", true, b); err != nil {
				return // the connection is gone; the next one publishes it
			}
			last, lastAt = b, time.Now()
		}
		select {
		case <-u.presenceDue:
		case <-refresh.C:
		case <-s.lost:
			return
		case <-ctx.Done():
			return
		}
		// Every record kicks: a burst of them (a flood of alarms) makes
		// one view, not one query each.
		select {
		case <-time.After(presenceCoalesce):
		case <-s.lost:
			return
		case <-ctx.Done():
			return
		}
	}
}

// presenceCoalesce is the least time between two looks at the presence
// view: a passage reaches the siblings as its event at once anyway.
const presenceCoalesce = time.Second

// presence is the gate's presence view as JSON (its ts only changes with
// its passages, so that an unchanged view is not sent again).
func (u *Uplink) presence(ctx context.Context) ([]byte, error) {
	now := u.clk.Now()
	own, err := u.st.OwnPassages(ctx, u.cfg.Gate, now.Add(-presenceWindow), presenceMax)
	if err != nil {
		return nil, err
	}
	v := Presence{Schema: SchemaPresence, Gate: u.cfg.Gate, Park: u.cfg.Park, Passages: []PresencePassage{}}
	for _, p := range own {
		v.Passages = append(v.Passages, PresencePassage{ID: p.ID, Lane: p.Lane, Direction: p.Direction, Plate: p.Plate, At: p.At.UTC(), InspectionID: p.InspectionID})
	}
	if n := len(own); n > 0 {
		v.TS = own[n-1].At.In(u.cfg.Location).Format(time.RFC3339Nano)
	}
	return json.Marshal(v)
}

// parkStatus is the park's presence for the status.
func (u *Uplink) parkStatus(ctx context.Context) *ParkStatus {
	inside, err := u.st.ParkInside(ctx)
	if err != nil {
		u.log.Warn("vehicles inside unknown", "err", err)
		return nil
	}
	ps := &ParkStatus{Inside: len(inside), Vehicles: inside[:min(len(inside), parkListMax)]}
	for i := range ps.Vehicles {
		ps.Vehicles[i].Since = ps.Vehicles[i].Since.In(u.cfg.Location)
	}
	return ps
}
