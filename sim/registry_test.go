package sim

import (
	"context"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/hazgate/hazgate/uplink/broker"
)

// With a registry key, the simulated platform's signed sync reaches the
// gate over MQTT and is applied before New returns: the registry's version
// is one up from the scenario's, and the gate trusts that key alone.
func TestSimSignsItsRegistry(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b, err := broker.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	sc, err := Parse(DemoYAML, "demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, key, _ := ed25519.GenerateKey(nil)
	e, err := New(ctx, sc, Options{Broker: b.URL(), ClientID: "sim-registry-test", RegistryKey: key})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	m, err := e.Store().RegistryMeta(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The scenario's registry, unversioned, is imported as version 1 on
	// the new store; the platform's sync makes it 2.
	if want := max(sc.Registry.Version, 1) + 1; m.Version != want {
		t.Fatalf("registry version %d after the signed sync, want %d", m.Version, want)
	}
}
