package uplink

import (
	"crypto/ed25519"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// A signed replay re-publishes exactly the asked range of delivered events,
// on their topics, as they were and marked replay: true; a range that
// reaches past what is kept replays the rest and says, in a command_failed
// alarm, which seqs it could not; a replay must name its gate.
func TestReplay(t *testing.T) {
	m := startMosquitto(t)
	priv := newKey(t)
	cfg := testConfig(m.url())
	cfg.TrustedKeys = []string{PublicKeyString(priv.Public().(ed25519.PublicKey))}
	r := newRig(t, "", cfg)
	waitConn(t, r.u, "subscribed", func(c ConnState) bool { return c.Subscribed })
	for i := range 6 {
		r.alarm(t, i)
	}
	r.waitDrained(t)
	platform := subscribe(t, m.url(), "platform", nil, "hazgate/ningbo-chem/east-1/events/#")
	office := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(m.url()).SetClientID("office"))
	if tok := office.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer office.Disconnect(0)
	root := r.u.cfg.Root
	send := func(target, args string) {
		t.Helper()
		b := signed(t, priv, Command{Name: CmdReplay, Target: target, Args: json.RawMessage(args), By: "platform", IssuedAt: time.Now()})
		if tok := office.Publish(root+"/cmd/replay", 1, false, b); !tok.WaitTimeout(wait) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}
	type ev struct {
		ID     string `json:"id"`
		Seq    int64  `json:"seq"`
		Kind   string `json:"kind"`
		Detail string `json:"detail"`
		Replay bool   `json:"replay"`
	}
	events := func(ms []msg) (replayed []ev, alarms []ev) {
		for _, x := range ms {
			var e ev
			json.Unmarshal(x.payload, &e)
			if e.Replay {
				replayed = append(replayed, e)
			} else {
				alarms = append(alarms, e)
			}
		}
		return
	}
	send(root, `{"from_seq": 2, "to_seq": 4}`)
	got := platform.waitFor(t, "three replayed events", func(ms []msg) bool { rep, _ := events(ms); return len(rep) >= 3 })
	rep, _ := events(got)
	var seqs []int64
	for _, e := range rep {
		seqs = append(seqs, e.Seq)
		if e.Kind != "tamper" || e.ID == "" {
			t.Errorf("replayed event %+v is not the alarm it was", e)
		}
	}
	if !slices.Equal(seqs, []int64{2, 3, 4}) {
		t.Fatalf("replayed seqs %v, want 2, 3, 4", seqs)
	}

	// Past what was delivered: 5 and 6 are replayed, the rest named.
	send(root, `{"from_seq": 5, "to_seq": 9}`)
	got = platform.waitFor(t, "the rest and a command_failed alarm", func(ms []msg) bool {
		rep, live := events(ms)
		failed := slices.ContainsFunc(live, func(e ev) bool { return e.Kind == AlarmCommandFailed })
		return len(rep) >= 5 && failed
	})
	rep, live := events(got)
	if rep[3].Seq != 5 || rep[4].Seq != 6 || len(rep) != 5 {
		t.Fatalf("replayed %+v, want 2-4 then 5, 6", rep)
	}
	for _, e := range live {
		if e.Kind == AlarmCommandFailed && !strings.Contains(e.Detail, "7-9") {
			t.Fatalf("command_failed %q does not name the seqs not replayed", e.Detail)
		}
	}

	// Without a target it is refused, and nothing is replayed.
	send("", `{"from_seq": 1}`)
	platform.waitFor(t, "the refusal", func(ms []msg) bool {
		_, live := events(ms)
		return slices.ContainsFunc(live, func(e ev) bool {
			return e.Kind == AlarmCommandRefused && strings.Contains(e.Detail, "replay must name its gate")
		})
	})
	if rep, _ := events(platform.all()); len(rep) != 5 {
		t.Fatalf("%d replayed events after a refused replay, want 5", len(rep))
	}
}
