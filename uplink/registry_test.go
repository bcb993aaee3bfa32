package uplink

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/registry/registrytest"
	"github.com/hazgate/hazgate/store"
)

// A chunked snapshot is imported, a delta on top of it applied, each in one
// transaction; a delta from another base asks for a snapshot; the version
// shows in the status.
func TestRegistrySync(t *testing.T) {
	m := startMosquitto(t)
	r := newRig(t, "", testConfig(m.url()))
	platform := subscribe(t, m.url(), "platform", nil, "hazgate/#")
	pub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(m.url()).SetClientID("registry"))
	if tok := pub.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer pub.Disconnect(0)
	waitConn(t, r.u, "subscribed", func(c ConnState) bool { return c.Subscribed })
	send := func(v any) {
		t.Helper()
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if tok := pub.Publish(registryTopicOf("hazgate/ningbo-chem/registry", v), 1, false, b); !tok.WaitTimeout(wait) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}
	registryVersion := func(v int64) func([]msg) bool {
		return func(ms []msg) bool {
			st := on(ms, "/status")
			if len(st) == 0 {
				return false
			}
			var rep StatusReport
			json.Unmarshal(st[len(st)-1].payload, &rep)
			return rep.Registry.Version == v && rep.Registry.AppliedAt != ""
		}
	}

	snap := registry.Snapshot{}
	for i := range 40 {
		snap.Vehicles = append(snap.Vehicles, registry.Vehicle{Plate: fmt.Sprintf("浙B%05d", i), Kind: registry.KindTractor,
			PermitClasses: []string{"2"}, RatedLoadKg: 25000, LicenceValidUntil: registry.Date(2027, 1, 31)})
	}
	data, _ := json.Marshal(snap)
	chunks := ChunkSnapshot(5, data, 500)
	if len(chunks) < 3 {
		t.Fatalf("only %d chunks", len(chunks))
	}
	for i := len(chunks) - 1; i >= 0; i-- { // any order
		send(chunks[i])
	}
	platform.waitFor(t, "registry version 5 in the status", registryVersion(5))

	send(Delta{Schema: SchemaRegistryDelta, Base: 5, Version: 6, SyncedAt: time.Now().Truncate(time.Second),
		Upsert: registry.Snapshot{Blacklist: []registry.BlacklistEntry{{Kind: registry.BlacklistVehicle, Value: "浙B00001", Reason: "test"}}},
		Delete: store.RegistryKeys{Vehicles: []string{"浙B00000"}}})
	platform.waitFor(t, "registry version 6 in the status", registryVersion(6))
	ctx := context.Background()
	ix, err := r.st.Lookup(ctx, checks.Evidence{Plate: "浙B00000", Trailer: "浙B00001"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ix.Vehicle("浙B00000"); ok {
		t.Fatal("deleted vehicle still there")
	}
	if _, ok := ix.Blacklisted(registry.BlacklistVehicle, "浙B00001"); !ok {
		t.Fatal("upserted blacklist entry missing")
	}

	// A delta from a base we do not hold asks for a snapshot.
	send(Delta{Schema: SchemaRegistryDelta, Base: 8, Version: 9})
	got := platform.waitFor(t, "a sync request", func(ms []msg) bool {
		for _, m := range on(ms, "/registry/request") {
			var q SyncRequest
			if json.Unmarshal(m.payload, &q) == nil && q.Reason == "base_mismatch" {
				return true
			}
		}
		return false
	})
	for _, m := range on(got, "/registry/request") {
		var q SyncRequest
		json.Unmarshal(m.payload, &q)
		if q.Reason == "base_mismatch" && (q.Have != 6 || q.Schema != SchemaRegistryRequest || q.Gate != "east-1") {
			t.Fatalf("request %s", m.payload)
		}
	}
	if meta, _ := r.st.RegistryMeta(ctx); meta.Version != 6 {
		t.Fatalf("version %d after a refused delta", meta.Version)
	}
}

// alarmLog passes alarms on to the gate and reports each one's kind and
// detail.
type alarmLog struct {
	AlarmSink
	raised chan [2]string
}

func (a *alarmLog) RaiseAlarm(ctx context.Context, lane, kind, detail string, at time.Time) error {
	a.raised <- [2]string{kind, detail}
	return a.AlarmSink.RaiseAlarm(ctx, lane, kind, detail, at)
}

func logAlarms(a **alarmLog) func(*Deps) {
	return func(d *Deps) {
		*a = &alarmLog{AlarmSink: d.Alarms, raised: make(chan [2]string, 1000)}
		d.Alarms = *a
	}
}

// waitAlarm waits for an alarm of kind whose detail holds want.
func (a *alarmLog) waitAlarm(t *testing.T, kind, want string) string {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case k := <-a.raised:
			if k[0] == kind && strings.Contains(k[1], want) {
				return k[1]
			}
		case <-deadline:
			t.Fatalf("no %s alarm naming %q in %v", kind, want, wait)
		}
	}
}

func publisher(t *testing.T, url string) func(payload []byte, retained bool) {
	t.Helper()
	pub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(url).SetClientID("registry"))
	if tok := pub.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	t.Cleanup(func() { pub.Disconnect(0) })
	return func(b []byte, retained bool) {
		t.Helper()
		if tok := pub.Publish(registryTopicOfPayload("hazgate/ningbo-chem/registry", b), 1, retained, b); !tok.WaitTimeout(wait) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}
}

// statusVersion is true once the gate's status says it holds registry
// version v.
func statusVersion(v int64) func([]msg) bool {
	return func(ms []msg) bool {
		st := on(ms, "/status")
		if len(st) == 0 {
			return false
		}
		var rep StatusReport
		json.Unmarshal(st[len(st)-1].payload, &rep)
		return rep.Registry.Version == v && rep.Registry.AppliedAt != ""
	}
}

// A retained snapshot chunk that claims 10^12 chunks, and chunks that claim
// data, a version and a count beyond every bound, are refused with a
// registry_refused alarm, and the gate keeps running: in this run, and
// again in the next one on the same store (the broker sends the retained
// one again), where a good snapshot still applies.
func TestRegistryOversizedChunkRetained(t *testing.T) {
	m := startMosquitto(t)
	send := publisher(t, m.url())
	sum := strings.Repeat("ab", 32)
	bad := []struct {
		chunk SnapshotChunk
		field string
	}{
		{SnapshotChunk{Schema: SchemaRegistrySnapshot, Version: 7, Chunk: 0, Chunks: 1_000_000_000_000, SHA256: sum, Data: "e30="}, "chunks"},
		{SnapshotChunk{Schema: SchemaRegistrySnapshot, Version: 7, Chunk: 999_999, Chunks: 1_000_000, SHA256: sum, Data: "e30="}, "chunks"},
		{SnapshotChunk{Schema: SchemaRegistrySnapshot, Version: 1 << 62, Chunk: 0, Chunks: 2, SHA256: sum, Data: "e30="}, "version"},
		{SnapshotChunk{Schema: SchemaRegistrySnapshot, Version: 7, Chunk: 0, Chunks: 2, SHA256: sum,
			Data: base64.StdEncoding.EncodeToString(make([]byte, 70_000))}, "registry_max_bytes"},
	}
	// The first is retained on the registry topic (the broker keeps one
	// message a topic); the others are sent again after each start.
	first, _ := json.Marshal(bad[0].chunk)
	send(first, true)
	dir := t.TempDir()
	cfg := testConfig(m.url())
	cfg.RegistryMaxBytes = 64 << 10
	cfg.RefusalAlarms = 100
	for run := range 2 {
		platform := subscribe(t, m.url(), fmt.Sprintf("platform-%d", run), nil, "hazgate/ningbo-chem/east-1/status")
		var alarms *alarmLog
		r := newRig(t, dir, cfg, logAlarms(&alarms))
		alarms.waitAlarm(t, AlarmRegistryRefused, "chunks: 1000000000000")
		waitConn(t, r.u, "subscribed", func(c ConnState) bool { return c.Subscribed })
		for _, b := range bad[1:] {
			p, _ := json.Marshal(b.chunk)
			send(p, false)
			alarms.waitAlarm(t, AlarmRegistryRefused, b.field)
		}
		if run == 1 {
			// Still up, and still taking a good snapshot.
			snap := registrytest.Good(time.Now().Add(-time.Minute))
			snap.Version = 0
			data, _ := json.Marshal(snap)
			for _, c := range ChunkSnapshot(3, data, 300) {
				b, _ := json.Marshal(c)
				send(b, false)
			}
			platform.waitFor(t, "registry version 3 in the status", statusVersion(3))
			if ix, err := r.st.Lookup(context.Background(), checks.Evidence{Plate: "浙B10001"}); err != nil {
				t.Fatal(err)
			} else if _, ok := ix.Vehicle("浙B10001"); !ok {
				t.Fatal("the good snapshot's vehicle is missing")
			}
		}
		r.stop()
	}
}

// Each bad registry of issue 15, sent as a delta, is refused with a
// registry_refused alarm that names its field, and the registry tables and
// version stay byte for byte as they were; a good delta then applies.
func TestRegistryDeltaRefusesBadRegistries(t *testing.T) {
	m := startMosquitto(t)
	send := publisher(t, m.url())
	dir := t.TempDir()
	cfg := testConfig(m.url())
	cfg.RefusalAlarms = 1000
	var alarms *alarmLog
	r := newRig(t, dir, cfg, logAlarms(&alarms))
	ctx := context.Background()
	if err := r.st.ImportSnapshot(ctx, registrytest.Good(time.Now().Add(-time.Hour)), "test", time.Now()); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, "gate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dump := func() string {
		t.Helper()
		d, err := registrytest.Dump(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	before := dump()
	platform := subscribe(t, m.url(), "platform", nil, "hazgate/ningbo-chem/east-1/status")
	waitConn(t, r.u, "subscribed", func(c ConnState) bool { return c.Subscribed })
	n := 0
	for _, c := range registrytest.Cases() {
		delta, err := c.DeltaJSON()
		if err != nil {
			t.Fatal(err)
		}
		if delta == nil {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			n++
			send(delta, false)
			field := c.FieldAt("upsert.", 0)
			detail := alarms.waitAlarm(t, AlarmRegistryRefused, field)
			if strings.Contains(detail, "store: ") || strings.Contains(detail, "uplink: ") {
				t.Errorf("the alarm is a Go error chain: %q", detail)
			}
			if after := dump(); after != before {
				t.Fatalf("a refused delta changed the registry:\nbefore\n%s\nafter\n%s", before, after)
			}
		})
	}
	if n < 25 {
		t.Fatalf("only %d deltas tried", n)
	}
	good := Delta{Schema: SchemaRegistryDelta, Base: registrytest.HeldVersion, Version: registrytest.HeldVersion + 1,
		SyncedAt: time.Now().Truncate(time.Second), Upsert: registry.Snapshot{Vehicles: []registry.Vehicle{registrytest.Vehicle("浙B20002")}}}
	b, _ := json.Marshal(good)
	send(b, false)
	platform.waitFor(t, "the good delta's version in the status", statusVersion(registrytest.HeldVersion+1))
}

// BenchmarkRegistrySnapshotRSS measures the peak resident memory of a gate
// process that receives a 60 MB registry snapshot in 8 chunks (at the
// default registry_max_bytes, 64 MiB): a child process (this test binary
// running TestRegistryRSSChild) opens a store and an uplink, reads its
// baseline, is handed the chunks one message at a time as the broker would
// deliver them, and reports VmHWM. The target is at most twice
// registry_max_bytes above the baseline. held=empty: the gate holds no
// registry; held=same-size: it holds the same snapshot at version 4 (its
// index is in the baseline), which the new one replaces.
func BenchmarkRegistrySnapshotRSS(b *testing.B) {
	dir := b.TempDir()
	write := func(name string, version int64) string {
		file := filepath.Join(dir, name)
		f, err := os.Create(file)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := registrytest.WriteBig(f, 60_000_000, version, time.Now().Add(-time.Minute)); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		return file
	}
	heldFile := write("held.json", 4)
	file := write("snapshot.json", 5) // synced no earlier than the held one
	for _, held := range []string{"empty", "same-size"} {
		heldEnv := ""
		if held == "same-size" {
			heldEnv = heldFile
		}
		b.Run("held="+held, func(b *testing.B) {
			for b.Loop() {
				cmd := exec.Command(os.Args[0], "-test.run=^TestRegistryRSSChild$", "-test.count=1", "-test.v")
				cmd.Env = append(os.Environ(), "UPLINK_RSS_CHILD="+file, "UPLINK_RSS_DIR="+b.TempDir(), "UPLINK_RSS_HELD="+heldEnv)
				out, err := cmd.CombinedOutput()
				if err != nil {
					b.Fatalf("child: %v\n%s", err, out)
				}
				var size, base, peak int64
				for _, l := range strings.Split(string(out), "\n") {
					if i := strings.Index(l, "rss: "); i >= 0 {
						fmt.Sscanf(l[i:], "rss: size=%d baseline=%d peak=%d", &size, &base, &peak)
					}
				}
				if peak == 0 {
					b.Fatalf("the child reported no peak:\n%s", out)
				}
				const max = 64 << 20
				b.ReportMetric(float64(size)/(1<<20), "snapshot-MiB")
				b.ReportMetric(float64(base)/(1<<20), "baseline-MiB")
				b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
				b.ReportMetric(float64(peak-base)/max, "over-baseline/max")
			}
		})
	}
}

// TestRegistryRSSChild is BenchmarkRegistrySnapshotRSS's child process.
func TestRegistryRSSChild(t *testing.T) {
	file := os.Getenv("UPLINK_RSS_CHILD")
	if file == "" {
		t.Skip("run by BenchmarkRegistrySnapshotRSS")
	}
	ctx := context.Background()
	dir := os.Getenv("UPLINK_RSS_DIR")
	st := openStore(t, filepath.Join(dir, "gate.db"))
	defer st.Close()
	cfg := testConfig("tcp://127.0.0.1:1")
	cfg.NonceFile = filepath.Join(dir, "nonces.json")
	u, err := New(cfg, st, Deps{Alarms: nopAlarms{}})
	if err != nil {
		t.Fatal(err)
	}
	if held := os.Getenv("UPLINK_RSS_HELD"); held != "" {
		hf, err := os.Open(held)
		if err != nil {
			t.Fatal(err)
		}
		defer hf.Close()
		open := func() io.Reader { return bufio.NewReader(io.NewSectionReader(hf, 0, 1<<62)) }
		if err := st.ImportJSON(ctx, open, held, "held", 4, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	size := fi.Size()
	// The hash, read as a stream: the child never holds the file.
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	runtime.GC()
	debug.FreeOSMemory()
	if err := registrytest.ResetPeakRSS(); err != nil {
		t.Fatal(err)
	}
	_, base, err := registrytest.PeakRSS()
	if err != nil {
		t.Fatal(err)
	}
	const chunks = 8
	per := (size + chunks - 1) / chunks
	for i := range int64(chunks) {
		part := make([]byte, min(per, size-i*per))
		if _, err := f.ReadAt(part, i*per); err != nil {
			t.Fatal(err)
		}
		payload, _ := json.Marshal(SnapshotChunk{Schema: SchemaRegistrySnapshot, Version: 5, Chunk: i, Chunks: chunks,
			SHA256: sum, Data: base64.StdEncoding.EncodeToString(part)})
		part = nil
		u.registry.handle(ctx, inboxMsg{topic: "hazgate/ningbo-chem/registry/snapshot", payload: payload})
	}
	peak, _, err := registrytest.PeakRSS()
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := st.RegistryMeta(ctx); m.Version != 5 {
		t.Fatalf("the snapshot was not imported: version %d", m.Version)
	}
	t.Logf("rss: size=%d baseline=%d peak=%d", size, base, peak)
}

// registryTopicOfPayload is the documented topic for a registry payload,
// well-formed or not: a delta's on .../delta, anything else on
// .../snapshot.
func registryTopicOfPayload(base string, b []byte) string {
	var head struct {
		Schema string `json:"schema"`
	}
	if json.NewDecoder(bytes.NewReader(b)).Decode(&head) == nil && head.Schema == SchemaRegistryDelta {
		return base + "/" + registryDeltaTopic
	}
	return base + "/" + registrySnapshotTopic
}

// TestRegistrySnapshotSpool: a snapshot's chunks are spooled to a file in
// the gate's data directory (the nonce file's) that is removed from it at
// once, so nothing is left there, whatever happens to the process; one a
// crash left is removed at start; an assembly dropped for a newer snapshot
// closes its spool; the snapshot is imported from the spool, out of order.
func TestRegistrySnapshotSpool(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	leftover := filepath.Join(dir, "hazgate-registry-123.spool")
	if err := os.WriteFile(leftover, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	st := openStore(t, filepath.Join(dir, "gate.db"))
	defer st.Close()
	cfg := testConfig("tcp://127.0.0.1:1")
	cfg.NonceFile = filepath.Join(dir, "nonces.json")
	u, err := New(cfg, st, Deps{Alarms: nopAlarms{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(leftover); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a spool left by a crash is still there: %v", err)
	}
	spools := func() []string {
		m, _ := filepath.Glob(filepath.Join(dir, "hazgate-registry-*"))
		return m
	}
	snapJSON := func(v int64) []byte {
		s := registrytest.Good(time.Now().Add(-time.Minute))
		s.Version = v
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	handle := func(c SnapshotChunk) {
		b, _ := json.Marshal(c)
		u.registry.handle(ctx, inboxMsg{topic: "hazgate/ningbo-chem/registry/snapshot", payload: b})
	}
	older := ChunkSnapshot(3, snapJSON(3), 100)
	handle(older[0])
	first := u.registry.asm
	if first == nil || first.file == nil || first.bytes != 100 {
		t.Fatalf("the first chunk was not spooled: %+v", first)
	}
	if s := spools(); len(s) != 0 {
		t.Fatalf("a spool is visible in the data directory: %v", s)
	}
	newer := ChunkSnapshot(4, snapJSON(4), 100)
	if len(newer) < 3 {
		t.Fatalf("only %d chunks", len(newer))
	}
	for i := len(newer) - 1; i >= 0; i-- { // last first
		if i == 0 && first.file != nil {
			t.Fatal("the older snapshot's spool is still open")
		}
		handle(newer[i])
	}
	if m, _ := st.RegistryMeta(ctx); m.Version != 4 {
		t.Fatalf("the snapshot from the spool was not imported: version %d", m.Version)
	}
	if u.registry.asm != nil {
		t.Fatal("the assembly is still held after its import")
	}
	if ix, _ := st.Lookup(ctx, checks.Evidence{}); ix == nil {
		t.Fatal("no index")
	} else if _, ok := ix.Vehicle(registrytest.Good(time.Now()).Vehicles[0].Plate); !ok {
		t.Fatal("the imported registry lacks its vehicle")
	}
	if s := spools(); len(s) != 0 {
		t.Fatalf("spools left in the data directory: %v", s)
	}
}
