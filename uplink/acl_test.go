package uplink

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/store"
)

// registryTopicOf is the documented topic of a registry message under the
// registry topic base: snapshot chunks on <base>/snapshot, deltas on
// <base>/delta (docs/uplink.md "Registry sync").
func registryTopicOf(base string, v any) string {
	switch v.(type) {
	case SnapshotChunk, *SnapshotChunk:
		return base + "/" + registrySnapshotTopic
	case Delta, *Delta:
		return base + "/" + registryDeltaTopic
	}
	panic(fmt.Sprintf("registryTopicOf: %T is not a registry message", v))
}

// startParkMosquitto runs Mosquitto with the park broker's own files,
// firmware-config/mosquitto/mosquitto.conf and hazgate.acl, as installed:
// the configuration is copied line by line into the test's directory, and
// only what names a place on the park's server is replaced (the listener's
// port, the certificate files, the persistence directory, the ACL file's
// path, the log destination). Every other line is the file's own; the ACL
// file is used where it lies, unchanged. The users are the test's
// certificates, issued by its own CA (the configuration takes the
// certificate's common name as the user name, so there is no password
// file).
func startParkMosquitto(t testing.TB, p *pki) *mosquitto {
	t.Helper()
	m := newMosquitto(t, "")
	confPath, err := filepath.Abs("../firmware-config/mosquitto/mosquitto.conf")
	if err != nil {
		t.Fatal(err)
	}
	acl, err := filepath.Abs("../firmware-config/mosquitto/hazgate.acl")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(confPath)
	if err != nil {
		t.Fatal(err)
	}
	cf, kf := p.issue("broker", true)
	replace := map[string]string{
		"persistence_location": "persistence_location " + m.dir + "/",
		"log_dest":             "log_dest stderr\nlog_type information",
		"acl_file":             "acl_file " + acl,
		"listener":             fmt.Sprintf("listener %d 127.0.0.1", m.port),
		"cafile":               "cafile " + p.CA,
		"certfile":             "certfile " + cf,
		"keyfile":              "keyfile " + kf,
	}
	// The broker runs as whoever runs the test (as root it would drop to
	// the mosquitto user, who cannot read the test's files).
	name := "root"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	out := []string{"# firmware-config/mosquitto/mosquitto.conf, places replaced by the uplink tests", "user " + name}
	seen := map[string]bool{}
	for _, line := range strings.Split(string(src), "\n") {
		key, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		if r, ok := replace[key]; ok && !strings.HasPrefix(key, "#") {
			if seen[key] {
				t.Fatalf("mosquitto.conf sets %s twice", key)
			}
			seen[key] = true
			out = append(out, r)
			continue
		}
		out = append(out, line)
	}
	for key := range replace {
		if !seen[key] {
			t.Fatalf("mosquitto.conf has no %s line: the test (and the install notes) expect one", key)
		}
	}
	if err := os.WriteFile(m.conf, []byte(strings.Join(out, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	m.start()
	return m
}

// connectAs connects a client with cn's certificate and returns it once
// the broker accepted it.
func connectAs(t testing.TB, m *mosquitto, p *pki, cn, clientID string) mqtt.Client {
	t.Helper()
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(m.tlsURL()).SetClientID(clientID).SetTLSConfig(p.clientTLS(cn)))
	if tok := c.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("%s: connect: %v", cn, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(0) })
	return c
}

func publishOK(t testing.TB, c mqtt.Client, topic string, payload []byte) {
	t.Helper()
	if tok := c.Publish(topic, 1, false, payload); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("publish on %s: %v", topic, tok.Error())
	}
}

// The park broker's own files: nobody but the registry publisher can write
// anywhere under the registry topic: not the safety office (whose
// command wildcard used to reach hazgate/<park>/registry/cmd/...), not a
// gate, not the platform. The registry publisher writes its two topics and
// nothing else. A subscriber that may read everything sees what was
// written and nothing that was not.
func TestParkBrokerRegistryACL(t *testing.T) {
	p := newPKI(t, "park CA")
	m := startParkMosquitto(t, p)
	platform := subscribe(t, m.tlsURL(), "platform", p.clientTLS("platform"), "hazgate/#")
	office := connectAs(t, m, p, "office", "office")
	reg := connectAs(t, m, p, "registry", "registry")
	east := connectAs(t, m, p, "ningbo-chem/east-1", "east-1")
	plat := connectAs(t, m, p, "platform", "platform-pub")

	forged := []string{
		"hazgate/ningbo-chem/registry/cmd/x",
		"hazgate/ningbo-chem/registry/cmd/open",
		"hazgate/ningbo-chem/registry/delta",
		"hazgate/ningbo-chem/registry/snapshot",
		"hazgate/ningbo-chem/registry",
		"hazgate/ningbo-chem/registry/x/cmd/y",
		"hazgate/ningbo-chem/registry/registry/request",
		"hazgate/other-park/registry/cmd/x",
	}
	// Mosquitto drops a denied publish silently (MQTT 3.1.1 has no way to
	// say no), so each writer's forgeries are followed by one message it
	// may write, on the same connection: once that arrives, the forgeries
	// before it would have too.
	for _, w := range []struct {
		who    string
		c      mqtt.Client
		marker string
	}{
		{"office", office, "hazgate/ningbo-chem/east-1/cmd/open"},
		{"gate", east, "hazgate/ningbo-chem/east-1/events/alarm"},
		// Every identity's pattern root is hazgate/<its name>: the
		// platform's is hazgate/platform, outside every park.
		{"platform", plat, "hazgate/platform/marker"},
		{"registry", reg, "hazgate/ningbo-chem/registry/delta"},
	} {
		topics := forged
		if w.who == "registry" {
			// Its own two topics are the markers; everything else under
			// the registry is refused to it too.
			topics = []string{"hazgate/ningbo-chem/registry/cmd/x", "hazgate/ningbo-chem/registry/update",
				"hazgate/ningbo-chem/registry", "hazgate/ningbo-chem/registry/delta/x"}
		}
		for _, topic := range topics {
			publishOK(t, w.c, topic, []byte("forged by "+w.who))
		}
		publishOK(t, w.c, w.marker, []byte("allowed for "+w.who))
	}
	publishOK(t, reg, "hazgate/ningbo-chem/registry/snapshot", []byte("allowed for registry"))
	got := platform.waitFor(t, "every allowed message", func(ms []msg) bool {
		n := 0
		for _, m := range ms {
			if strings.HasPrefix(string(m.payload), "allowed for ") {
				n++
			}
		}
		return n == 5
	})
	for _, g := range got {
		if strings.HasPrefix(string(g.payload), "forged") {
			t.Errorf("%s was written on %s", g.payload, g.topic)
		}
	}
	for _, want := range []string{
		"hazgate/ningbo-chem/east-1/cmd/open", "hazgate/ningbo-chem/east-1/events/alarm", "hazgate/platform/marker",
		"hazgate/ningbo-chem/registry/delta", "hazgate/ningbo-chem/registry/snapshot",
	} {
		if len(on(got, want)) != 1 {
			t.Errorf("the allowed message on %s did not arrive once: %v", want, got)
		}
	}
}

// The gate reads the registry only from the two documented topics, each
// only with its own schema: a delta that would lift a blacklist entry,
// published anywhere else under the registry topic (as the office could,
// on hazgate/<park>/registry/cmd/x) or on the snapshot topic, changes
// nothing; the same publisher's delta on the delta topic is applied.
func TestRegistryOnlyFromDocumentedTopics(t *testing.T) {
	m := startMosquitto(t)
	r := newRig(t, "", testConfig(m.url()))
	platform := subscribe(t, m.url(), "platform", nil, "hazgate/ningbo-chem/east-1/status")
	ctx := context.Background()
	snap := &registry.Snapshot{Version: 1,
		Blacklist: []registry.BlacklistEntry{{Kind: registry.BlacklistVehicle, Value: "浙B00001", Reason: "test"}}}
	if err := r.st.ImportSnapshot(ctx, snap, "test", time.Now()); err != nil {
		t.Fatal(err)
	}
	pub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(m.url()).SetClientID("anyone"))
	if tok := pub.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer pub.Disconnect(0)
	waitConn(t, r.u, "subscribed", func(c ConnState) bool { return c.Subscribed })

	lift, _ := json.Marshal(Delta{Schema: SchemaRegistryDelta, Base: 1, Version: 2,
		Delete: store.RegistryKeys{Blacklist: []registry.BlacklistEntry{{Kind: registry.BlacklistVehicle, Value: "浙B00001"}}}})
	for _, topic := range []string{
		"hazgate/ningbo-chem/registry/cmd/x",
		"hazgate/ningbo-chem/registry/update",
		"hazgate/ningbo-chem/registry/delta/x",
		"hazgate/ningbo-chem/registry",
		"hazgate/ningbo-chem/registry/snapshot", // the wrong schema for the topic
	} {
		publishOK(t, pub, topic, lift)
	}
	// The inbox too drops what is not on a registry topic, whatever the
	// broker delivers (a message of the wrong schema for its topic is
	// refused by the handler, with a registry_refused alarm: the delta on
	// the snapshot topic above).
	for _, m := range []inboxMsg{
		{kind: inboxRegistry, topic: "hazgate/ningbo-chem/registry/cmd/x", payload: lift},
		{kind: inboxRegistry, topic: "hazgate/ningbo-chem/registry/delta/x", payload: lift},
	} {
		if r.u.registryMessageAdmitted(m) {
			t.Errorf("a delta on %s was admitted", m.topic)
		}
	}
	if !r.u.registryMessageAdmitted(inboxMsg{kind: inboxRegistry, topic: "hazgate/ningbo-chem/registry/delta", payload: lift}) {
		t.Error("a delta on the delta topic was not admitted")
	}

	// Then a delta on the documented topic, from the same connection (so
	// after the others): it adds a vehicle and keeps the blacklist.
	add, _ := json.Marshal(Delta{Schema: SchemaRegistryDelta, Base: 1, Version: 2,
		Upsert: registry.Snapshot{Vehicles: []registry.Vehicle{{Plate: "浙B00002", Kind: registry.KindTractor,
			PermitClasses: []string{"2"}, RatedLoadKg: 25000, LicenceValidUntil: registry.Date(2027, 1, 31)}}}})
	publishOK(t, pub, "hazgate/ningbo-chem/registry/delta", add)
	platform.waitFor(t, "registry version 2 in the status", func(ms []msg) bool {
		st := on(ms, "/status")
		if len(st) == 0 {
			return false
		}
		var rep StatusReport
		json.Unmarshal(st[len(st)-1].payload, &rep)
		return rep.Registry.Version == 2
	})
	ix, err := r.st.Lookup(ctx, checks.Evidence{Plate: "浙B00002", Trailer: "浙B00001"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ix.Blacklisted(registry.BlacklistVehicle, "浙B00001"); !ok {
		t.Fatal("the blacklist entry was lifted by a delta on an undocumented topic")
	}
	if _, ok := ix.Vehicle("浙B00002"); !ok {
		t.Fatal("the delta on the delta topic was not applied")
	}
}

// A gate reads its siblings' passages and presence views on the park
// broker, and not their other events.
func TestParkBrokerSiblingsACL(t *testing.T) {
	p := newPKI(t, "park CA")
	m := startParkMosquitto(t, p)
	west := subscribe(t, m.tlsURL(), "west-1", p.clientTLS("ningbo-chem/west-1"),
		"hazgate/ningbo-chem/+/events/passage", "hazgate/ningbo-chem/+/presence", "hazgate/ningbo-chem/+/events/alarm")
	east := connectAs(t, m, p, "ningbo-chem/east-1", "east-1")
	publishOK(t, east, "hazgate/ningbo-chem/east-1/events/alarm", []byte("not for siblings"))
	publishOK(t, east, "hazgate/ningbo-chem/east-1/events/passage", []byte("passage"))
	publishOK(t, east, "hazgate/ningbo-chem/east-1/presence", []byte("presence"))
	got := west.waitFor(t, "east-1's passage and presence at west-1", func(ms []msg) bool {
		return len(on(ms, "/east-1/events/passage")) == 1 && len(on(ms, "/east-1/presence")) == 1
	})
	if a := on(got, "/east-1/events/alarm"); len(a) > 0 {
		t.Fatalf("a gate read a sibling's alarm: %v", a)
	}
}
