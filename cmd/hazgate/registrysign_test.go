package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hazgate/hazgate/uplink"
)

// registry sign signs a delta and a chunked snapshot with a keygen key, so
// that the public key verifies each over the registry's domain and the
// chunks put together are the registry file's records; a delta a gate would
// refuse is not signed, and says which field is wrong.
func TestRegistrySign(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	prefix := filepath.Join(dir, "platform")
	var out, errb bytes.Buffer
	if code := Main(ctx, []string{"keygen", "-out", prefix}, &out, &errb); code != 0 {
		t.Fatalf("keygen: %d %s", code, errb.String())
	}
	pubText, _ := os.ReadFile(prefix + ".pub")
	pub, err := uplink.ParsePublicKey(string(pubText))
	if err != nil {
		t.Fatal(err)
	}
	open := func(env uplink.Envelope) []byte {
		t.Helper()
		payload, _ := base64.StdEncoding.DecodeString(env.Payload)
		sig, _ := base64.StdEncoding.DecodeString(env.Sig)
		if env.Key != strings.TrimSpace(string(pubText)) || !ed25519.Verify(pub, append([]byte(uplink.RegistrySignDomain), payload...), sig) {
			t.Fatalf("signature does not verify over the registry domain: %+v", env)
		}
		return payload
	}

	delta := filepath.Join(dir, "delta.json")
	os.WriteFile(delta, []byte(`{"base": 7, "version": 8, "upsert": {"blacklist": [{"kind": "vehicle", "value": "浙B10001", "reason": "test"}]}}`), 0o600)
	out.Reset()
	if code := Main(ctx, []string{"registry", "sign", "-key", prefix + ".key", "-delta", delta}, &out, &errb); code != 0 {
		t.Fatalf("registry sign -delta: %d %s", code, errb.String())
	}
	var msg uplink.SignedMessage
	if err := json.Unmarshal(out.Bytes(), &msg); err != nil || msg.Schema != uplink.SchemaRegistryDelta {
		t.Fatalf("signed delta %s: %v", out.String(), err)
	}
	var d uplink.Delta
	if err := json.Unmarshal(open(msg.Envelope), &d); err != nil || d.Base != 7 || d.Version != 8 || len(d.Upsert.Blacklist) != 1 {
		t.Fatalf("signed delta payload %+v %v", d, err)
	}

	out.Reset()
	if code := Main(ctx, []string{"registry", "sign", "-key", prefix + ".key", "-snapshot", "testdata/registry.yaml", "-chunk-size", "1024"}, &out, &errb); code != 0 {
		t.Fatalf("registry sign -snapshot: %d %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var whole []byte
	for i, line := range lines {
		var c uplink.SnapshotChunk
		if err := json.Unmarshal([]byte(line), &c); err != nil || c.Manifest == nil || c.Chunk != int64(i) || c.Chunks != int64(len(lines)) || c.Version != 7 {
			t.Fatalf("chunk %d: %s %v", i, line, err)
		}
		var m uplink.Manifest
		if err := json.Unmarshal(open(*c.Manifest), &m); err != nil || m.Version != 7 || m.Chunks != c.Chunks || m.SHA256 != c.SHA256 {
			t.Fatalf("manifest %+v of chunk %+v: %v", m, c, err)
		}
		part, _ := base64.StdEncoding.DecodeString(c.Data)
		whole = append(whole, part...)
	}
	sum := sha256.Sum256(whole)
	var first uplink.SnapshotChunk
	json.Unmarshal([]byte(lines[0]), &first)
	if hex.EncodeToString(sum[:]) != first.SHA256 || !strings.Contains(string(whole), "TK-1001") {
		t.Fatalf("the chunks put together are not the signed snapshot (%d bytes)", len(whole))
	}

	os.WriteFile(delta, []byte(`{"base": 7, "version": 8, "upsert": {"vehicles": [{"plate": "=cmd|x", "kind": "tractor"}]}}`), 0o600)
	out.Reset()
	errb.Reset()
	if code := Main(ctx, []string{"registry", "sign", "-key", prefix + ".key", "-delta", delta}, &out, &errb); code == 0 || out.Len() > 0 {
		t.Fatalf("a bad delta was signed: %d %s", code, out.String())
	}
	if !strings.Contains(errb.String(), "upsert.vehicles[0].plate") {
		t.Fatalf("the refusal does not name the field: %s", errb.String())
	}
}
