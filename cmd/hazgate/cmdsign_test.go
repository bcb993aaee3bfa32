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

// cmd sign refuses, in words naming the flag, every command the gate would
// refuse for what it says (not for when it arrives).
func TestSignRefusesWhatTheGateRefuses(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "office")
	if code, _, errs := run(t, "keygen", "-out", prefix); code != 0 {
		t.Fatalf("keygen: %s", errs)
	}
	const root = "hazgate/test-park/east-1"
	release := `{"lane":"in-1","inspection_id":"I-1","operator":"王五","reason":"证件核实"}`
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"open without a target", []string{"-name", "open", "-args", `{"lane":"in-1"}`}, "-target: open must name its gate"},
		{"release without a target", []string{"-name", "release", "-args", release}, "-target: release must name its gate"},
		{"release without an inspection", []string{"-name", "release", "-target", root, "-args", `{"lane":"in-1","operator":"王五","reason":"x"}`}, "-args: release needs the inspection_id"},
		{"unknown argument", []string{"-name", "lockdown", "-args", `{"on":true,"force":1}`}, `-args: lockdown: json: unknown field "force"`},
		{"lockdown without on", []string{"-name", "lockdown", "-args", `{}`}, `-args: lockdown needs "on"`},
		{"open without arguments", []string{"-name", "open", "-target", root}, "-args: open needs arguments"},
		{"too long", []string{"-name", "resync", "-ttl", "2h"}, "-ttl: the gates refuse a command valid for more than 1h0m0s"},
		{"past a gate's own limit", []string{"-name", "resync", "-ttl", "20m", "-max-ttl", "10m"}, "more than 10m0s"},
		{"nobody", []string{"-name", "resync", "-by", " "}, "-by: who gives the command is required"},
		{"unknown name", []string{"-name", "explode"}, `-name "explode": not open`},
		{"evacuate without on", []string{"-name", "evacuate", "-args", `{}`}, `-args: evacuate needs "on"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := run(t, append([]string{"cmd", "sign", "-key", prefix + ".key"}, tc.args...)...)
			if code != 2 || out != "" || !strings.Contains(errs, tc.want) {
				t.Fatalf("exit %d, out %q, err %q; want exit 2 and %q", code, out, errs, tc.want)
			}
		})
	}
	// And what the gate takes is signed.
	if code, out, errs := run(t, "cmd", "sign", "-key", prefix+".key", "-name", "evacuate", "-args", `{"on":true}`, "-by", "office"); code != 0 || out == "" {
		t.Fatalf("a good evacuate: %d %s", code, errs)
	}
	if code, out, errs := run(t, "cmd", "sign", "-key", prefix+".key", "-name", "release", "-target", root, "-args", release, "-by", "office"); code != 0 || out == "" {
		t.Fatalf("a good release: %d %s", code, errs)
	}
}
