package uplink

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/store"
)

// A chunked snapshot is imported, a delta on top of it applied, each in one
// transaction; a delta from another base asks for a snapshot; the version
// shows in the status.
func TestRegistrySync(t *testing.T) {
	m := startMosquitto(t)
	r := newRig(t, "", testConfig(m.url()))
	platform := subscribe(t, m.url(), "platform", nil, "hazgate/#")
	pub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(m.url()).SetClientID("registry"))
	if tok := pub.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer pub.Disconnect(0)
	waitConn(t, r.u, "subscribed", func(c ConnState) bool { return c.Subscribed })
	send := func(v any) {
		t.Helper()
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if tok := pub.Publish(registryTopicOf("hazgate/ningbo-chem/registry", v), 1, false, b); !tok.WaitTimeout(wait) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}
	registryVersion := func(v int64) func([]msg) bool {
		return func(ms []msg) bool {
			st := on(ms, "/status")
			if len(st) == 0 {
				return false
			}
			var rep StatusReport
			json.Unmarshal(st[len(st)-1].payload, &rep)
			return rep.Registry.Version == v && rep.Registry.AppliedAt != ""
		}
	}

	snap := registry.Snapshot{}
	for i := range 40 {
		snap.Vehicles = append(snap.Vehicles, registry.Vehicle{Plate: fmt.Sprintf("浙B%05d", i), Kind: registry.KindTractor,
			PermitClasses: []string{"2"}, RatedLoadKg: 25000, LicenceValidUntil: registry.Date(2027, 1, 31)})
	}
	data, _ := json.Marshal(snap)
	chunks := ChunkSnapshot(5, data, 500)
	if len(chunks) < 3 {
		t.Fatalf("only %d chunks", len(chunks))
	}
	for i := len(chunks) - 1; i >= 0; i-- { // any order
		send(chunks[i])
	}
	platform.waitFor(t, "registry version 5 in the status", registryVersion(5))

	send(Delta{Schema: SchemaRegistryDelta, Base: 5, Version: 6, SyncedAt: time.Now().Truncate(time.Second),
		Upsert: registry.Snapshot{Blacklist: []registry.BlacklistEntry{{Kind: registry.BlacklistVehicle, Value: "浙B00001", Reason: "test"}}},
		Delete: store.RegistryKeys{Vehicles: []string{"浙B00000"}}})
	platform.waitFor(t, "registry version 6 in the status", registryVersion(6))
	ctx := context.Background()
	ix, err := r.st.Lookup(ctx, checks.Evidence{Plate: "浙B00000", Trailer: "浙B00001"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ix.Vehicle("浙B00000"); ok {
		t.Fatal("deleted vehicle still there")
	}
	if _, ok := ix.Blacklisted(registry.BlacklistVehicle, "浙B00001"); !ok {
		t.Fatal("upserted blacklist entry missing")
	}

	// A delta from a base we do not hold asks for a snapshot.
	send(Delta{Schema: SchemaRegistryDelta, Base: 8, Version: 9})
	got := platform.waitFor(t, "a sync request", func(ms []msg) bool {
		for _, m := range on(ms, "/registry/request") {
			var q SyncRequest
			if json.Unmarshal(m.payload, &q) == nil && q.Reason == "base_mismatch" {
				return true
			}
		}
		return false
	})
	for _, m := range on(got, "/registry/request") {
		var q SyncRequest
		json.Unmarshal(m.payload, &q)
		if q.Reason == "base_mismatch" && (q.Have != 6 || q.Schema != SchemaRegistryRequest || q.Gate != "east-1") {
			t.Fatalf("request %s", m.payload)
		}
	}
	if meta, _ := r.st.RegistryMeta(ctx); meta.Version != 6 {
		t.Fatalf("version %d after a refused delta", meta.Version)
	}
}
