package uplink

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Config is the uplink's settings. Zero fields take the defaults below;
// the gate's assembly (package gate) fills it from the configuration file.
type Config struct {
	// Broker is the broker URL: tcp:// or mqtt:// (plain), ssl://, tls://
	// or mqtts:// (TLS), ws:// or wss://.
	Broker string
	// Brokers are several brokers (the nodes of a cluster) in order: the
	// uplink connects to one and, when it cannot connect or the
	// connection drops, tries the next (failover.go). Broker, when set, is
	// the first. After withDefaults Broker is Brokers[0].
	Brokers []string
	// ClientID is unique per gate (default "hazgate-<park>-<gate>"): a
	// second client with the same id would take the session over.
	ClientID string
	// Root is the gate's topic root (default "hazgate/<park>/<gate>").
	Root string
	// Park and Gate name the gate in payloads and the default topics.
	Park, Gate string
	// Username and Password, when the broker wants them.
	Username, Password string
	// CAFile verifies the broker's certificate (default: the system's
	// roots); CertFile and KeyFile are the gate's client certificate.
	CAFile, CertFile, KeyFile string

	// Keepalive is the MQTT keep-alive (default 30 s).
	Keepalive time.Duration
	// WriteTimeout bounds a blocked write to the socket: the connection is
	// then dropped and made again (default 10 s).
	WriteTimeout time.Duration
	// ConnectTimeout bounds one connection attempt (default 10 s).
	ConnectTimeout time.Duration
	// ConnectRetry is how often a broker that does not answer is tried
	// again (paho's ConnectRetryInterval, jittered by ±20 %; default 5 s).
	ConnectRetry time.Duration
	// MaxBackoff caps the back-off after a connection drops (default 60 s);
	// the first wait is 100 ms, doubling while connections keep dropping.
	MaxBackoff time.Duration
	// InFlight is how many QoS 1 messages may await their PUBACK at once
	// (default 32). Order is kept whatever its size.
	InFlight int
	// AckTimeout drops a connection on which the oldest message has waited
	// this long for its PUBACK (default 30 s).
	AckTimeout time.Duration
	// Batch is how many outbox rows are read at a time (default 256).
	Batch int
	// Poll is how often the outbox is looked at when Kick was not called
	// (default 100 ms).
	Poll time.Duration
	// StopFlush is how long a stopping uplink keeps sending the outbox
	// (what is pending and the PUBACKs of what is in flight) before it
	// says offline and disconnects (default DefaultStopFlush; < 0: only
	// the PUBACKs of what is in flight, at most 2 s). It is well inside
	// the 5 s a stopping `hazgate run` has.
	StopFlush time.Duration
	// QueuedAfter: a message that waited longer than this in the outbox
	// carries "queued_s" (default 2 s).
	QueuedAfter time.Duration

	// TelemetryInterval paces the telemetry messages (default 1 min; < 0
	// turns telemetry off).
	TelemetryInterval time.Duration
	// StatusPoll is how often the status source is read to see whether the
	// status changed (default 2 s); StatusRefresh republishes it even when
	// it did not (default 5 min).
	StatusPoll, StatusRefresh time.Duration
	// OutboxMax is the outbox bound (the store's WithOutboxLimit): at or
	// above it an outbox_full alarm is raised (0: no alarm).
	OutboxMax int

	// TrustedKeys are the Ed25519 public keys whose commands are obeyed,
	// each "ed25519:<base64>" as `hazgate keygen` writes them.
	TrustedKeys []string
	// RegistryKeys are the Ed25519 public keys whose registry data is
	// applied (signedregistry.go). None: registry data is taken unsigned.
	RegistryKeys []string
	// ReplayKeep is how long events are kept after their PUBACK, for a
	// platform's replay (default DefaultReplayKeep).
	ReplayKeep time.Duration
	// NonceFile keeps the nonces of accepted commands across restarts.
	// Required when TrustedKeys is not empty.
	NonceFile string
	// CommandMaxTTL is the longest validity a command may claim (default
	// 1 h); ClockSkew is the tolerance on its times (default 2 min).
	CommandMaxTTL, ClockSkew time.Duration
	// RefusalAlarms caps the command_refused alarms per minute (default
	// 10); the rest are counted into the next one.
	RefusalAlarms int

	// RegistryTopic is where registry snapshots and deltas arrive (default
	// "hazgate/<park>/registry"); the uplink subscribes to exactly
	// RegistryTopic/snapshot and RegistryTopic/delta.
	RegistryTopic string
	// RegistryMaxBytes caps a snapshot being assembled (default 64 MiB).
	RegistryMaxBytes int
	// InboxSize caps the commands and registry messages waiting to be
	// handled (default 1024).
	InboxSize int

	// Location is the zone of the "ts" fields (default UTC).
	Location *time.Location
}

// tlsSchemes are the broker URL schemes that paho opens with TLS.
var tlsSchemes = map[string]bool{"ssl": true, "tls": true, "mqtts": true, "mqtt+ssl": true, "tcps": true, "wss": true}

// withDefaults fills zero fields and checks the rest.
func (c Config) withDefaults() (Config, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("uplink: "+format, args...)) }
	if c.Park == "" || c.Gate == "" {
		bad("park and gate are required")
	}
	c.Brokers = brokerList(c.Broker, c.Brokers)
	if len(c.Brokers) == 0 {
		bad("no broker URL")
	} else {
		c.Broker = c.Brokers[0]
	}
	for _, b := range c.Brokers {
		u, err := url.Parse(b)
		switch {
		case err != nil || u.Host == "":
			bad("broker %q is not a URL such as ssl://broker:8883", b)
		case !tlsSchemes[u.Scheme] && u.Scheme != "tcp" && u.Scheme != "mqtt" && u.Scheme != "ws":
			bad("broker %q: scheme %q is not tcp, mqtt, ssl, tls, mqtts, ws or wss", b, u.Scheme)
		case !tlsSchemes[u.Scheme] && (c.CAFile != "" || c.CertFile != "" || c.KeyFile != ""):
			bad("broker %q is plain text but TLS files are configured: use ssl://; refusing to send in clear", b)
		}
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		bad("cert_file and key_file go together")
	}
	if c.ClientID == "" {
		c.ClientID = "hazgate-" + c.Park + "-" + c.Gate
	}
	if c.Root == "" {
		c.Root = "hazgate/" + c.Park + "/" + c.Gate
	}
	if c.RegistryTopic == "" {
		c.RegistryTopic = "hazgate/" + c.Park + "/registry"
	}
	for _, t := range []struct{ name, v string }{{"root", c.Root}, {"registry topic", c.RegistryTopic}} {
		if strings.ContainsAny(t.v, "+#") || strings.HasSuffix(t.v, "/") || strings.HasPrefix(t.v, "/") {
			bad("%s %q: no wildcards, no leading or trailing /", t.name, t.v)
		}
	}
	if c.Root == c.RegistryTopic || strings.HasPrefix(c.RegistryTopic, c.Root+"/") || strings.HasPrefix(c.Root, c.RegistryTopic+"/") {
		bad("root %q and registry topic %q overlap: a gate could write the registry", c.Root, c.RegistryTopic)
	}
	dur := func(d *time.Duration, def time.Duration) {
		if *d == 0 {
			*d = def
		}
	}
	dur(&c.Keepalive, 30*time.Second)
	dur(&c.WriteTimeout, 10*time.Second)
	dur(&c.ConnectTimeout, 10*time.Second)
	dur(&c.ConnectRetry, 5*time.Second)
	dur(&c.MaxBackoff, time.Minute)
	dur(&c.AckTimeout, 30*time.Second)
	dur(&c.Poll, 100*time.Millisecond)
	dur(&c.QueuedAfter, 2*time.Second)
	dur(&c.StopFlush, DefaultStopFlush)
	dur(&c.TelemetryInterval, time.Minute)
	dur(&c.StatusPoll, 2*time.Second)
	dur(&c.ReplayKeep, DefaultReplayKeep)
	dur(&c.StatusRefresh, 5*time.Minute)
	dur(&c.CommandMaxTTL, DefaultCommandMaxTTL)
	dur(&c.ClockSkew, 2*time.Minute)
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"keepalive", c.Keepalive}, {"write timeout", c.WriteTimeout}, {"connect timeout", c.ConnectTimeout},
		{"connect retry", c.ConnectRetry}, {"max back-off", c.MaxBackoff}, {"ack timeout", c.AckTimeout},
		{"poll", c.Poll}, {"queued_after", c.QueuedAfter}, {"status poll", c.StatusPoll},
		{"status refresh", c.StatusRefresh}, {"command max TTL", c.CommandMaxTTL}, {"clock skew", c.ClockSkew}} {
		if d.v < 0 {
			bad("%s %v is negative", d.name, d.v)
		}
	}
	if c.Keepalive > 0 && c.Keepalive < time.Second {
		bad("keepalive %v: MQTT counts it in whole seconds", c.Keepalive)
	}
	if c.InFlight == 0 {
		c.InFlight = 32
	}
	if c.InFlight < 1 || c.InFlight > 1024 {
		bad("in-flight window %d is not in 1..1024", c.InFlight)
	}
	if c.Batch <= 0 {
		c.Batch = 256
	}
	if c.RegistryMaxBytes <= 0 {
		c.RegistryMaxBytes = 64 << 20
	}
	if c.InboxSize <= 0 {
		c.InboxSize = 1024
	}
	if c.RefusalAlarms <= 0 {
		c.RefusalAlarms = 10
	}
	if len(c.TrustedKeys) > 0 && c.NonceFile == "" {
		bad("trusted keys without a nonce file: replayed commands could not be told")
	}
	if c.Location == nil {
		c.Location = time.UTC
	}
	return c, errors.Join(errs...)
}
