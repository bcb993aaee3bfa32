package uplink

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
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

// AlarmRegistryRefused: a registry message was refused (malformed, over a
// bound, or data that would disable a check); the gate keeps the registry
// it had.
const AlarmRegistryRefused = "registry_refused"

// SnapshotChunk is one part of a registry snapshot: the snapshot's JSON
// (a registry.Snapshot) is cut into Chunks byte ranges, sent in any order.
type SnapshotChunk struct {
	Schema  string `json:"schema"`
	Version int64  `json:"version"`
	Chunk   int64  `json:"chunk"`  // 0 .. Chunks-1
	Chunks  int64  `json:"chunks"` // >= 1 (int64: a claim is bounded before use, on 32-bit gates too)
	SHA256  string `json:"sha256"` // hex SHA-256 of the whole snapshot JSON
	Data    string `json:"data"`   // standard base64 of this chunk's bytes
	// Manifest is the platform's signed Manifest of the whole snapshot
	// (signedregistry.go); required when registry keys are configured.
	Manifest *Envelope `json:"manifest,omitempty"`
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
		out[i] = SnapshotChunk{Schema: SchemaRegistrySnapshot, Version: version, Chunk: int64(i), Chunks: int64(n),
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
	// keys are the registry keys (Config.RegistryKeys); nil when none
	// are configured and unsigned data is taken.
	keys *keyring
}

type assembly struct {
	version int64
	sha     string
	chunks  int          // how many the snapshot has
	parts   map[int]span // those received, by number: where they are in file
	bytes   int          // their size
	file    *os.File     // the spool: the chunks' bytes, in the order they came
	started time.Time
}

// span is where a chunk is in its assembly's spool.
type span struct{ off, n int64 }

// spoolPattern names the spool files (in the spool's directory); each is
// removed as soon as it is created, and only its open descriptor keeps it.
const spoolPattern = "hazgate-registry-*.spool"

// close drops a's spool.
func (a *assembly) close() {
	if a != nil && a.file != nil {
		a.file.Close()
		a.file = nil
	}
}

// reader reads a's snapshot from its start, the chunks in their order.
func (a *assembly) reader() io.Reader {
	rs := make([]io.Reader, a.chunks)
	for i := range a.chunks {
		p := a.parts[i]
		rs[i] = io.NewSectionReader(a.file, p.off, p.n)
	}
	return bufio.NewReaderSize(io.MultiReader(rs...), 64<<10)
}

func newRegistrySync(u *Uplink) *registrySync {
	r := &registrySync{u: u, reqEvery: 10 * time.Second}
	// A spool is removed as soon as it is created; one that a crash left
	// between the two is removed here.
	if old, _ := filepath.Glob(filepath.Join(r.spoolDir(), spoolPattern)); len(old) > 0 {
		for _, f := range old {
			os.Remove(f)
		}
	}
	return r
}

// spoolDir is where snapshot chunks are spooled: the directory of the
// gate's nonce file (its data directory), or the system's temporary
// directory when there is none.
func (r *registrySync) spoolDir() string {
	if f := r.u.cfg.NonceFile; f != "" {
		return filepath.Dir(f)
	}
	return os.TempDir()
}

// newSpool creates a spool file, already removed from its directory.
func (r *registrySync) newSpool() (*os.File, error) {
	f, err := os.CreateTemp(r.spoolDir(), spoolPattern)
	if err != nil {
		return nil, err
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
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
	// Each registry topic carries one schema: a message on it that says
	// otherwise is refused, whatever it is.
	want := r.u.registrySubscriptions()[m.topic]
	var head struct {
		Schema string `json:"schema"`
	}
	// The first value only: what follows it is refused by decodeStrict,
	// which says so.
	if err := json.NewDecoder(bytes.NewReader(m.payload)).Decode(&head); err != nil {
		r.refuse(ctx, "registry message on "+m.topic, errors.New("not a JSON object with a schema"))
		return
	}
	if head.Schema != want {
		r.refuse(ctx, "registry message on "+m.topic, fmt.Errorf("schema: %q is not %q, the one schema this topic carries", head.Schema, want))
		return
	}
	// The payload is not held here while it is applied: a snapshot's
	// last chunk (10 MB of base64 at 8 chunks of 64 MiB) would be held
	// through the import.
	payload := m.payload
	m.payload = nil
	var err error
	switch want {
	case SchemaRegistrySnapshot:
		err = r.chunk(ctx, payload)
	case SchemaRegistryDelta:
		err = r.delta(ctx, payload)
	}
	if err != nil {
		r.u.log.Error("registry update not applied", "topic", m.topic, "err", err)
	}
}

// decodeStrict decodes the one JSON value data holds into v: unknown fields
// and anything after the value are errors (a second value was silently
// ignored; FuzzRegistryDelta found it).
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("more after the message: one JSON value only")
	}
	return nil
}

// delta applies a delta in one transaction when its base is the version the
// gate holds; otherwise it asks for a snapshot.
func (r *registrySync) delta(ctx context.Context, data []byte) error {
	u := r.u
	d, err := r.openDelta(data)
	if err != nil {
		r.request("invalid")
		return r.refuse(ctx, "registry delta", err)
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
		return r.refuse(ctx, fmt.Sprintf("registry delta %d->%d", d.Base, d.Version), err)
	case err != nil:
		return err
	}
	r.noteApplied()
	u.log.Info("registry delta applied", "base", d.Base, "version", d.Version)
	return nil
}

// chunk adds a snapshot chunk; the last one imports the snapshot in one
// transaction. Every size the chunk claims is bounded before anything is
// held for it: its count of chunks by maxChunks, its data and the snapshot
// so far by RegistryMaxBytes. What arrived is spooled to a file (see
// spoolDir), never held in memory: only where each chunk received is in it
// (a map, not a slice of the chunks claimed). The snapshot is hashed and
// imported from the spool as a stream; the spool is gone once the
// assembly is imported or dropped.
func (r *registrySync) chunk(ctx context.Context, data []byte) error {
	u := r.u
	var c SnapshotChunk
	if err := decodeStrict(data, &c); err != nil {
		return r.refuse(ctx, "registry snapshot chunk", fmt.Errorf("not a snapshot chunk: %w", err))
	}
	maxBytes := u.cfg.RegistryMaxBytes
	what := fmt.Sprintf("registry snapshot %d chunk %d of %d", c.Version, c.Chunk, c.Chunks)
	switch maxChunks := r.maxChunks(); {
	case c.Chunks < 1 || c.Chunks > int64(maxChunks):
		return r.refuse(ctx, what, fmt.Errorf("chunks: %d is not between 1 and %d (registry_max_bytes / 1 KiB)", c.Chunks, maxChunks))
	case c.Chunk < 0 || c.Chunk >= c.Chunks:
		return r.refuse(ctx, what, fmt.Errorf("chunk: %d is not between 0 and %d", c.Chunk, c.Chunks-1))
	case c.Version < 1:
		return r.refuse(ctx, what, fmt.Errorf("version: %d is not positive", c.Version))
	case len(c.SHA256) != 64 || !isHex(c.SHA256):
		return r.refuse(ctx, what, errors.New("sha256: not 64 hex digits"))
	case base64.StdEncoding.DecodedLen(len(c.Data)) > maxBytes:
		return r.refuse(ctx, what, fmt.Errorf("data: more than registry_max_bytes (%d bytes)", maxBytes))
	}
	if err := r.checkManifest(&c); err != nil {
		return r.refuse(ctx, what, err)
	}
	part, err := base64.StdEncoding.DecodeString(c.Data)
	if err != nil {
		return r.refuse(ctx, what, errors.New("data: not base64"))
	}
	c.Data = "" // in part now; neither is held through the import

	m, err := u.st.RegistryMeta(ctx)
	if err != nil {
		return err
	}
	if c.Version <= m.Version {
		return nil // we have it (or newer)
	}
	if ps := registry.CheckSync(registry.SyncChange{Held: m.Version, Version: c.Version}, u.clk.Now()); len(ps) > 0 {
		return r.refuse(ctx, what, fmt.Errorf("%s: %s", ps[0].Field, ps[0].Msg))
	}
	a, err := r.add(c, part, what)
	if errors.Is(err, errTooLarge) {
		return r.refuse(ctx, fmt.Sprintf("registry snapshot %d", c.Version),
			fmt.Errorf("larger than registry_max_bytes (%d bytes): dropped", maxBytes))
	}
	if a == nil || err != nil {
		return err
	}
	defer a.close()
	return r.importAssembled(ctx, a)
}

// errTooLarge: the chunks of a snapshot came to more than registry_max_bytes.
var errTooLarge = errors.New("larger than registry_max_bytes")

// add spools a chunk into its assembly, and returns the assembly when it is
// complete (no longer r.asm: the caller imports it and closes it). A
// snapshot over registry_max_bytes is dropped (errTooLarge).
func (r *registrySync) add(c SnapshotChunk, part []byte, what string) (*assembly, error) {
	maxBytes := r.u.cfg.RegistryMaxBytes
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.asm
	if a == nil || a.version != c.Version || a.sha != c.SHA256 || a.chunks != int(c.Chunks) {
		if a != nil && a.version > c.Version {
			return nil, nil // an older snapshot than the one being assembled
		}
		a.close()
		r.asm = nil
		f, err := r.newSpool()
		if err != nil {
			return nil, fmt.Errorf("uplink: %s: spool: %w", what, err)
		}
		a = &assembly{version: c.Version, sha: c.SHA256, chunks: int(c.Chunks), parts: map[int]span{}, file: f, started: time.Now()}
		r.asm = a
	}
	if _, dup := a.parts[int(c.Chunk)]; !dup {
		if a.bytes+len(part) > maxBytes {
			a.close()
			r.asm = nil
			return nil, errTooLarge
		}
		if _, err := a.file.WriteAt(part, int64(a.bytes)); err != nil {
			a.close()
			r.asm = nil
			return nil, fmt.Errorf("uplink: %s: spool: %w; the snapshot is dropped", what, err)
		}
		a.parts[int(c.Chunk)] = span{int64(a.bytes), int64(len(part))}
		a.bytes += len(part)
	}
	if len(a.parts) < a.chunks {
		return nil, nil
	}
	r.asm = nil
	return a, nil
}

// importAssembled checks a complete snapshot's hash and imports it from its
// spool, as a stream (store.ImportJSON): neither the chunks nor the
// records are held.
func (r *registrySync) importAssembled(ctx context.Context, a *assembly) error {
	u := r.u
	what := fmt.Sprintf("registry snapshot %d", a.version)
	h := sha256.New()
	if _, err := io.Copy(h, a.reader()); err != nil {
		return fmt.Errorf("uplink: %s: spool: %w", what, err)
	}
	if hex.EncodeToString(h.Sum(nil)) != a.sha {
		r.request("incomplete")
		return fmt.Errorf("uplink: %s: SHA-256 does not match; snapshot requested again", what)
	}
	if err := u.st.ImportJSON(ctx, a.reader, what, "mqtt", a.version, u.clk.Now()); err != nil {
		if errors.Is(err, store.ErrInvalid) {
			return r.refuse(ctx, what, err)
		}
		return err
	}
	r.noteApplied()
	u.log.Info("registry snapshot imported", "version", a.version, "bytes", a.bytes, "chunks", a.chunks)
	return nil
}

// maxChunks bounds the chunks a snapshot may claim: at least 1 KiB a chunk
// on average at registry_max_bytes (65 536 at the default 64 MiB).
func (r *registrySync) maxChunks() int { return max(1, r.u.cfg.RegistryMaxBytes/1024) }

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

// refuse logs a registry message the gate will not apply and raises a
// registry_refused alarm that says why in plain words (the fields and what
// is wrong with them), under the rate limit of its own budget (the others
// are counted into the next, across restarts). It returns nil: the refusal
// is handled.
func (r *registrySync) refuse(ctx context.Context, what string, err error) error {
	u := r.u
	why := plainRefusal(err)
	u.log.Warn("registry update refused", "what", what, "err", why)
	u.raiseLimited(ctx, AlarmRegistryRefused, AlarmRegistryRefused, what+" refused: "+why, 1, false, "registry messages refused")
	return nil
}

// plainRefusal is what is wrong, without the packages' prefixes: the
// problems of an invalid record one after another.
func plainRefusal(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, store.ErrInvalid.Error()+": "); i >= 0 {
		s = s[i+len(store.ErrInvalid.Error())+2:]
	}
	return strings.ReplaceAll(s, "\n", "; ")
}

func (r *registrySync) noteApplied() {
	r.mu.Lock()
	r.applied = r.u.clk.Now()
	r.mu.Unlock()
	r.u.StatusChanged()
}
