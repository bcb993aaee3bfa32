package uplink

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/registry/registrytest"
	"github.com/hazgate/hazgate/store"
)

// FuzzVerify feeds the command verifier arbitrary envelopes on arbitrary
// topics at arbitrary times, and the same bytes again as the payload of an
// envelope correctly signed by a trusted key (so that the fuzzer reaches
// the checks behind the signature, which it cannot forge). Whatever comes
// in, verify must not panic; it refuses with one of the Refuse* reasons or
// accepts a command that really verifies: its envelope carries a trusted
// key, the signature is that key's over SignDomain and the payload bytes,
// and the command in those bytes is the one returned and is for this
// topic, this gate and this time.
func FuzzVerify(f *testing.F) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	pub := priv.Public().(ed25519.PublicKey)
	_, stranger, _ := ed25519.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{9}, ed25519.SeedSize)))
	kr, err := parseKeyring("trusted_keys", []string{PublicKeyString(pub)})
	if err != nil {
		f.Fatal(err)
	}
	const root = "hazgate/ningbo-chem/east-1"
	ok := Command{V: 1, Name: CmdLockdown, Target: root, Args: json.RawMessage(`{"on":true}`),
		Nonce: "0123456789abcdef0123456789abcdef", IssuedAt: t0, ExpiresAt: t0.Add(5 * time.Minute), By: "alice"}
	with := func(f func(*Command)) Command { c := ok; f(&c); return c }
	for _, c := range []Command{
		ok,
		with(func(c *Command) { c.Target = "" }),
		with(func(c *Command) { c.Name = CmdOpen; c.Args = json.RawMessage(`{"lane":"in-1"}`) }),
		with(func(c *Command) { c.Name, c.Target = CmdRelease, "" }),
		with(func(c *Command) { c.Name, c.Args = CmdResync, nil }),
		with(func(c *Command) { c.Target = "hazgate/ningbo-chem/west-1" }),
		with(func(c *Command) { c.Nonce = "1" }),
		with(func(c *Command) { c.ExpiresAt = t0.Add(48 * time.Hour) }),
		with(func(c *Command) { c.V = 2 }),
	} {
		payload, err := json.Marshal(c)
		if err != nil {
			f.Fatal(err)
		}
		env, err := Sign(priv, c)
		if err != nil {
			f.Fatal(err)
		}
		for _, secs := range []int64{60, -3600, 600} {
			f.Add(env, c.Name, secs)
			f.Add(payload, c.Name, secs)
		}
	}
	other, _ := Sign(stranger, ok)
	f.Add(other, CmdLockdown, int64(60))
	for _, s := range []string{
		`{"name":"lockdown","args":{"on":true}}`, `lockdown!`, `{"payload":"","key":"","sig":""}`,
		`{"payload":"e30=","key":"` + PublicKeyString(pub) + `","sig":"AAAA"}`, `{"payload":1}`, `null`, `[]`, ``,
	} {
		f.Add([]byte(s), CmdLockdown, int64(0))
	}

	f.Fuzz(func(t *testing.T, data []byte, name string, secs int64) {
		p := verifyPolicy{
			name: name, root: root, now: t0.Add(time.Duration(secs%(30*86400)) * time.Second),
			skew: 2 * time.Minute, ttl: time.Hour, floor: t0.Add(-24 * time.Hour),
		}
		c, key, err := kr.verify(data, p)
		checkVerified(t, pub, data, p, c, key, err)

		// The same bytes as the payload, signed with the trusted key: the
		// signature holds, so only the command can be refused, and it is
		// accepted exactly when it should be.
		env, _ := json.Marshal(Envelope{
			Payload: base64.StdEncoding.EncodeToString(data),
			Key:     PublicKeyString(pub),
			Sig:     base64.StdEncoding.EncodeToString(ed25519.Sign(priv, append([]byte(SignDomain), data...))),
		})
		c, key, err = kr.verify(env, p)
		checkVerified(t, pub, env, p, c, key, err)
		var re *RefusedError
		if errors.As(err, &re) && slices.Contains([]string{RefuseUnsigned, RefuseUntrusted, RefuseBadSignature}, re.Reason) {
			t.Fatalf("a correctly signed envelope refused as %s: %v", re.Reason, err)
		}
		var want Command
		acceptable := json.Unmarshal(data, &want) == nil && admissible(want, p)
		if acceptable != (err == nil) {
			t.Fatalf("payload %q on cmd/%s at %s: verify says %v; want accepted=%v", data, name, p.now.Format(time.RFC3339), err, acceptable)
		}
	})
}

// checkVerified checks what verify returned for data: a refusal with a known
// reason, or a command that data really carries, signed by pub, admissible
// under p.
func checkVerified(t *testing.T, pub ed25519.PublicKey, data []byte, p verifyPolicy, c *Command, key string, err error) {
	t.Helper()
	if err != nil {
		var re *RefusedError
		if !errors.As(err, &re) || !strings.HasPrefix(err.Error(), "uplink: command refused: "+re.Reason) {
			t.Fatalf("verify(%q) = %v, not a RefusedError", data, err)
		}
		if !slices.Contains([]string{RefuseUnsigned, RefuseMalformed, RefuseUntrusted, RefuseBadSignature, RefuseWrongName,
			RefuseWrongTarget, RefuseNotYetValid, RefuseExpired, RefuseTTL, RefuseReplayed}, re.Reason) {
			t.Fatalf("verify(%q) refused with reason %q, which verify does not give", data, re.Reason)
		}
		return
	}
	var env Envelope
	if err := json.Unmarshal(data, &env); err != nil {
		t.Fatalf("accepted %q, which is no envelope: %v", data, err)
	}
	payload, err1 := base64.StdEncoding.DecodeString(env.Payload)
	sig, err2 := base64.StdEncoding.DecodeString(env.Sig)
	if key != env.Key || env.Key != PublicKeyString(pub) || err1 != nil || err2 != nil ||
		!ed25519.Verify(pub, append([]byte(SignDomain), payload...), sig) {
		t.Fatalf("accepted %q, whose signature does not verify with the trusted key (key %q)", data, key)
	}
	var want Command
	if err := json.Unmarshal(payload, &want); err != nil {
		t.Fatalf("accepted %q, whose payload is no command: %v", data, err)
	}
	if c == nil || c.V != want.V || c.Name != want.Name || c.Target != want.Target || !bytes.Equal(c.Args, want.Args) ||
		c.Nonce != want.Nonce || !c.IssuedAt.Equal(want.IssuedAt) || !c.ExpiresAt.Equal(want.ExpiresAt) || c.By != want.By {
		t.Fatalf("accepted %q as %+v; the payload says %+v", data, c, want)
	}
	if !admissible(want, p) {
		t.Fatalf("accepted %+v on cmd/%s at %s", want, p.name, p.now.Format(time.RFC3339))
	}
}

// admissible is verify's policy restated: version 1, for this topic and
// this gate (open and release name it), a nonce of 16 to 64 characters, and
// valid now, within the clock skew, for no longer than the TTL.
func admissible(c Command, p verifyPolicy) bool {
	if c.V != 1 || c.Name != p.name || (c.Target != "" && c.Target != p.root) {
		return false
	}
	if c.Target == "" && (c.Name == CmdOpen || c.Name == CmdRelease) {
		return false
	}
	if n := len(c.Nonce); n < 16 || n > 64 || c.IssuedAt.IsZero() || c.ExpiresAt.IsZero() {
		return false
	}
	validFor := c.ExpiresAt.Sub(c.IssuedAt)
	return !p.now.Add(p.skew).Before(c.IssuedAt) && p.now.Before(c.ExpiresAt.Add(p.skew)) &&
		validFor > 0 && validFor <= p.ttl && (p.floor.IsZero() || !c.IssuedAt.Before(p.floor))
}

// fuzzRegistry is an uplink that is never run (no broker: its snapshot
// requests go nowhere) over a real store, for the registry fuzz targets.
func fuzzRegistry(f *testing.F) (*registrySync, *store.Store) {
	dir := f.TempDir()
	st, err := store.Open(context.Background(), filepath.Join(dir, "gate.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	cfg := testConfig("tcp://127.0.0.1:1")
	cfg.NonceFile = filepath.Join(dir, "nonces.json")
	cfg.RegistryMaxBytes = 256 << 10
	u, err := New(cfg, st, Deps{Alarms: nopAlarms{}})
	if err != nil {
		f.Fatal(err)
	}
	good := registrytest.Good(time.Now().Add(-time.Hour))
	if err := st.ImportSnapshot(context.Background(), good, "seed", time.Now()); err != nil {
		f.Fatal(err)
	}
	return u.registry, st
}

// checkAssembly checks that what the gate holds for a snapshot being
// assembled is within its bounds.
func checkAssembly(t *testing.T, r *registrySync) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if a := r.asm; a != nil && (a.bytes > r.u.cfg.RegistryMaxBytes || len(a.parts) > a.chunks || a.chunks > r.maxChunks()) {
		t.Fatalf("assembly over its bounds: %d bytes, %d of %d chunks (max %d)", a.bytes, len(a.parts), a.chunks, r.maxChunks())
	}
}

// FuzzRegistryChunk feeds the registry handler arbitrary messages, then a
// snapshot made of arbitrary JSON, correctly chunked and hashed, as the
// next version. Whatever comes in, the handler must not panic, must hold
// no more than its bounds while assembling, and must change the registry
// only to a snapshot that decodes strictly and validates, at the version
// its chunks carry; a refused snapshot changes nothing.
func FuzzRegistryChunk(f *testing.F) {
	r, st := fuzzRegistry(f)
	good, _ := json.Marshal(registrytest.Good(time.Now().Add(-time.Minute)))
	for _, c := range ChunkSnapshot(11, good, 200) {
		b, _ := json.Marshal(c)
		f.Add(b, good, uint8(3), uint8(1))
	}
	for _, raw := range []string{
		`{"schema":"hazgate.registry.snapshot/1","version":7,"chunk":0,"chunks":1000000000000,"sha256":"` + strings.Repeat("ab", 32) + `","data":"e30="}`,
		`{"schema":"hazgate.registry.snapshot/1","version":9223372036854775807,"chunk":0,"chunks":1,"sha256":"","data":""}`,
		`{"schema":"hazgate.registry.snapshot/1","version":12,"chunk":-1,"chunks":2,"sha256":"` + strings.Repeat("00", 32) + `","data":"!!"}`,
		`{"schema":"hazgate.registry.request/1"}`, `{"schema":1}`, `null`, ``,
	} {
		f.Add([]byte(raw), good, uint8(0), uint8(0))
	}
	for _, c := range registrytest.Cases() {
		if s := c.Import(registrytest.Good(time.Now())); s != nil {
			if b, err := json.Marshal(s); err == nil {
				f.Add([]byte(`{}`), b, uint8(2), uint8(0))
			}
		}
	}
	ctx := context.Background()
	const topic = "hazgate/ningbo-chem/registry/snapshot"
	f.Fuzz(func(t *testing.T, raw, snapJSON []byte, parts, ahead uint8) {
		r.handle(ctx, inboxMsg{topic: topic, payload: raw})
		checkAssembly(t, r)
		r.mu.Lock()
		r.asm = nil // what raw began must not hide the snapshot below
		r.mu.Unlock()

		held, _ := st.RegistryMeta(ctx)
		v := held.Version + 1 + int64(ahead%3)
		size := max(1, len(snapJSON)/(int(parts%8)+1))
		for _, c := range ChunkSnapshot(v, snapJSON, size) {
			b, _ := json.Marshal(c)
			r.handle(ctx, inboxMsg{topic: topic, payload: b})
			checkAssembly(t, r)
		}
		after, _ := st.RegistryMeta(ctx)
		snap, derr := registry.DecodeJSON(bytes.NewReader(snapJSON), "fuzz")
		switch {
		case after.Version == held.Version:
			// refused: nothing changed (a refusal can be right for
			// reasons DecodeJSON does not see: the store's own checks).
		case after.Version != v:
			t.Fatalf("held %d, imported %d; the chunks said %d", held.Version, after.Version, v)
		case derr != nil:
			t.Fatalf("imported a snapshot that does not decode: %v\n%s", derr, snapJSON)
		case snap.Version != 0 && snap.Version != v:
			t.Fatalf("imported snapshot version %d under chunks of version %d", snap.Version, v)
		default:
			ix, err := st.Lookup(ctx, checks.Evidence{})
			if err != nil {
				t.Fatal(err)
			}
			for _, veh := range snap.Vehicles {
				if _, ok := ix.Vehicle(veh.Plate); !ok {
					t.Fatalf("imported, but vehicle %q is not in the index", veh.Plate)
				}
			}
		}
	})
}

// FuzzRegistryDelta feeds the registry handler an arbitrary message, then
// a delta from the held version with arbitrary upsert and delete parts.
// The handler must not panic; the delta applies exactly when it decodes
// strictly and its records and keys validate (and only the version moves,
// by one, or stays for an empty delta of the same version).
func FuzzRegistryDelta(f *testing.F) {
	r, st := fuzzRegistry(f)
	for _, c := range registrytest.Cases() {
		d, err := c.DeltaJSON()
		if err != nil || d == nil {
			continue
		}
		var parts struct{ Upsert, Delete json.RawMessage }
		json.Unmarshal(d, &parts)
		f.Add(d, []byte(parts.Upsert), []byte(parts.Delete), false)
	}
	up, _ := json.Marshal(registry.Snapshot{Vehicles: []registry.Vehicle{registrytest.Vehicle("浙B30003")},
		Persons:   []registry.Person{{IDNumber: registrytest.ID(3), Name: "三"}},
		Blacklist: []registry.BlacklistEntry{{Kind: registry.BlacklistVehicle, Value: "浙B10001", Reason: "x"}}})
	del, _ := json.Marshal(store.RegistryKeys{Vehicles: []string{"浙B10001"}, Persons: []string{registrytest.ID(1)}, Waybills: []string{"WB-1"}})
	f.Add([]byte(`{"schema":"hazgate.registry.delta/1","base":99,"version":100}`), up, del, false)
	f.Add([]byte(`{}`), []byte(`{}`), []byte(`{}`), true)
	f.Add([]byte(`{}`), []byte(`{"vehicles":[null]}`), []byte(`{"vehicles":[null]}`), false)
	ctx := context.Background()
	const topic = "hazgate/ningbo-chem/registry/delta"
	f.Fuzz(func(t *testing.T, raw, upsert, del []byte, same bool) {
		held, _ := st.RegistryMeta(ctx)
		r.handle(ctx, inboxMsg{topic: topic, payload: raw})
		if after, _ := st.RegistryMeta(ctx); after.Version != held.Version {
			var d Delta
			if decodeStrict(raw, &d) != nil || d.Base != held.Version || d.Version != after.Version ||
				len(d.Upsert.Validate()) > 0 || len(d.Delete.Validate()) > 0 {
				t.Fatalf("held %d, now %d after %s", held.Version, after.Version, raw)
			}
		}

		held, _ = st.RegistryMeta(ctx)
		v := held.Version + 1
		if same {
			v = held.Version
		}
		msg := fmt.Appendf(nil, `{"schema":%q,"base":%d,"version":%d,"upsert":%s,"delete":%s}`, SchemaRegistryDelta, held.Version, v, upsert, del)
		r.handle(ctx, inboxMsg{topic: topic, payload: msg})
		after, _ := st.RegistryMeta(ctx)
		var d Delta
		valid := decodeStrict(msg, &d) == nil && len(d.Upsert.Validate()) == 0 && len(d.Delete.Validate()) == 0 &&
			(!same || (&store.RegistryDelta{Upsert: d.Upsert, Delete: d.Delete}).Empty())
		if !valid && after.Version != held.Version {
			t.Fatalf("an invalid delta applied: %s", msg)
		}
		if valid && after.Version != v {
			t.Fatalf("a valid delta did not apply (held %d, now %d): %s", held.Version, after.Version, msg)
		}
		if same && valid && !after.SyncedAt.After(held.SyncedAt.Add(-time.Second)) {
			t.Fatalf("an empty delta did not record its sync time")
		}
	})
}
