package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hazgate/hazgate/uplink"
)

// keygen writes a key pair that cmd sign signs with and the public key
// verifies, over the domain-separated payload.
func TestKeygenAndSign(t *testing.T) {
	dir := t.TempDir()
	prefix := filepath.Join(dir, "office")
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"keygen", "-out", prefix}, &out, &errb); code != 0 {
		t.Fatalf("keygen: %d %s", code, errb.String())
	}
	if code := Main(context.Background(), []string{"keygen", "-out", prefix}, &out, &errb); code == 0 {
		t.Fatal("keygen overwrote a key")
	}
	if fi, err := os.Stat(prefix + ".key"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key file: %v %v", fi, err)
	}
	pubText, err := os.ReadFile(prefix + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := uplink.ParsePublicKey(string(pubText))
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	args := []string{"cmd", "sign", "-key", prefix + ".key", "-name", "lockdown", "-args", `{"on":true}`, "-ttl", "5m", "-by", "alice"}
	if code := Main(context.Background(), args, &out, &errb); code != 0 {
		t.Fatalf("cmd sign: %d %s", code, errb.String())
	}
	var env uplink.Envelope
	if err := json.Unmarshal(out.Bytes(), &env); err != nil {
		t.Fatal(err)
	}
	payload, _ := base64.StdEncoding.DecodeString(env.Payload)
	sig, _ := base64.StdEncoding.DecodeString(env.Sig)
	if env.Key != strings.TrimSpace(string(pubText)) || !ed25519.Verify(pub, append([]byte(uplink.SignDomain), payload...), sig) {
		t.Fatalf("signature does not verify: %s", out.String())
	}
	var c uplink.Command
	if err := json.Unmarshal(payload, &c); err != nil || c.Name != "lockdown" || c.By != "alice" || len(c.Nonce) != 32 ||
		c.ExpiresAt.Sub(c.IssuedAt).Minutes() != 5 || string(c.Args) != `{"on":true}` {
		t.Fatalf("command %+v %v", c, err)
	}
	if code := Main(context.Background(), []string{"cmd", "sign", "-key", prefix + ".key", "-name", "explode"}, &out, &errb); code != 2 {
		t.Fatalf("unknown command name: exit %d", code)
	}
}
