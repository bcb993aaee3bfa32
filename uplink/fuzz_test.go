package uplink

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
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
	kr, err := parseKeyring([]string{PublicKeyString(pub)})
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
