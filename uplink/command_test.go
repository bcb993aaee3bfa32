package uplink

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/hazgate/hazgate/atomicfile"
)

var t0 = time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC)

func newKey(t testing.TB) ed25519.PrivateKey {
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

func signed(t testing.TB, priv ed25519.PrivateKey, c Command) []byte {
	t.Helper()
	if c.Nonce == "" {
		c.Nonce = NewNonce()
	}
	if c.IssuedAt.IsZero() {
		c.IssuedAt = t0
	}
	if c.ExpiresAt.IsZero() {
		c.ExpiresAt = c.IssuedAt.Add(5 * time.Minute)
	}
	b, err := Sign(priv, c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVerify(t *testing.T) {
	priv, other := newKey(t), newKey(t)
	kr, err := parseKeyring("trusted_keys", []string{PublicKeyString(priv.Public().(ed25519.PublicKey))})
	if err != nil {
		t.Fatal(err)
	}
	root := "hazgate/ningbo-chem/east-1"
	ok := Command{Name: CmdLockdown, Target: root, Args: json.RawMessage(`{"on":true}`), By: "alice"}
	tampered := func() []byte {
		var env Envelope
		json.Unmarshal(signed(t, priv, ok), &env)
		p, _ := base64.StdEncoding.DecodeString(env.Payload)
		env.Payload = base64.StdEncoding.EncodeToString([]byte(strings.Replace(string(p), "true", "false", 1)))
		b, _ := json.Marshal(env)
		return b
	}
	with := func(f func(*Command)) Command { c := ok; f(&c); return c }
	for _, tc := range []struct {
		name   string
		data   []byte
		topic  string
		now    time.Time
		reason string
	}{
		{"good", signed(t, priv, ok), CmdLockdown, t0.Add(time.Minute), ""},
		{"any gate", signed(t, priv, with(func(c *Command) { c.Target = "" })), CmdLockdown, t0, ""},
		{"unsigned", []byte(`{"name":"lockdown","args":{"on":true}}`), CmdLockdown, t0, RefuseUnsigned},
		{"not JSON", []byte(`lockdown!`), CmdLockdown, t0, RefuseMalformed},
		{"more after the envelope", append(signed(t, priv, ok), " {}"...), CmdLockdown, t0, RefuseMalformed},
		{"space after the envelope", append(signed(t, priv, ok), " \n"...), CmdLockdown, t0, ""},
		{"untrusted key", signed(t, other, ok), CmdLockdown, t0, RefuseUntrusted},
		{"tampered", tampered(), CmdLockdown, t0, RefuseBadSignature},
		{"other topic", signed(t, priv, ok), CmdOpen, t0, RefuseWrongName},
		{"other gate", signed(t, priv, with(func(c *Command) { c.Target = "hazgate/ningbo-chem/west-1" })), CmdLockdown, t0, RefuseWrongTarget},
		{"open for any gate", signed(t, priv, with(func(c *Command) { c.Name, c.Target = CmdOpen, "" })), CmdOpen, t0, RefuseWrongTarget},
		{"expired", signed(t, priv, ok), CmdLockdown, t0.Add(10 * time.Minute), RefuseExpired},
		{"from the future", signed(t, priv, ok), CmdLockdown, t0.Add(-time.Hour), RefuseNotYetValid},
		{"valid too long", signed(t, priv, with(func(c *Command) { c.ExpiresAt = t0.Add(48 * time.Hour) })), CmdLockdown, t0, RefuseTTL},
		{"short nonce", signed(t, priv, with(func(c *Command) { c.Nonce = "1" })), CmdLockdown, t0, RefuseMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := kr.verify(tc.data, verifyPolicy{name: tc.topic, root: root, now: tc.now, skew: 2 * time.Minute, ttl: time.Hour})
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			re, isRefused := err.(*RefusedError)
			if !isRefused || re.Reason != tc.reason {
				t.Fatalf("got %v, want refusal %s", err, tc.reason)
			}
		})
	}
}

func TestNonceCacheSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nonces.json")
	c, warn, err := loadNonces(path, t0)
	if err != nil || warn != nil {
		t.Fatal(err, warn)
	}
	if err := c.accept("nonce-aaaaaaaaaaaa", t0.Add(time.Hour), t0, true); err != nil {
		t.Fatal(err)
	}
	c2, warn, err := loadNonces(path, t0.Add(time.Minute))
	if err != nil || warn != nil {
		t.Fatal(err, warn)
	}
	if err := c2.accept("nonce-aaaaaaaaaaaa", t0.Add(time.Hour), t0.Add(time.Minute), true); err == nil {
		t.Fatal("a nonce used before the restart was accepted again")
	}
	// Expired nonces are forgotten.
	c3, _, _ := loadNonces(path, t0.Add(2*time.Hour))
	if len(c3.seen) != 0 {
		t.Fatalf("expired nonces kept: %v", c3.seen)
	}
	// A cache that cannot be read refuses what was issued before.
	if err := atomicfile.Write(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	c4, warn, err := loadNonces(path, t0.Add(3*time.Hour))
	if err != nil || warn == nil || !c4.floorTime().Equal(t0.Add(3*time.Hour)) {
		t.Fatalf("corrupt cache: %v, warn %v, floor %v", err, warn, c4.floorTime())
	}
}

// Signed commands from the office are carried out and audited; unsigned,
// badly signed, expired and replayed ones are refused with an alarm, also
// after a restart.
func TestCommandsOverMQTT(t *testing.T) {
	m := startMosquitto(t)
	priv := newKey(t)
	dir := t.TempDir()
	cfg := testConfig(m.url())
	cfg.TrustedKeys = []string{PublicKeyString(priv.Public().(ed25519.PublicKey))}
	r := newRig(t, dir, cfg)
	calls := r.cmds.Calls()
	platform := subscribe(t, m.url(), "platform", nil, "hazgate/+/+/events/alarm")
	office := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(m.url()).SetClientID("office"))
	if tok := office.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer office.Disconnect(0)
	waitConn(t, r.u, "subscribed", func(c ConnState) bool { return c.Subscribed })
	root := r.u.cfg.Root
	send := func(name string, payload []byte) {
		t.Helper()
		if tok := office.Publish(root+"/cmd/"+name, 1, false, payload); !tok.WaitTimeout(wait) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}
	now := time.Now()
	lockdown := signed(t, priv, Command{Name: CmdLockdown, Target: root, Args: json.RawMessage(`{"on":true}`), By: "alice", IssuedAt: now})
	send(CmdLockdown, lockdown)
	select {
	case line := <-calls:
		if line != "lockdown true by alice" {
			t.Fatalf("commander got %q", line)
		}
	case <-time.After(wait):
		t.Fatal("lockdown was not carried out")
	}
	entries, err := r.st.AuditFor(context.Background(), root)
	if err != nil || len(entries) != 1 || entries[0].Action != "command.lockdown" || entries[0].Actor != "office:alice" {
		t.Fatalf("audit: %v %+v", err, entries)
	}

	refusals := []struct{ name, reason string }{}
	expect := func(name string, payload []byte, reason string) {
		send(name, payload)
		refusals = append(refusals, struct{ name, reason string }{name, reason})
	}
	expect(CmdLockdown, lockdown, RefuseReplayed)
	expect(CmdOpen, []byte(`{"name":"open","args":{"lane":"in-1"}}`), RefuseUnsigned)
	expect(CmdOpen, signed(t, newKey(t), Command{Name: CmdOpen, Target: root, Args: json.RawMessage(`{"lane":"in-1"}`), IssuedAt: now}), RefuseUntrusted)
	expect(CmdOpen, signed(t, priv, Command{Name: CmdOpen, Target: root, Args: json.RawMessage(`{"lane":"in-1"}`),
		IssuedAt: now.Add(-20 * time.Minute), ExpiresAt: now.Add(-10 * time.Minute)}), RefuseExpired)
	waitRefusals(t, platform, refusals)
	if got := r.cmds.Lines(); len(got) != 1 {
		t.Fatalf("refused commands were carried out: %v", got)
	}

	// After a restart, the accepted command is still a replay.
	r.stop()
	r2 := newRig(t, dir, cfg)
	waitConn(t, r2.u, "subscribed again", func(c ConnState) bool { return c.Subscribed })
	expect(CmdLockdown, lockdown, RefuseReplayed)
	waitRefusals(t, platform, refusals)
	if got := r2.cmds.Lines(); len(got) != 0 {
		t.Fatalf("replayed after restart: %v", got)
	}
	// And a fresh one goes through.
	send(CmdResync, signed(t, priv, Command{Name: CmdResync, IssuedAt: time.Now(), By: "bob"}))
	select {
	case <-r2.cmds.Calls():
	case <-time.After(wait):
		if len(r2.cmds.Lines()) == 0 {
			t.Fatal("resync not carried out after restart")
		}
	}
}

// waitRefusals waits for a command_refused alarm per refusal, in order.
func waitRefusals(t *testing.T, s *sub, want []struct{ name, reason string }) {
	t.Helper()
	s.waitFor(t, "the refusal alarms", func(ms []msg) bool {
		// A message may arrive twice (resent with the same id after a
		// restart whose PUBACK had not come back): count each id once.
		var got []string
		seen := map[string]bool{}
		for _, m := range ms {
			var a struct{ ID, Kind, Detail string }
			json.Unmarshal(m.payload, &a)
			if a.Kind == AlarmCommandRefused && !seen[a.ID] {
				seen[a.ID] = true
				got = append(got, a.Detail)
			}
		}
		if len(got) < len(want) {
			return false
		}
		for i, w := range want {
			if !strings.HasPrefix(got[i], "cmd/"+w.name+": "+w.reason) {
				t.Fatalf("refusal %d: %q, want cmd/%s: %s", i, got[i], w.name, w.reason)
			}
		}
		return true
	})
}
