package uplink

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/hazgate/hazgate/clock"
)

// While the clock is not trusted a command's times are not judged against
// it; the nonce, the floor and the pruning horizon still are.
func TestVerifyUnsynced(t *testing.T) {
	priv := newKey(t)
	kr, err := parseKeyring("trusted_keys", []string{PublicKeyString(priv.Public().(ed25519.PublicKey))})
	if err != nil {
		t.Fatal(err)
	}
	root := "hazgate/ningbo-chem/east-1"
	cmd := func(issued time.Time) []byte {
		return signed(t, priv, Command{Name: CmdLockdown, Target: root, Args: json.RawMessage(`{"on":true}`), By: "alice", IssuedAt: issued})
	}
	epoch := time.Date(1970, 1, 1, 0, 0, 42, 0, time.UTC)
	for _, tc := range []struct {
		name          string
		data          []byte
		now           time.Time
		floor, pruned time.Time
		reason        string
	}{
		{"issued long after a clock back in 1970", cmd(t0), epoch, time.Time{}, time.Time{}, ""},
		{"expired by a clock far ahead", cmd(t0), t0.Add(48 * time.Hour), time.Time{}, time.Time{}, ""},
		{"expired before the nonces were last pruned", cmd(t0), epoch, time.Time{}, t0.Add(time.Hour), RefuseReplayed},
		{"expiring after the last pruning", cmd(t0), epoch, time.Time{}, t0.Add(time.Minute), ""},
		{"issued before the floor", cmd(t0), epoch, t0.Add(time.Minute), time.Time{}, RefuseReplayed},
		{"still needs a trusted key", signed(t, newKey(t), Command{Name: CmdLockdown, Target: root, Args: json.RawMessage(`{"on":true}`), By: "alice", IssuedAt: t0}), epoch, time.Time{}, time.Time{}, RefuseUntrusted},
		{"still needs its shape (validity at most the TTL)", signed(t, priv, Command{Name: CmdLockdown, Target: root, Args: json.RawMessage(`{"on":true}`), By: "alice", IssuedAt: t0, ExpiresAt: t0.Add(48 * time.Hour)}), epoch, time.Time{}, time.Time{}, RefuseTTL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := kr.verify(tc.data, verifyPolicy{name: CmdLockdown, root: root, now: tc.now, skew: 2 * time.Minute, ttl: time.Hour,
				floor: tc.floor, unsynced: true, pruned: tc.pruned})
			got := ""
			if re, ok := err.(*RefusedError); ok {
				got = re.Reason
			} else if err != nil {
				t.Fatalf("error %v is not a refusal", err)
			}
			if got != tc.reason {
				t.Fatalf("refused %q (%v), want %q", got, err, tc.reason)
			}
		})
	}
	// The same command on a trusted clock far ahead is expired.
	if _, _, err := kr.verify(cmd(t0), verifyPolicy{name: CmdLockdown, root: root, now: t0.Add(48 * time.Hour), skew: 2 * time.Minute, ttl: time.Hour}); err == nil {
		t.Fatal("an expired command was accepted on a synced clock")
	}
}

func TestNonceCacheUnsynced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nonces.json")
	c, _, err := loadNonces(path, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.accept("nonce-aaaaaaaaaaaa", t0.Add(time.Hour), t0, true); err != nil {
		t.Fatal(err)
	}
	if !c.prunedTime().Equal(t0) {
		t.Fatalf("pruned %v after a synced write, want %v", c.prunedTime(), t0)
	}
	// A clock far ahead, not trusted: the expired nonce is still
	// remembered and refused, and nothing is forgotten.
	ahead := t0.Add(30 * 24 * time.Hour)
	if err := c.accept("nonce-aaaaaaaaaaaa", t0.Add(time.Hour), ahead, false); err == nil {
		t.Fatal("a used nonce was accepted again on an untrusted clock ahead of its expiry")
	}
	if err := c.accept("nonce-bbbbbbbbbbbb", t0.Add(2*time.Hour), ahead, false); err != nil {
		t.Fatal(err)
	}
	if len(c.seen) != 2 || !c.prunedTime().Equal(t0) {
		t.Fatalf("untrusted write pruned: seen %v, pruned %v", c.seen, c.prunedTime())
	}
	// The horizon survives a restart.
	c2, _, err := loadNonces(path, time.Date(1970, 1, 1, 0, 1, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if !c2.prunedTime().Equal(t0) || len(c2.seen) != 2 {
		t.Fatalf("after a restart in 1970: pruned %v, seen %v", c2.prunedTime(), c2.seen)
	}
	// Once trusted again, a write forgets what expired.
	if err := c2.accept("nonce-cccccccccccc", t0.Add(4*time.Hour), t0.Add(3*time.Hour), true); err != nil {
		t.Fatal(err)
	}
	if len(c2.seen) != 1 || !c2.prunedTime().Equal(t0.Add(3*time.Hour)) {
		t.Fatalf("synced write: seen %v, pruned %v", c2.seen, c2.prunedTime())
	}
}

// Over MQTT: a command whose window has passed by the gate's (untrusted)
// clock is carried out, audited as judged on its nonce alone; sent again,
// it is refused; the status carries the clock.
func TestCommandsWhileClockUnsynced(t *testing.T) {
	m := startMosquitto(t)
	priv := newKey(t)
	cfg := testConfig(m.url())
	cfg.TrustedKeys = []string{PublicKeyString(priv.Public().(ed25519.PublicKey))}
	var synced atomic.Bool
	r := newRig(t, "", cfg, func(d *Deps) {
		d.ClockState = func() clock.State {
			if synced.Load() {
				return clock.State{Synced: true, Source: clock.SourceKernel, Checked: t0}
			}
			return clock.State{Source: clock.SourceKernel, Reason: clock.ReasonUnsynced, Checked: t0}
		}
	})
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
	rep := r.u.status(context.Background())
	if rep.Clock == nil || rep.Clock.Synced || rep.Clock.Reason != clock.ReasonUnsynced || rep.Clock.Source != clock.SourceKernel || rep.Clock.CheckedAt == "" {
		t.Fatalf("status clock %+v", rep.Clock)
	}
	// Expired by the wall clock: ten minutes old, valid for five.
	old := time.Now().Add(-10 * time.Minute)
	lockdown := signed(t, priv, Command{Name: CmdLockdown, Target: root, Args: json.RawMessage(`{"on":true}`), By: "alice", IssuedAt: old})
	send(CmdLockdown, lockdown)
	select {
	case line := <-r.cmds.Calls():
		if line != "lockdown true by alice" {
			t.Fatalf("commander got %q", line)
		}
	case <-time.After(wait):
		t.Fatal("the command was not carried out while the clock is unsynced")
	}
	entries, err := r.st.AuditFor(context.Background(), root)
	if err != nil || len(entries) != 1 {
		t.Fatalf("audit: %v %+v", err, entries)
	}
	var detail map[string]any
	if err := json.Unmarshal([]byte(entries[0].Detail), &detail); err != nil || detail["clock_synced"] != false {
		t.Fatalf("audit detail %s (%v): want clock_synced false", entries[0].Detail, err)
	}
	send(CmdLockdown, lockdown)
	waitRefusals(t, platform, []struct{ name, reason string }{{CmdLockdown, RefuseReplayed}})
	// Synced again, the same kind of old command is expired.
	synced.Store(true)
	send(CmdLockdown, signed(t, priv, Command{Name: CmdLockdown, Target: root, Args: json.RawMessage(`{"on":true}`), By: "alice", IssuedAt: old}))
	waitRefusals(t, platform, []struct{ name, reason string }{{CmdLockdown, RefuseReplayed}, {CmdLockdown, RefuseExpired}})
	if got := r.cmds.Lines(); len(got) != 1 {
		t.Fatalf("commands carried out: %v, want the first only", got)
	}
	if rep := r.u.status(context.Background()); rep.Clock == nil || !rep.Clock.Synced {
		t.Fatalf("status clock %+v after sync", rep.Clock)
	}
}

func TestStatusKeyIgnoresClockLooks(t *testing.T) {
	a := StatusReport{Clock: &ClockStatus{Synced: true, Source: "kernel", CheckedAt: "2026-03-15T09:00:00Z", Detail: "estimated maximum error 16ms"}}
	b := StatusReport{Clock: &ClockStatus{Synced: true, Source: "kernel", CheckedAt: "2026-03-15T09:00:10Z", Detail: "estimated maximum error 17ms"}}
	c := StatusReport{Clock: &ClockStatus{Synced: false, Source: "kernel", Reason: "kernel_unsynced", CheckedAt: "2026-03-15T09:00:20Z"}}
	if string(statusKey(a)) != string(statusKey(b)) {
		t.Fatal("a new look at the clock republishes the status")
	}
	if string(statusKey(a)) == string(statusKey(c)) {
		t.Fatal("the clock going unsynced does not republish the status")
	}
	if a.Clock.CheckedAt == "" {
		t.Fatal("statusKey changed the report it was given")
	}
}
