// Package config is hazgate's configuration: one YAML file, parsed strictly
// (unknown keys are errors) and validated so that every mistake names its
// field and line.
//
// It imports only checks and strictyaml of ours. Only appliance, sim and
// cmd/hazgate may import it: the packages below them take settings of their
// own.
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/prompt"
	"github.com/hazgate/hazgate/strictyaml"
)

// Duration is a Go duration written as "500ms" or "2m".
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return strictyaml.ValueError(n, "want a duration such as 500ms or 2m")
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return strictyaml.ValueError(n, "%q is not a duration such as 500ms or 2m", n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Config is the whole appliance configuration.
type Config struct {
	Park     string `yaml:"park"`
	Gate     string `yaml:"gate"`
	Timezone string `yaml:"timezone"`
	// Board names the controller's board profile (firmware-config/boards):
	// with it, a pin the board does not have is refused. Left out: any
	// pin name is taken, and the GPIO driver says at start which it cannot
	// find.
	Board          string    `yaml:"board,omitempty"`
	Database       string    `yaml:"database"`
	RegistryMaxAge Duration  `yaml:"registry_max_age"`
	Retention      Retention `yaml:"retention"` // config/retention.go
	Disk           Disk      `yaml:"disk"`
	// Presence: who is inside the park (every gate of the park hears the
	// others' passages).
	Presence Presence `yaml:"presence"`
	Deadline Duration `yaml:"deadline"`
	// FaultWindow is how long a device must fail to answer before it is
	// in fault: a missed poll under load is not a fault.
	FaultWindow Duration  `yaml:"fault_window"`
	Checks      Checks    `yaml:"checks"`
	FaceMatch   FaceMatch `yaml:"face_match"`
	Waybill     Waybill   `yaml:"waybill"`
	Lanes       []Lane    `yaml:"lanes"`
	MQTT        MQTT      `yaml:"mqtt"`
	Kiosk       Kiosk     `yaml:"kiosk"`
	Log         Log       `yaml:"log"`
	Clock       Clock     `yaml:"clock"`
	// Prompts are the words the lanes' displays show and voice boards
	// say, over the built-in ones (config/voice.go, package prompt).
	Prompts prompt.Words `yaml:"prompts,omitempty"`
	Update  Update       `yaml:"update"`
	// Preclearance: the appointments judged before arrival
	// (config/preclearance.go).
	Preclearance Preclearance `yaml:"preclearance"`
}

// Checks are the judging settings.
type Checks struct {
	FaceThreshold float64 `yaml:"face_threshold"`
	// OpenHours is "HH:MM-HH:MM" in the park's zone; empty means always open.
	OpenHours string `yaml:"open_hours"`
	// RequirePlacard: a tanker the plate camera saw no danger mark on is
	// unknown (placard_not_seen).
	RequirePlacard bool `yaml:"require_placard,omitempty"`
	// WeightTolerance is how far the cargo a weighbridge weighed may be
	// from the waybill's total, as a fraction of it (default 0.05).
	WeightTolerance float64 `yaml:"weight_tolerance"`
	// Appointments is off, optional or required (config/waybill.go).
	Appointments string `yaml:"appointments"`
}

// FaceMatch is the park's face-match service.
type FaceMatch struct {
	URL     string   `yaml:"url"`
	Timeout Duration `yaml:"timeout"`
}

// Lane is one lane with its devices.
type Lane struct {
	Name               string         `yaml:"name"`
	Direction          lane.Direction `yaml:"direction"` // in or out
	Deadline           Duration       `yaml:"deadline"`
	IDCard             Serial         `yaml:"idcard"`
	EscortIDCard       *Serial        `yaml:"escort_idcard"`
	Scanner            Serial         `yaml:"scanner"`
	Camera             Camera         `yaml:"camera"`
	PlateToken         string         `yaml:"plate_token,omitempty"`  // left out when empty, so that it reads back as not written
	PlateCamera        *PlateCamera   `yaml:"plate_camera,omitempty"` // config/plate.go
	PlateMinConfidence float64        `yaml:"plate_min_confidence"`
	ArrivalLoop        Loop           `yaml:"arrival_loop"`
	SafetyLoop         Loop           `yaml:"safety_loop"`
	Barrier            Barrier        `yaml:"barrier"`
	// Voice and Display face the driver (config/voice.go); nil: none.
	Voice   *Voice   `yaml:"voice,omitempty"`
	Display *Display `yaml:"display,omitempty"`
	// Scale is the lane's weighbridge indicator (config/scale.go); nil:
	// the lane weighs nothing.
	Scale *Scale `yaml:"scale,omitempty"`
}

// Presence is what the gate does with who is inside the park.
type Presence struct {
	// MaxStay: a vehicle inside longer raises overstay at the gate it
	// came in through (default 6h).
	MaxStay Duration `yaml:"max_stay"`
}

// Serial is a serial device.
type Serial struct {
	Port    string   `yaml:"port"`
	Baud    int      `yaml:"baud"`
	Timeout Duration `yaml:"timeout"`
}

// Camera is an IP camera's snapshot endpoint.
type Camera struct {
	SnapshotURL string   `yaml:"snapshot_url"`
	Username    string   `yaml:"username"`
	Password    string   `yaml:"password"`
	Auth        string   `yaml:"auth"` // none, basic or digest
	Timeout     Duration `yaml:"timeout"`
}

// Loop is a loop detector input.
type Loop struct {
	Pin       string   `yaml:"pin"` // a name (GPIO17) or chip/line (gpiochip0/17)
	ActiveLow bool     `yaml:"active_low"`
	Debounce  Duration `yaml:"debounce"`
	// Pull is the line's bias: up, down, or none; empty leaves it as the
	// board sets it.
	Pull string `yaml:"pull"`
}

// Barrier is the barrier's relays and optional limit switches.
type Barrier struct {
	Mode            string   `yaml:"mode"` // pulse or level
	OpenPin         string   `yaml:"open_pin"`
	ClosePin        string   `yaml:"close_pin"`
	Pulse           Duration `yaml:"pulse"`
	OpenLimitPin    string   `yaml:"open_limit_pin"`
	ClosedLimitPin  string   `yaml:"closed_limit_pin"`
	FeedbackTimeout Duration `yaml:"feedback_timeout"`
	// RelayActiveLow: the relay board energises a relay on a low output.
	RelayActiveLow bool `yaml:"relay_active_low"`
	// LimitActiveLow: a limit switch pulls its line low when reached;
	// LimitPull is the limit lines' bias (up, down, none; empty: as is).
	LimitActiveLow bool   `yaml:"limit_active_low"`
	LimitPull      string `yaml:"limit_pull"`
}

// MQTT is the uplink to the city risk platform.
type MQTT struct {
	Broker string `yaml:"broker"`
	// Brokers are the nodes of a broker cluster, tried in order: on a
	// failed connection or a lost one the uplink goes to the next (broker,
	// when set, is the first).
	Brokers     []string `yaml:"brokers"`
	ClientID    string   `yaml:"client_id"`
	Root        string   `yaml:"root"`
	Username    string   `yaml:"username"`
	Password    string   `yaml:"password"`
	CAFile      string   `yaml:"ca_file"`
	CertFile    string   `yaml:"cert_file"`
	KeyFile     string   `yaml:"key_file"`
	OutboxMax   int      `yaml:"outbox_max"`
	Keepalive   Duration `yaml:"keepalive"`
	TrustedKeys []string `yaml:"trusted_keys"`
	// RegistryKeys are the public keys whose signed registry data is
	// applied; none: registry data from MQTT is taken unsigned.
	RegistryKeys []string `yaml:"registry_keys"`
	TelemetryInt Duration `yaml:"telemetry_interval"`
	// WriteTimeout bounds a blocked socket write; the connection is then
	// made again.
	WriteTimeout Duration `yaml:"write_timeout"`
	// InFlight is how many QoS 1 messages may await their PUBACK at once.
	InFlight int `yaml:"inflight"`
	// RegistryTopic is where registry snapshots and deltas arrive
	// (default hazgate/<park>/registry).
	RegistryTopic string `yaml:"registry_topic"`
	// ReplayKeep is how long events are kept after delivery for the
	// platform's cmd/replay (default 7 days).
	ReplayKeep Duration `yaml:"replay_keep"`
}

// Kiosk is the operator UI's HTTP server.
type Kiosk struct {
	Listen  string `yaml:"listen"`
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
}

// Log is the logging setup.
type Log struct {
	Level string `yaml:"level"` // debug, info, warn, error
}

// Default returns the defaults every file starts from.
func Default() Config {
	return Config{
		Park:           "park",
		Gate:           "gate",
		Timezone:       "Asia/Shanghai",
		Database:       "/var/lib/hazgate/hazgate.db",
		RegistryMaxAge: Duration(24 * time.Hour),
		FaultWindow:    Duration(3 * time.Second),
		Retention:      Retention{Records: Age{Months: 24}, Faces: Age{D: 7 * 24 * time.Hour}},
		Disk:           Disk{MinFree: 200 << 20},
		Presence:       Presence{MaxStay: Duration(6 * time.Hour)},
		Deadline:       Duration(120 * time.Second),
		Checks:         Checks{FaceThreshold: 0.80, WeightTolerance: checks.DefaultWeightTolerance},
		FaceMatch:      FaceMatch{Timeout: Duration(3 * time.Second)},
		Waybill:        DefaultWaybill(),
		Preclearance:   DefaultPreclearance(),
		MQTT:           MQTT{OutboxMax: 100000, Keepalive: Duration(30 * time.Second), TelemetryInt: Duration(time.Minute), ReplayKeep: Duration(7 * 24 * time.Hour), WriteTimeout: Duration(10 * time.Second), InFlight: 32},
		Kiosk:          Kiosk{Listen: ":8080"},
		Log:            Log{Level: "info"},
		Clock:          DefaultClock(),
	}
}

// Load reads and validates the file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(data, path)
}

// Parse decodes data (named file in errors) over the defaults and validates
// it. The error lists every mistake, each with its file, line and field.
func Parse(data []byte, file string) (*Config, error) {
	doc, err := strictyaml.Parse(data, file)
	if err != nil {
		return nil, err
	}
	c := Default()
	if err := doc.Decode(&c); err != nil {
		return nil, err
	}
	if errs := c.Validate(doc); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for i := range c.Lanes {
		c.Lanes[i].canonical()
		c.Lanes[i].applyDefaults(c)
		c.Lanes[i].voiceDefaults()
	}
	return &c, nil
}

// canonical writes the lane's pins and ports the one way (CanonicalPin; a
// port's path cleaned), once Validate has accepted them.
func (l *Lane) canonical() {
	for _, p := range []*string{&l.ArrivalLoop.Pin, &l.SafetyLoop.Pin, &l.Barrier.OpenPin, &l.Barrier.ClosePin, &l.Barrier.OpenLimitPin, &l.Barrier.ClosedLimitPin} {
		if name, _, err := CanonicalPin(*p); err == nil && *p != "" {
			*p = name
		}
	}
	for _, sc := range []*Serial{&l.IDCard, &l.Scanner, l.EscortIDCard, l.Scale.serial()} {
		if sc != nil && strings.TrimSpace(sc.Port) != "" {
			sc.Port = filepath.Clean(strings.TrimSpace(sc.Port))
		}
	}
}

func (l *Lane) applyDefaults(c Config) {
	if l.Deadline == 0 {
		l.Deadline = c.Deadline
	}
	if l.IDCard.Baud == 0 {
		l.IDCard.Baud = 115200
	}
	if l.EscortIDCard != nil && l.EscortIDCard.Baud == 0 {
		l.EscortIDCard.Baud = 115200
	}
	if l.Scanner.Baud == 0 {
		l.Scanner.Baud = 9600
	}
	if l.ArrivalLoop.Debounce == 0 {
		l.ArrivalLoop.Debounce = Duration(200 * time.Millisecond)
	}
	if l.SafetyLoop.Debounce == 0 {
		l.SafetyLoop.Debounce = Duration(200 * time.Millisecond)
	}
	if l.Barrier.Mode == "" {
		l.Barrier.Mode = "pulse"
	}
	if l.Barrier.Pulse == 0 {
		l.Barrier.Pulse = Duration(500 * time.Millisecond)
	}
	if l.Barrier.FeedbackTimeout == 0 {
		l.Barrier.FeedbackTimeout = Duration(10 * time.Second)
	}
	l.Scale.applyDefaults()
}

// Location returns the park's time zone.
func (c *Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}

// Params returns the checks' settings.
func (c *Config) Params() checks.Params {
	p := checks.Params{Location: c.Location(), FaceThreshold: c.Checks.FaceThreshold, RegistryMaxAge: c.RegistryMaxAge.D(), RequirePlacard: c.Checks.RequirePlacard, WeightTolerance: c.Checks.WeightTolerance, Appointments: c.Checks.Appointments}
	if h, err := ParseHours(c.Checks.OpenHours); err == nil && h != nil {
		p.OpenHours = h
	}
	return p
}

// Root is the MQTT topic root: mqtt.root, or hazgate/<park>/<gate>.
func (c *Config) Root() string {
	if c.MQTT.Root != "" {
		return c.MQTT.Root
	}
	return "hazgate/" + c.Park + "/" + c.Gate
}

var hoursRe = regexp.MustCompile(`^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]|24):([0-5]\d)$`)

// ParseHours reads "06:00-22:00"; empty gives nil (always open).
func ParseHours(s string) (*checks.Hours, error) {
	if s == "" {
		return nil, nil
	}
	m := hoursRe.FindStringSubmatch(strings.ReplaceAll(s, " ", ""))
	if m == nil {
		return nil, fmt.Errorf("%q is not HH:MM-HH:MM", s)
	}
	atoi := func(a, b string) int { return int(a[0]-'0')*600 + int(a[1]-'0')*60 + int(b[0]-'0')*10 + int(b[1]-'0') }
	h := &checks.Hours{From: atoi(m[1], m[2]), Until: atoi(m[3], m[4])}
	if h.Until > 24*60 {
		return nil, fmt.Errorf("%q: the day ends at 24:00", s)
	}
	if h.From == h.Until {
		return nil, fmt.Errorf("%q is an empty window", s)
	}
	return h, nil
}

var nameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// Validate returns every mistake in c, each naming its field and line.
func (c *Config) Validate(doc *strictyaml.Doc) []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, doc.Errorf(field, format, args...))
	}
	if _, ok := boards[c.Board]; c.Board != "" && !ok {
		names := slices.Sorted(maps.Keys(boards))
		bad("board", "%q is not a board profile hazgate knows (%s)", c.Board, strings.Join(names, ", "))
	}
	if !nameRe.MatchString(c.Park) {
		bad("park", "%q: use 1-32 lower-case letters, digits, - or _ (it is part of MQTT topics)", c.Park)
	}
	if !nameRe.MatchString(c.Gate) {
		bad("gate", "%q: use 1-32 lower-case letters, digits, - or _ (it is part of MQTT topics)", c.Gate)
	} else if c.Gate == "registry" {
		bad("gate", "%q is reserved: hazgate/<park>/registry is the registry's topic", c.Gate)
	}
	// An empty zone would be UTC, and "Local" whatever the controller is
	// set to (often UTC): date-only documents would then stay valid eight
	// hours too long in China. Leave the key out for Asia/Shanghai.
	switch tz := strings.TrimSpace(c.Timezone); {
	case tz == "":
		bad("timezone", "empty: name the park's zone, such as Asia/Shanghai (or leave the key out for Asia/Shanghai)")
	case tz == "Local":
		bad("timezone", "Local is whatever the controller's clock is set to: name the park's zone, such as Asia/Shanghai")
	default:
		if _, err := time.LoadLocation(c.Timezone); err != nil {
			bad("timezone", "%q is not a time zone such as Asia/Shanghai", c.Timezone)
		}
	}
	if msg := checkDatabase(c.Database); msg != "" {
		bad("database", "%s", msg)
	}
	positive := func(field string, d Duration) {
		if d <= 0 {
			bad(field, "%v: must be more than 0", d.D())
		}
	}
	// Lane durations left at 0 take their defaults; below 0 they mean
	// nothing.
	notNegative := func(field string, d Duration) {
		if d < 0 {
			bad(field, "%v is negative (leave it out or 0 for the default)", d.D())
		}
	}
	c.Clock.validate(bad, c.Location())
	positive("registry_max_age", c.RegistryMaxAge)
	positive("fault_window", c.FaultWindow)
	c.validateRetention(bad)
	positive("presence.max_stay", c.Presence.MaxStay)
	positive("deadline", c.Deadline)
	positive("face_match.timeout", c.FaceMatch.Timeout)
	// Ranges are written so that NaN, which strictyaml.Parse already
	// refuses, could not pass them either: every comparison with it is
	// false.
	if t := c.Checks.FaceThreshold; !(t > 0 && t <= 1) {
		bad("checks.face_threshold", "%v is not in (0, 1]", t)
	}
	if _, err := ParseHours(c.Checks.OpenHours); err != nil {
		bad("checks.open_hours", "%v", err)
	}
	if t := c.Checks.WeightTolerance; !(t >= 0 && t < 1) {
		bad("checks.weight_tolerance", "%v is not in [0, 1): a fraction of the waybill's total, such as 0.05", t)
	}
	if c.FaceMatch.URL != "" {
		checkURL(bad, "face_match.url", c.FaceMatch.URL, "http", "https")
	}
	c.validateWaybill(bad)
	c.validatePreclearance(bad)
	if len(c.Lanes) == 0 {
		bad("lanes", "at least one lane")
	}
	if len(c.Lanes) > 8 {
		bad("lanes", "%d lanes: one appliance serves at most 8", len(c.Lanes))
	}
	names := map[string]int{}
	pins := map[string]string{}   // pin key -> the field that uses it
	ports := map[string]string{}  // port key -> the field that uses it
	tokens := map[string]string{} // plate token -> the field that uses it
	for i, l := range c.Lanes {
		f := fmt.Sprintf("lanes[%d]", i)
		if !nameRe.MatchString(l.Name) {
			bad(f+".name", "%q: use 1-32 lower-case letters, digits, - or _", l.Name)
		} else if j, dup := names[l.Name]; dup {
			bad(f+".name", "%q is already lanes[%d]", l.Name, j)
		}
		names[l.Name] = i
		if l.Direction != lane.DirectionIn && l.Direction != lane.DirectionOut {
			bad(f+".direction", "%q is not in or out", l.Direction)
		}
		notNegative(f+".deadline", l.Deadline)
		for _, d := range []struct {
			field string
			d     Duration
		}{
			{f + ".idcard.timeout", l.IDCard.Timeout}, {f + ".scanner.timeout", l.Scanner.Timeout},
			{f + ".camera.timeout", l.Camera.Timeout},
			{f + ".arrival_loop.debounce", l.ArrivalLoop.Debounce}, {f + ".safety_loop.debounce", l.SafetyLoop.Debounce},
			{f + ".barrier.pulse", l.Barrier.Pulse}, {f + ".barrier.feedback_timeout", l.Barrier.FeedbackTimeout},
		} {
			notNegative(d.field, d.d)
		}
		if l.EscortIDCard != nil {
			notNegative(f+".escort_idcard.timeout", l.EscortIDCard.Timeout)
		}
		if l.Direction == lane.DirectionIn && l.IDCard.Port == "" {
			bad(f+".idcard.port", "missing: an entry lane needs an ID-card reader")
		}
		if l.Direction == lane.DirectionIn && l.Scanner.Port == "" {
			bad(f+".scanner.port", "missing: an entry lane needs a waybill scanner")
		}
		if l.EscortIDCard != nil && l.EscortIDCard.Port == "" {
			bad(f+".escort_idcard.port", "missing: the escort's reader needs its port (or leave escort_idcard out)")
		}
		for _, s := range []struct {
			field string
			sc    *Serial
		}{{f + ".idcard.baud", &l.IDCard}, {f + ".scanner.baud", &l.Scanner}, {f + ".escort_idcard.baud", l.EscortIDCard}} {
			if s.sc != nil && s.sc.Baud != 0 && !validBaud(s.sc.Baud) {
				bad(s.field, "%d is not a standard baud rate", s.sc.Baud)
			}
		}
		if l.Camera.SnapshotURL != "" {
			checkURL(bad, f+".camera.snapshot_url", l.Camera.SnapshotURL, "http", "https")
		}
		l.Scale.validate(bad, f+".scale", l.Direction)
		switch l.Camera.Auth {
		case "", "none", "basic", "digest":
		default:
			bad(f+".camera.auth", "%q is not none, basic or digest", l.Camera.Auth)
		}
		if c := l.PlateMinConfidence; !(c >= 0 && c <= 1) {
			bad(f+".plate_min_confidence", "%v is not in [0, 1]", c)
		}
		switch tok := l.PlateToken; {
		case doc.Has(f+".plate_token") && strings.TrimSpace(tok) == "":
			bad(f+".plate_token", "empty: give the lane's plate camera its own token, or leave the key out (then the lane takes no pushes)")
		case tok == "":
		case strings.TrimSpace(tok) != tok:
			bad(f+".plate_token", "has spaces at its ends: a camera cannot send them")
		default:
			if other, dup := tokens[tok]; dup {
				bad(f+".plate_token", "the same token as %s: each lane's camera needs its own, or one camera can push plates to the other lane", other)
			} else {
				tokens[tok] = f + ".plate_token"
			}
		}
		validatePlateCamera(bad, f, l, tokens)
		for _, s := range []struct {
			field string
			sc    *Serial
		}{{f + ".idcard.port", &l.IDCard}, {f + ".scanner.port", &l.Scanner}, {f + ".escort_idcard.port", l.EscortIDCard}, {f + ".scale.port", l.Scale.serial()}} {
			if s.sc == nil || strings.TrimSpace(s.sc.Port) == "" {
				continue
			}
			key := portKey(s.sc.Port)
			if other, dup := ports[key]; dup {
				bad(s.field, "%q is already %s: one serial port serves one device", s.sc.Port, other)
				continue
			}
			ports[key] = s.field
		}
		if l.ArrivalLoop.Pin == "" {
			bad(f+".arrival_loop.pin", "missing")
		}
		if l.SafetyLoop.Pin == "" {
			bad(f+".safety_loop.pin", "missing: the barrier may never close on a vehicle")
		}
		switch l.Barrier.Mode {
		case "", "pulse":
			if l.Barrier.ClosePin == "" {
				bad(f+".barrier.close_pin", "missing: pulse mode needs an open and a close relay")
			}
		case "level":
		default:
			bad(f+".barrier.mode", "%q is not pulse or level", l.Barrier.Mode)
		}
		if l.Barrier.OpenPin == "" {
			bad(f+".barrier.open_pin", "missing")
		}
		for _, p := range []struct{ field, pull string }{{f + ".arrival_loop.pull", l.ArrivalLoop.Pull}, {f + ".safety_loop.pull", l.SafetyLoop.Pull}, {f + ".barrier.limit_pull", l.Barrier.LimitPull}} {
			switch p.pull {
			case "", "up", "down", "none":
			default:
				bad(p.field, "%q is not up, down or none", p.pull)
			}
		}
		for _, p := range []struct{ field, pin string }{
			{f + ".arrival_loop.pin", l.ArrivalLoop.Pin}, {f + ".safety_loop.pin", l.SafetyLoop.Pin},
			{f + ".barrier.open_pin", l.Barrier.OpenPin}, {f + ".barrier.close_pin", l.Barrier.ClosePin},
			{f + ".barrier.open_limit_pin", l.Barrier.OpenLimitPin}, {f + ".barrier.closed_limit_pin", l.Barrier.ClosedLimitPin},
		} {
			if p.pin == "" {
				continue
			}
			name, key, err := CanonicalPin(p.pin)
			if err != nil {
				bad(p.field, "%v", err)
				continue
			}
			if b, ok := boards[c.Board]; ok && !b.has(name) {
				bad(p.field, "%q is not a pin of the %s board (%s)", p.pin, c.Board, b.pins)
				continue
			}
			if other, dup := pins[key]; dup {
				bad(p.field, "pin %q is already %s", p.pin, other)
				continue
			}
			pins[key] = p.field
		}
	}
	c.validateDriverFacing(bad, ports)
	for i, b := range c.MQTT.Brokers {
		checkURL(bad, fmt.Sprintf("mqtt.brokers[%d]", i), b, "tcp", "mqtt", "ssl", "tls", "mqtts", "ws", "wss")
	}
	if c.MQTT.Broker == "" && len(c.MQTT.Brokers) > 0 {
		c.MQTT.Broker = c.MQTT.Brokers[0] // the first of the list: the uplink is on
	}
	if c.MQTT.Broker != "" {
		checkURL(bad, "mqtt.broker", c.MQTT.Broker, "tcp", "mqtt", "ssl", "tls", "mqtts", "ws", "wss")
	}
	for _, pair := range []struct{ cert, key, certPath, keyPath string }{
		{"mqtt.cert_file", "mqtt.key_file", c.MQTT.CertFile, c.MQTT.KeyFile},
		{"kiosk.tls_cert", "kiosk.tls_key", c.Kiosk.TLSCert, c.Kiosk.TLSKey},
	} {
		switch {
		case pair.certPath != "" && pair.keyPath == "":
			bad(pair.key, "missing: %s needs its private key", pair.cert)
		case pair.certPath == "" && pair.keyPath != "":
			bad(pair.cert, "missing: %s needs its certificate", pair.key)
		}
	}
	for _, fld := range []struct{ name, path string }{{"mqtt.ca_file", c.MQTT.CAFile}, {"mqtt.cert_file", c.MQTT.CertFile}, {"mqtt.key_file", c.MQTT.KeyFile}, {"kiosk.tls_cert", c.Kiosk.TLSCert}, {"kiosk.tls_key", c.Kiosk.TLSKey}} {
		if fld.path == "" {
			continue
		}
		if fi, err := os.Stat(fld.path); err != nil {
			bad(fld.name, "%s: %s", fld.path, statError(err))
		} else if fi.IsDir() {
			bad(fld.name, "%s is a directory, not a file", fld.path)
		}
	}
	if msg := checkListen(c.Kiosk.Listen); msg != "" {
		bad("kiosk.listen", "%s", msg)
	}
	if c.MQTT.OutboxMax < 1000 {
		bad("mqtt.outbox_max", "%d: keep at least 1000 messages", c.MQTT.OutboxMax)
	}
	if k := c.MQTT.Keepalive; k < Duration(time.Second) || k > Duration(65535*time.Second) {
		bad("mqtt.keepalive", "%v is not in 1s..18h12m15s (MQTT counts whole seconds, at most 65535)", k.D())
	}
	positive("mqtt.write_timeout", c.MQTT.WriteTimeout)
	positive("mqtt.telemetry_interval", c.MQTT.TelemetryInt)
	positive("mqtt.replay_keep", c.MQTT.ReplayKeep)
	if n := c.MQTT.InFlight; n < 1 || n > 1024 {
		bad("mqtt.inflight", "%d is not in 1..1024", n)
	}
	c.validateTopics(bad)
	for _, keys := range []struct {
		field string
		list  []string
	}{{"mqtt.trusted_keys", c.MQTT.TrustedKeys}, {"mqtt.registry_keys", c.MQTT.RegistryKeys}} {
		for i, k := range keys.list {
			if !validEd25519Key(k) {
				bad(fmt.Sprintf("%s[%d]", keys.field, i), "%q is not ed25519:<base64 of 32 bytes> as hazgate keygen writes it", k)
			}
		}
	}
	c.validateUpdate(bad)
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q is not debug, info, warn or error", c.Log.Level)
	}
	return errs
}

// validateTopics refuses a topic root or registry topic that is not a fixed
// topic, and the two overlapping: the gate subscribes to <registry>/# and
// <root>/cmd/#, and publishes under <root>, so a root inside the registry's
// topics (or the registry's inside the root) would have the gate read its
// own messages as registry data or commands.
func (c *Config) validateTopics(bad func(string, string, ...any)) {
	root := strings.Split(c.Root(), "/")
	if c.MQTT.Root != "" {
		l, err := topicLevels(c.MQTT.Root)
		if err != nil {
			bad("mqtt.root", "%v", err)
		}
		root = l
	}
	var reg []string
	if c.MQTT.RegistryTopic != "" {
		l, err := topicLevels(c.MQTT.RegistryTopic)
		if err != nil {
			bad("mqtt.registry_topic", "%v", err)
		}
		reg = l
	} else {
		reg = []string{"hazgate", c.Park, "registry"}
	}
	if root == nil || reg == nil {
		return
	}
	field := "mqtt.root"
	if c.MQTT.Root == "" {
		field = "mqtt.registry_topic"
	}
	switch r, g := strings.Join(root, "/"), strings.Join(reg, "/"); {
	case within(root, reg):
		bad(field, "the root %q lies inside the registry's topic %q: the gate would read its own messages as registry data", r, g)
	case within(reg, root):
		bad(field, "the registry's topic %q lies inside the root %q, beside the gate's own messages and commands: keep the two apart", g, r)
	}
}

// validEd25519Key reports whether k is "ed25519:" and the standard base64 of
// a 32-byte public key (uplink parses it the same way).
func validEd25519Key(k string) bool {
	b64, ok := strings.CutPrefix(k, "ed25519:")
	if !ok {
		return false
	}
	b, err := base64.StdEncoding.DecodeString(b64)
	return err == nil && len(b) == 32
}

func validBaud(b int) bool {
	switch b {
	case 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400:
		return true
	}
	return false
}

func checkURL(bad func(string, string, ...any), field, raw string, schemes ...string) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		bad(field, "%q is not a URL", raw)
		return
	}
	for _, s := range schemes {
		if u.Scheme == s {
			return
		}
	}
	bad(field, "scheme %q is not one of %s", u.Scheme, strings.Join(schemes, ", "))
}
