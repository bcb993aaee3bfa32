package uplink

import (
	"crypto/ed25519"
	"encoding/json"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/hazgate/hazgate/store"
)

// What the external tests (package uplink_test) use of this package's test
// helpers: they need package lanes, and lanes imports uplink.

// CommandRig is an uplink on a real Mosquitto taking the office's signed
// commands with a trusted key, commanding the given Commander, and a
// platform subscriber reading its alarms.
type CommandRig struct {
	Store  *store.Store
	Uplink *Uplink
	Root   string

	priv     ed25519.PrivateKey
	office   mqtt.Client
	platform *sub
}

// NewCommandRig starts a broker, an uplink commanding cmds, an office
// client and a platform subscriber.
func NewCommandRig(t *testing.T, cmds Commander) *CommandRig {
	t.Helper()
	m := startMosquitto(t)
	priv := newKey(t)
	cfg := testConfig(m.url())
	cfg.TrustedKeys = []string{PublicKeyString(priv.Public().(ed25519.PublicKey))}
	r := newRig(t, "", cfg, func(d *Deps) { d.Commands = cmds })
	platform := subscribe(t, m.url(), "platform", nil, "hazgate/+/+/events/alarm")
	office := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(m.url()).SetClientID("office"))
	if tok := office.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	t.Cleanup(func() { office.Disconnect(0) })
	waitConn(t, r.u, "subscribed", func(c ConnState) bool { return c.Subscribed })
	return &CommandRig{Store: r.st, Uplink: r.u, Root: r.u.cfg.Root, priv: priv, office: office, platform: platform}
}

// Send signs a command for this gate with the trusted key and publishes it
// on its topic.
func (r *CommandRig) Send(t *testing.T, name, args, by string) {
	t.Helper()
	c := Command{Name: name, Target: r.Root, By: by, IssuedAt: time.Now()}
	if args != "" {
		c.Args = json.RawMessage(args)
	}
	if tok := r.office.Publish(r.Root+"/cmd/"+name, 1, false, signed(t, r.priv, c)); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
}

// Alarm is an alarm event as the platform reads it.
type Alarm struct{ ID, Kind, Detail string }

// WaitAlarms waits until n alarms (each id once) arrived and returns them
// in arrival order.
func (r *CommandRig) WaitAlarms(t *testing.T, n int) []Alarm {
	t.Helper()
	var out []Alarm
	r.platform.waitFor(t, "the alarms", func(ms []msg) bool {
		out = nil
		seen := map[string]bool{}
		for _, m := range ms {
			var a Alarm
			if json.Unmarshal(m.payload, &a) == nil && strings.HasSuffix(m.topic, "/events/alarm") && !seen[a.ID] {
				seen[a.ID] = true
				out = append(out, a)
			}
		}
		return len(out) >= n
	})
	return out
}
