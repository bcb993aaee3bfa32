package uplink

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/store"
)

// Registry message schemas (docs/uplink.md "Registry sync").
const (
	SchemaRegistrySnapshot = "hazgate.registry.snapshot/1"
	SchemaRegistryDelta    = "hazgate.registry.delta/1"
	SchemaRegistryRequest  = "hazgate.registry.request/1"
)

// SnapshotChunk is one part of a registry snapshot: the snapshot's JSON
// (a registry.Snapshot) is cut into Chunks byte ranges, sent in any order.
type SnapshotChunk struct {
	Schema  string `json:"schema"`
	Version int64  `json:"version"`
	Chunk   int    `json:"chunk"`  // 0 .. Chunks-1
	Chunks  int    `json:"chunks"` // >= 1
	SHA256  string `json:"sha256"` // hex SHA-256 of the whole snapshot JSON
	Data    string `json:"data"`   // standard base64 of this chunk's bytes
}

// Delta is a registry delta message.
type Delta struct {
	Schema   string             `json:"schema"`
	Base     int64              `json:"base"`
	Version  int64              `json:"version"`
	SyncedAt time.Time          `json:"synced_at,omitzero"`
	Upsert   registry.Snapshot  `json:"upsert"`
	Delete   store.RegistryKeys `json:"delete"`
}

// SyncRequest is what the gate publishes on <root>/registry/request when it
// needs a snapshot.
type SyncRequest struct {
	Schema string `json:"schema"`
	Gate   string `json:"gate"`
	Park   string `json:"park"`
	Have   int64  `json:"have"`   // the version the gate holds
	Reason string `json:"reason"` // connect, base_mismatch, invalid, incomplete, inbox_full, command
	TS     string `json:"ts"`
}

// ChunkSnapshot cuts a snapshot's JSON into chunks of at most size bytes,
// for the registry publisher (and the tests).
func ChunkSnapshot(version int64, snapJSON []byte, size int) []SnapshotChunk {
	sum := sha256.Sum256(snapJSON)
	n := max(1, (len(snapJSON)+size-1)/size)
	out := make([]SnapshotChunk, n)
	for i := range n {
		part := snapJSON[i*size : min(len(snapJSON), (i+1)*size)]
		out[i] = SnapshotChunk{Schema: SchemaRegistrySnapshot, Version: version, Chunk: i, Chunks: n,
			SHA256: hex.EncodeToString(sum[:]), Data: base64.StdEncoding.EncodeToString(part)}
	}
	return out
}

// registrySync applies registry messages and asks for snapshots.
type registrySync struct {
	u *Uplink

	mu       sync.Mutex
	asm      *assembly // the snapshot being put together
	applied  time.Time // when an update was last applied
	want     string    // a request waiting for a connection ("" none)
	lastReq  time.Time // real time of the last request sent
	lastWhy  string    // its reason
	reqEvery time.Duration
}

type assembly struct {
	version int64
	sha     string
	parts   [][]byte
	have    int
	bytes   int
	started time.Time
}

func newRegistrySync(u *Uplink) *registrySync {
	return &registrySync{u: u, reqEvery: 10 * time.Second}
}

func (r *registrySync) appliedAt() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.applied
}

// connected asks for what the gate may have missed while it was away.
func (r *registrySync) connected() {
	r.mu.Lock()
	want := r.want
	r.mu.Unlock()
	if want == "" {
		want = "connect"
	}
	r.send(want, true)
}

// request asks the registry publisher for a snapshot, now when connected
// and otherwise at the next connection.
func (r *registrySync) request(reason string) { r.send(reason, false) }

// lost notes that registry messages were lost: only a snapshot repairs it.
func (r *registrySync) lost(reason string) { r.send(reason, false) }

func (r *registrySync) send(reason string, force bool) {
	u := r.u
	r.mu.Lock()
	if !force && reason == r.lastWhy && time.Since(r.lastReq) < r.reqEvery {
		r.mu.Unlock()
		return // the same request is outstanding
	}
	r.want = reason
	r.mu.Unlock()
	u.mu.Lock()
	s := u.current
	u.mu.Unlock()
	if s == nil {
		return
	}
	m, _ := u.st.RegistryMeta(context.Background())
	b, _ := json.Marshal(SyncRequest{Schema: SchemaRegistryRequest, Gate: u.cfg.Gate, Park: u.cfg.Park,
		Have: m.Version, Reason: reason, TS: u.clk.Now().In(u.cfg.Location).Format(time.RFC3339Nano)})
	// QoS 1, not waited for here: the inbox goroutine must not stall on
	// the network. A request lost with its connection is made again at
	// the next one.
	s.cli.Publish(u.topic("registry/request"), 1, false, b)
	r.mu.Lock()
	r.want, r.lastReq, r.lastWhy = "", time.Now(), reason
	r.mu.Unlock()
	u.log.Info("registry sync requested", "have", m.Version, "reason", reason)
}

// handle applies one registry message.
func (r *registrySync) handle(ctx context.Context, m inboxMsg) {
	var head struct {
		Schema string `json:"schema"`
	}
	if err := json.Unmarshal(m.payload, &head); err != nil {
		r.u.log.Warn("registry message is not JSON", "topic", m.topic, "err", err)
		return
	}
	var err error
	switch head.Schema {
	case SchemaRegistrySnapshot:
		err = r.chunk(ctx, m.payload)
	case SchemaRegistryDelta:
		err = r.delta(ctx, m.payload)
	case SchemaRegistryRequest:
		return // another gate's request (they are under the gates' roots, but be lenient)
	default:
		r.u.log.Warn("registry message of unknown schema", "topic", m.topic, "schema", head.Schema)
		return
	}
	if err != nil {
		r.u.log.Error("registry update not applied", "topic", m.topic, "err", err)
	}
}

func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// delta applies a delta in one transaction when its base is the version the
// gate holds; otherwise it asks for a snapshot.
func (r *registrySync) delta(ctx context.Context, data []byte) error {
	u := r.u
	var d Delta
	if err := decodeStrict(data, &d); err != nil {
		r.request("invalid")
		return fmt.Errorf("uplink: registry delta: %w", err)
	}
	m, err := u.st.RegistryMeta(ctx)
	if err != nil {
		return err
	}
	if d.Base != m.Version {
		if d.Version <= m.Version {
			return nil // old news: already applied, or superseded
		}
		r.request("base_mismatch")
		return fmt.Errorf("uplink: registry delta %d->%d: we hold %d; snapshot requested", d.Base, d.Version, m.Version)
	}
	err = u.st.ApplyDelta(ctx, &store.RegistryDelta{Base: d.Base, Version: d.Version, SyncedAt: d.SyncedAt,
		Upsert: d.Upsert, Delete: d.Delete}, "mqtt", u.clk.Now())
	switch {
	case errors.Is(err, store.ErrRegistryBase):
		r.request("base_mismatch")
		return err
	case errors.Is(err, store.ErrInvalid):
		r.request("invalid")
		return err
	case err != nil:
		return err
	}
	r.noteApplied()
	u.log.Info("registry delta applied", "base", d.Base, "version", d.Version)
	return nil
}

// chunk adds a snapshot chunk; the last one imports the snapshot in one
// transaction.
func (r *registrySync) chunk(ctx context.Context, data []byte) error {
	u := r.u
	var c SnapshotChunk
	if err := decodeStrict(data, &c); err != nil {
		return fmt.Errorf("uplink: registry snapshot chunk: %w", err)
	}
	part, err := base64.StdEncoding.DecodeString(c.Data)
	if err != nil || c.Chunks < 1 || c.Chunk < 0 || c.Chunk >= c.Chunks || c.Version < 1 || len(c.SHA256) != 64 {
		return fmt.Errorf("uplink: registry snapshot chunk %d/%d of version %d is malformed", c.Chunk, c.Chunks, c.Version)
	}
	m, err := u.st.RegistryMeta(ctx)
	if err != nil {
		return err
	}
	if c.Version <= m.Version {
		return nil // we have it (or newer)
	}
	r.mu.Lock()
	a := r.asm
	if a == nil || a.version != c.Version || a.sha != c.SHA256 || len(a.parts) != c.Chunks {
		if a != nil && a.version > c.Version {
			r.mu.Unlock()
			return nil // an older snapshot than the one being assembled
		}
		a = &assembly{version: c.Version, sha: c.SHA256, parts: make([][]byte, c.Chunks), started: time.Now()}
		r.asm = a
	}
	if a.parts[c.Chunk] == nil {
		a.parts[c.Chunk] = part
		a.have++
		a.bytes += len(part)
	}
	if a.bytes > u.cfg.RegistryMaxBytes {
		r.asm = nil
		r.mu.Unlock()
		return fmt.Errorf("uplink: registry snapshot %d is larger than %d bytes: dropped", c.Version, u.cfg.RegistryMaxBytes)
	}
	complete := a.have == len(a.parts)
	if complete {
		r.asm = nil
	}
	r.mu.Unlock()
	if !complete {
		return nil
	}
	whole := bytes.Join(a.parts, nil)
	if sum := sha256.Sum256(whole); hex.EncodeToString(sum[:]) != a.sha {
		r.request("incomplete")
		return fmt.Errorf("uplink: registry snapshot %d: SHA-256 does not match; snapshot requested again", a.version)
	}
	snap, err := registry.Decode(whole, fmt.Sprintf("registry snapshot %d", a.version))
	if err != nil {
		return fmt.Errorf("uplink: %w", err)
	}
	if snap.Version != 0 && snap.Version != a.version {
		return fmt.Errorf("uplink: registry snapshot says version %d, its chunks %d", snap.Version, a.version)
	}
	snap.Version = a.version
	if err := u.st.ImportSnapshot(ctx, snap, "mqtt", u.clk.Now()); err != nil {
		return err
	}
	r.noteApplied()
	u.log.Info("registry snapshot imported", "version", a.version, "bytes", len(whole), "chunks", len(a.parts))
	return nil
}

func (r *registrySync) noteApplied() {
	r.mu.Lock()
	r.applied = r.u.clk.Now()
	r.mu.Unlock()
	r.u.StatusChanged()
}
