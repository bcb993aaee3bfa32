package gate

import (
	"github.com/hazgate/hazgate/config"
	"github.com/hazgate/hazgate/uplink"
)

// uplinkConfig is the uplink's part of the configuration file.
func uplinkConfig(c *config.Config) uplink.Config {
	m := c.MQTT
	return uplink.Config{
		Broker: m.Broker, Brokers: m.Brokers, ClientID: m.ClientID, Root: c.Root(), Park: c.Park, Gate: c.Gate,
		Username: m.Username, Password: m.Password,
		CAFile: m.CAFile, CertFile: m.CertFile, KeyFile: m.KeyFile,
		Keepalive: m.Keepalive.D(), WriteTimeout: m.WriteTimeout.D(), InFlight: m.InFlight,
		TelemetryInterval: m.TelemetryInt.D(), OutboxMax: m.OutboxMax,
		TrustedKeys: m.TrustedKeys, RegistryKeys: m.RegistryKeys, NonceFile: c.Database + ".cmd-nonces.json",
		RegistryTopic: m.RegistryTopic, Location: c.Location(), ReplayKeep: m.ReplayKeep.D(),
	}
}
