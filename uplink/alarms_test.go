package uplink

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/hazgate/hazgate/clock"
)

// alarmDetails returns the details of the command_refused alarms that
// arrived, each id once, in arrival order.
func alarmDetails(ms []msg) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range ms {
		var a struct{ ID, Kind, Detail string }
		if json.Unmarshal(m.payload, &a) == nil && a.Kind == AlarmCommandRefused && !seen[a.ID] {
			seen[a.ID] = true
			out = append(out, a.Detail)
		}
	}
	return out
}

// Refusal alarms are rate-limited by reason, each with its own budget:
// after ten garbage commands in a minute, more garbage raises no alarm,
// but a forgery with a trusted key (bad_signature) does, every time, and so
// does the first refusal of another reason. The count of what was held back
// is in the store, so that after a restart the next alarm of that reason
// still says how many.
func TestRefusalAlarmsByReason(t *testing.T) {
	m := startMosquitto(t)
	priv := newKey(t)
	dir := t.TempDir()
	cfg := testConfig(m.url())
	cfg.TrustedKeys = []string{PublicKeyString(priv.Public().(ed25519.PublicKey))}
	// A fake clock that never moves: every message arrives in the same
	// minute, however slow the machine.
	clk := clock.NewFake(t0)
	r := newRig(t, dir, cfg, func(d *Deps) { d.Clock = clk })
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
	garbage := []byte(`{"name":"open","args":{"lane":"in-1"}}`) // unsigned
	forgery := func() []byte {
		sig := make([]byte, ed25519.SignatureSize)
		rand.Read(sig)
		b, _ := json.Marshal(Envelope{
			Payload: base64.StdEncoding.EncodeToString([]byte(`{"v":1,"name":"open","target":"` + root + `","args":{"lane":"in-1"}}`)),
			Key:     cfg.TrustedKeys[0], Sig: base64.StdEncoding.EncodeToString(sig)})
		return b
	}
	waitDetails := func(n int) []string {
		t.Helper()
		return alarmDetails(platform.waitFor(t, "the refusal alarms", func(ms []msg) bool { return len(alarmDetails(ms)) >= n }))
	}
	check := func(got []string, from int, want ...string) {
		t.Helper()
		for i, w := range want {
			if !strings.HasPrefix(got[from+i], w) {
				t.Fatalf("alarm %d: %q, want %q...", from+i, got[from+i], w)
			}
		}
	}

	for range 10 {
		send(CmdOpen, garbage)
	}
	got := waitDetails(10)
	for i := range 10 {
		check(got, i, "cmd/open: unsigned: no signed envelope")
	}
	// Five more garbage commands: held back. Then a forgery and a command
	// that is not JSON: each raised at once, in order, after the five.
	for range 5 {
		send(CmdOpen, garbage)
	}
	send(CmdOpen, forgery())
	send(CmdOpen, []byte("open!"))
	got = waitDetails(12)
	check(got, 10, "cmd/open: bad_signature: ", "cmd/open: malformed: ")
	// A forgery is never held back, however many.
	for range 12 {
		send(CmdOpen, forgery())
	}
	got = waitDetails(24)
	for i := 12; i < 24; i++ {
		check(got, i, "cmd/open: bad_signature: ")
	}
	for _, d := range got {
		if strings.Contains(d, "more refused") {
			t.Fatalf("an alarm reported held-back ones before any of its reason went through: %q", d)
		}
	}

	// The five held back are in the store once the uplink stops.
	r.stop()
	st := openStore(t, filepath.Join(dir, "gate.db"))
	held, err := st.SuppressedAlarmsOf(context.Background(), AlarmCommandRefused+"/"+RefuseUnsigned)
	st.Close()
	if err != nil || held.Count != 5 {
		t.Fatalf("held back in the store: %+v, %v; want 5", held, err)
	}

	// After a restart (still the same minute) the next garbage command's
	// alarm says how many were held back, and the count is taken off.
	r2 := newRig(t, dir, cfg, func(d *Deps) { d.Clock = clk })
	waitConn(t, r2.u, "subscribed again", func(c ConnState) bool { return c.Subscribed })
	send(CmdOpen, garbage)
	got = waitDetails(25)
	check(got, 24, "cmd/open: unsigned: no signed envelope; 5 more refused as unsigned without an alarm since the last one (rate limit)")
	// The next one reports none: they were taken off (the inbox handles
	// one message at a time, so its alarm comes after that).
	send(CmdOpen, garbage)
	got = waitDetails(26)
	if got[25] != "cmd/open: unsigned: no signed envelope" {
		t.Fatalf("the alarm after the report: %q", got[25])
	}
	if held, err := r2.st.SuppressedAlarmsOf(context.Background(), AlarmCommandRefused+"/"+RefuseUnsigned); err != nil || held.Count != 0 {
		t.Fatalf("held back after they were reported: %+v, %v", held, err)
	}
}
