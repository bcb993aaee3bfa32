// Package record decides and records for one gate: each lane's evidence goes
// through the checks and its verdict into the store with the event that
// announces it, in one transaction; passages, operator decisions and alarms
// likewise. Its Keeper implements lane.Decider and lane.Recorder.
//
// It imports checks, clock (the monitor's reason codes), lane (its
// interfaces and alarm kinds), registry and store of ours; only gate and
// tests may import it.
package record

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/store"
)

var (
	_ lane.Decider  = (*Keeper)(nil)
	_ lane.Recorder = (*Keeper)(nil)
)

// Keeper decides and records for every lane of one gate.
type Keeper struct {
	Name   string
	Store  *store.Store
	Params checks.Params
	Log    *slog.Logger

	mu      sync.Mutex
	entropy io.Reader
	exits   map[string]exit // lane -> the exit being let out
	// OnRecord, when set, is called after every record the gate commits
	// (inspection, passage, decision, alarm): the uplink's Kick.
	OnRecord func()
	// OnAlarm, when set, is told of the alarms the keeper raises of its own
	// accord (double_entry with a passage, overstay): the simulator's
	// observer.
	OnAlarm func(laneName, kind string)
	// Faces, when set, gives each person's face-match images, which are
	// kept with the inspection (faces.go).
	Faces FaceSource
	faces faceKeeper
	// ClockSynced, when set, says whether the gate's clock is known to be
	// right (the clock monitor's Synced); nil: it is taken to be
	// (record/clock.go).
	ClockSynced func() bool
}

func (g *Keeper) recorded(err error) error {
	if err == nil && g.OnRecord != nil {
		g.OnRecord()
	}
	return err
}

type exit struct {
	plate, entryID string
	stay           time.Duration
	known          bool
	remote         bool // the entry was at a sibling gate (park.go)
}

// New returns a gate named name over st.
func New(name string, st *store.Store, p checks.Params, log *slog.Logger) *Keeper {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if p.Location == nil {
		p.Location = time.UTC
	}
	return &Keeper{Name: name, Store: st, Params: p, Log: log, entropy: ulid.Monotonic(rand.Reader, 0), exits: map[string]exit{}}
}

func (g *Keeper) newID(t time.Time) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return ulid.MustNew(ulid.Timestamp(t), g.entropy).String()
}

// Decide judges the evidence against the registry and commits the inspection,
// its event (and a rejection alarm) before it returns: record before act. A
// registry that cannot be read gives unknown checks, never a pass.
func (g *Keeper) Decide(ctx context.Context, laneName string, ev checks.Evidence, now time.Time) (string, checks.Outcome, error) {
	var (
		out   checks.Outcome
		meta  registry.Meta
		goods []registry.Good
	)
	synced := g.clockSynced()
	reg, err := g.Store.Lookup(ctx, ev)
	if err != nil {
		g.Log.Error("registry lookup failed", "lane", laneName, "err", err)
		out = checks.RunWithoutRegistryAt(ev, now, synced, g.Params)
	} else {
		out = checks.RunAt(ev, reg, now, synced, g.Params)
		meta = reg.Meta()
		if w, ok := reg.Waybill(ev.Waybill); ok && ev.Waybill != "" {
			goods = w.Goods
		}
	}
	var view checks.Registry // nil, not a nil *Index, when unreadable
	if err == nil {
		view = reg
	}
	live, lookedUp, ok := g.liveFields(ev, view)
	if ok {
		goods = lookedUp // the copy the checks judged
	}
	ins := &store.Inspection{
		ID: g.newID(now), Gate: g.Name, Lane: laneName, Direction: lane.DirectionIn,
		Evidence: ev, Outcome: out, DecidedBy: store.ActorSystem,
		ArrivedAt: ev.Arrived, DecidedAt: now, Timings: timings(ev, now),
	}
	msgs := []store.OutboxMessage{{
		ID: g.newID(now), Kind: store.KindInspection, Topic: "events/inspection", Lane: laneName,
		Payload: inspectionPayload(g.Name, ins, goods, meta, g.Params, live),
	}}
	if Exempted(out) {
		msgs = append(msgs, g.exemptAlarm(laneName, ins, now))
	}
	if out.Verdict == checks.VerdictReject {
		msgs = append(msgs, g.alarmMessage(laneName, AlarmEvent{Kind: AlarmRejection, Detail: fmt.Sprintf("%s rejected: %v", ev.Plate, out.Failed()), InspectionID: ins.ID}, now))
	}
	if err := g.recorded(g.Store.CommitInspection(ctx, ins, msgs...)); err != nil {
		return "", out, err
	}
	g.keepFaces(laneName, ins.ID, ev, now)
	g.keepPlatePictures(laneName, ins.ID, ev, now)
	return ins.ID, out, nil
}

// timings are each evidence step's offset from arrival, and the decision's.
func timings(ev checks.Evidence, now time.Time) map[string]time.Duration {
	t := map[string]time.Duration{}
	if ev.Arrived.IsZero() {
		return t
	}
	for step, at := range ev.Steps {
		t[step] = at.Sub(ev.Arrived)
	}
	t["decided"] = now.Sub(ev.Arrived)
	return t
}

// alarmMessage is the outbox message of an alarm; ev gives its kind,
// detail and the optional fields, and the header is filled here.
func (g *Keeper) alarmMessage(laneName string, ev AlarmEvent, at time.Time) store.OutboxMessage {
	id := g.newID(at)
	ev.header = header{Schema: SchemaAlarm, ID: id, Gate: g.Name, Lane: laneName, TS: ts(at, g.Params.Location), ClockSynced: g.clockSynced()}
	if ev.State == StateRaised {
		ev.AlarmID = id
	}
	if raw := describe(&ev); raw != "" && raw != ev.Detail {
		g.Log.Warn("alarm", "lane", laneName, "kind", ev.Kind, "code", ev.Code, "detail", raw)
	}
	b, _ := json.Marshal(ev)
	return store.OutboxMessage{ID: id, Kind: store.KindAlarm, Topic: "events/alarm", Lane: laneName, Payload: b}
}
