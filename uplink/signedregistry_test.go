package uplink

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/registry/registrytest"
)

// With registry keys configured, a gate on a real Mosquitto applies only
// registry data signed by one of them: an unsigned delta, one signed by
// another key, one whose payload was changed after signing, one with
// unsigned fields beside its payload, a command's signature on a delta, and
// a snapshot chunk whose manifest is of another snapshot are each refused
// with a registry_refused alarm that says why, and the registry is
// unchanged; a signed snapshot and a signed delta then apply; a signed
// delta older than the registry is not applied.
func TestSignedRegistry(t *testing.T) {
	m := startMosquitto(t)
	send := publisher(t, m.url())
	_, platform, _ := ed25519.GenerateKey(nil)
	_, stranger, _ := ed25519.GenerateKey(nil)
	cfg := testConfig(m.url())
	cfg.RefusalAlarms = 100
	cfg.RegistryKeys = []string{PublicKeyString(platform.Public().(ed25519.PublicKey))}
	status := subscribe(t, m.url(), "platform", nil, "hazgate/ningbo-chem/east-1/status")
	var alarms *alarmLog
	r := newRig(t, "", cfg, logAlarms(&alarms))
	waitConn(t, r.u, "subscribed", func(c ConnState) bool { return c.Subscribed })
	ctx := context.Background()

	snap := registrytest.Good(time.Now().Add(-time.Minute))
	snap.Version = 0
	snapJSON, _ := json.Marshal(snap)
	chunks, err := SignSnapshot(platform, 3, snapJSON, 400)
	if err != nil {
		t.Fatal(err)
	}
	blacklist := func(base, version int64) Delta {
		return Delta{Schema: SchemaRegistryDelta, Base: base, Version: version,
			Upsert: registry.Snapshot{Blacklist: []registry.BlacklistEntry{{Kind: registry.BlacklistVehicle, Value: "浙B10001", Reason: "test"}}}}
	}
	mustJSON := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	signed := func(priv ed25519.PrivateKey, d Delta) []byte {
		b, err := SignDelta(priv, d)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tampered := func() []byte {
		var msg SignedMessage
		json.Unmarshal(signed(platform, blacklist(0, 1)), &msg)
		p, _ := base64.StdEncoding.DecodeString(msg.Payload)
		p = []byte(strings.Replace(string(p), `"version":1`, `"version":2`, 1))
		msg.Payload = base64.StdEncoding.EncodeToString(p)
		return mustJSON(msg)
	}
	withOutside := func() []byte {
		var raw map[string]any
		json.Unmarshal(signed(platform, blacklist(0, 1)), &raw)
		raw["version"] = 5
		return mustJSON(raw)
	}
	// Only appointments beside the payload: refused all the same.
	withOutsideAppointments := func() []byte {
		var raw map[string]any
		json.Unmarshal(signed(platform, blacklist(0, 1)), &raw)
		raw["delete"] = map[string]any{"appointments": []string{"AP-1"}}
		return mustJSON(raw)
	}
	// A command signature over the same payload: the domains differ.
	asCommand := func() []byte {
		payload := mustJSON(blacklist(0, 1))
		env := signEnvelope(platform, SignDomain, payload)
		return mustJSON(SignedMessage{Schema: SchemaRegistryDelta, Envelope: env})
	}
	otherManifest := func() []byte {
		other, _ := SignSnapshot(platform, 3, append(snapJSON[:len(snapJSON):len(snapJSON)], ' '), 400)
		c := chunks[0]
		c.Manifest = other[0].Manifest
		return mustJSON(c)
	}
	unsignedChunk := func() []byte {
		c := chunks[0]
		c.Manifest = nil
		return mustJSON(c)
	}
	for _, tc := range []struct {
		name string
		msg  []byte
		want string
	}{
		{"unsigned delta", mustJSON(blacklist(0, 1)), "not signed"},
		{"delta signed by another key", signed(stranger, blacklist(0, 1)), "not one of the registry keys"},
		{"delta changed after signing", tampered(), "does not verify"},
		{"unsigned fields beside the payload", withOutside(), "were not signed"},
		{"unsigned appointments beside the payload", withOutsideAppointments(), "were not signed"},
		{"a command's signature", asCommand(), "does not verify"},
		{"unsigned snapshot chunk", unsignedChunk(), "not signed"},
		{"chunk of another snapshot than its manifest", otherManifest(), "not the snapshot the manifest signs"},
	} {
		send(tc.msg, false)
		alarms.waitAlarm(t, AlarmRegistryRefused, tc.want)
		if meta, _ := r.st.RegistryMeta(ctx); meta.Version != 0 {
			t.Fatalf("%s: registry version %d after a refusal", tc.name, meta.Version)
		}
	}

	for _, c := range chunks {
		send(mustJSON(c), false)
	}
	status.waitFor(t, "the signed snapshot's version 3 in the status", statusVersion(3))
	send(signed(platform, blacklist(3, 4)), false)
	status.waitFor(t, "the signed delta's version 4 in the status", statusVersion(4))
	ix, err := r.st.Lookup(ctx, checks.Evidence{Plate: "浙B10001"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ix.Blacklisted(registry.BlacklistVehicle, "浙B10001"); !ok {
		t.Fatal("the signed delta's blacklist entry is missing")
	}
	// An older signed delta (a replay) is not applied; a newer one
	// still is, so the old one was passed over, not stuck.
	send(signed(platform, Delta{Schema: SchemaRegistryDelta, Base: 2, Version: 3}), false)
	send(signed(platform, Delta{Schema: SchemaRegistryDelta, Base: 4, Version: 5}), false)
	got := status.waitFor(t, "version 5 in the status", statusVersion(5))
	var rep StatusReport
	st := on(got, "/status")
	if json.Unmarshal(st[len(st)-1].payload, &rep); !rep.Registry.Signed {
		t.Fatalf("the status does not say registry data is signed: %s", st[len(st)-1].payload)
	}
	if meta, _ := r.st.RegistryMeta(ctx); meta.Version != 5 {
		t.Fatalf("registry version %d, want 5", meta.Version)
	}
}

// Without registry keys, signed and unsigned data are both taken (the
// gate has nothing to check a signature with).
func TestRegistryWithoutKeysTakesSigned(t *testing.T) {
	_, platform, _ := ed25519.GenerateKey(nil)
	r := &registrySync{}
	d := Delta{Schema: SchemaRegistryDelta, Base: 1, Version: 2}
	b, _ := SignDelta(platform, d)
	got, err := r.openDelta(b)
	if err != nil || got.Base != 1 || got.Version != 2 {
		t.Fatalf("signed delta without keys: %+v, %v", got, err)
	}
	plain, _ := json.Marshal(d)
	if got, err := r.openDelta(plain); err != nil || got.Version != 2 {
		t.Fatalf("unsigned delta without keys: %+v, %v", got, err)
	}
}
