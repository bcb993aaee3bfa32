package gate

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/config"
)

// The uplink takes its settings from the configuration file's mqtt
// section, the gate's names and zone, and keeps its nonces beside the
// database.
func TestUplinkConfigFromTheFile(t *testing.T) {
	cfg := testConfig(t)
	cfg.Timezone = "Asia/Shanghai"
	cfg.FaceMatch = config.FaceMatch{URL: "http://127.0.0.1:9/match", Timeout: config.Duration(2 * time.Second)}
	cfg.MQTT = config.MQTT{
		Broker: "ssl://broker.park.example:8883", ClientID: "gate-east-1", Root: "hazgate/test-park/east-1",
		Username: "east-1", Password: "secret", CAFile: "/etc/hazgate/ca.pem", CertFile: "/etc/hazgate/gate.pem", KeyFile: "/etc/hazgate/gate.key",
		OutboxMax: 5000, Keepalive: config.Duration(20 * time.Second), TelemetryInt: config.Duration(30 * time.Second),
		WriteTimeout: config.Duration(3 * time.Second), InFlight: 8, RegistryTopic: "hazgate/test-park/registry",
		TrustedKeys: []string{"ed25519:AAAA"},
	}
	u := uplinkConfig(cfg)
	for _, c := range []struct{ field, got, want string }{
		{"broker", u.Broker, cfg.MQTT.Broker},
		{"client_id", u.ClientID, "gate-east-1"},
		{"root", u.Root, "hazgate/test-park/east-1"},
		{"park", u.Park, "test-park"},
		{"gate", u.Gate, "east-1"},
		{"username", u.Username, "east-1"},
		{"password", u.Password, "secret"},
		{"ca_file", u.CAFile, "/etc/hazgate/ca.pem"},
		{"cert_file", u.CertFile, "/etc/hazgate/gate.pem"},
		{"key_file", u.KeyFile, "/etc/hazgate/gate.key"},
		{"registry_topic", u.RegistryTopic, "hazgate/test-park/registry"},
		{"nonce file", u.NonceFile, cfg.Database + ".cmd-nonces.json"},
		{"location", u.Location.String(), "Asia/Shanghai"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	if u.Keepalive != 20*time.Second || u.TelemetryInterval != 30*time.Second || u.WriteTimeout != 3*time.Second ||
		u.InFlight != 8 || u.OutboxMax != 5000 || len(u.TrustedKeys) != 1 {
		t.Errorf("uplink config %+v", u)
	}
}

// With a broker configured the gate has an uplink; a broker setting the
// uplink cannot use stops the assembly with the uplink's reason.
func TestAssembleWithABroker(t *testing.T) {
	cfg := testConfig(t)
	cfg.MQTT.Broker = "tcp://127.0.0.1:1"
	clk := clock.NewFake(t0)
	g, err := Assemble(context.Background(), cfg, openStore(t, cfg, clk), &testHardware{}, Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if g.Uplink == nil || g.Keeper.OnRecord == nil {
		t.Fatal("no uplink, or records do not wake it")
	}

	bad := testConfig(t)
	bad.MQTT.Broker = "tcp://127.0.0.1:1"
	bad.MQTT.CAFile = "/etc/hazgate/ca.pem" // TLS files on a plain-text broker
	if _, err := Assemble(context.Background(), bad, openStore(t, bad, clk), &testHardware{}, Options{Clock: clk}); err == nil || !strings.Contains(err.Error(), "plain text") {
		t.Fatalf("err = %v", err)
	}
}
