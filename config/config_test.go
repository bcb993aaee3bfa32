package config

import (
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hazgate/hazgate/strictyaml"
)

func TestExampleIsValid(t *testing.T) {
	c, err := Load("../firmware-config/hazgate.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Lanes) != 2 || c.Lanes[0].Deadline.D().Seconds() != 120 || c.Lanes[1].Direction != "out" || c.Lanes[0].Scale == nil {
		t.Fatalf("lanes = %+v", c.Lanes)
	}
	if got := c.Root(); got != "hazgate/ningbo-chem/east-1" {
		t.Fatalf("root = %q", got)
	}
}

const minimal = `park: p1
gate: g1
lanes:
  - name: in-1
    direction: in
    idcard: {port: /dev/ttyUSB0}
    scanner: {port: /dev/ttyUSB1}
    arrival_loop: {pin: GPIO17}
    safety_loop: {pin: GPIO27}
    barrier: {open_pin: GPIO22, close_pin: GPIO23}
`

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string // substring of the error: file:line: field: message
	}{
		{"unknown top-level key", minimal + "colour: red\n", "cfg.yaml:11: colour: unknown key"},
		{"unknown lane key", strings.Replace(minimal, "direction: in", "direction: in\n    speed: 3", 1), "cfg.yaml:6: lanes[0].speed: unknown key"},
		{"bad duration", minimal + "deadline: soon\n", `cfg.yaml:11: deadline: "soon" is not a duration`},
		{"bad direction", strings.Replace(minimal, "direction: in", "direction: sideways", 1), `cfg.yaml:5: lanes[0].direction: "sideways" is not in or out`},
		{"missing safety loop", strings.Replace(minimal, "    safety_loop: {pin: GPIO27}\n", "", 1), "cfg.yaml:4: lanes[0].safety_loop.pin: missing"},
		{"bad threshold", minimal + "checks: {face_threshold: 1.5}\n", "cfg.yaml:11: checks.face_threshold: 1.5 is not in (0, 1]"},
		{"bad hours", minimal + "checks: {open_hours: 6-22}\n", "checks.open_hours"},
		{"bad zone", minimal + "timezone: Mars/Olympus\n", "cfg.yaml:11: timezone:"},
		{"duplicate lane", minimal + strings.Replace(minimal[strings.Index(minimal, "  - name"):], "", "", 1), "lanes[1].name: \"in-1\" is already lanes[0]"},
		{"duplicate key", minimal + "park: p2\n", "cfg.yaml:11: park: key given twice"},
		{"missing cert file", minimal + "mqtt: {broker: ssl://h:8883, cert_file: /nonexistent.pem, key_file: /nonexistent.key}\n", "mqtt.cert_file: /nonexistent.pem: no such file"},
		{"bad broker scheme", minimal + "mqtt: {broker: 'http://h:1883'}\n", `mqtt.broker: scheme "http"`},
		{"wrong type", minimal + "retention: [1]\n", "cfg.yaml:11"},
		{"no lanes", "park: p1\ngate: g1\n", "lanes: at least one lane"},
		{"bad gate name", strings.Replace(minimal, "gate: g1", "gate: G/1", 1), `cfg.yaml:2: gate: "G/1"`},
		{"bad loop pull", strings.Replace(minimal, "{pin: GPIO17}", "{pin: GPIO17, pull: sideways}", 1), `lanes[0].arrival_loop.pull: "sideways" is not up, down or none`},
		{"bad limit pull", strings.Replace(minimal, "close_pin: GPIO23}", "close_pin: GPIO23, limit_pull: strong}", 1), `lanes[0].barrier.limit_pull: "strong" is not up, down or none`},
		{"pin used twice", strings.Replace(minimal, "close_pin: GPIO23", "close_pin: GPIO22", 1), `lanes[0].barrier.close_pin: pin "GPIO22" is already lanes[0].barrier.open_pin`},
		{"bad escort baud", strings.Replace(minimal, "direction: in", "direction: in\n    escort_idcard: {port: /dev/ttyUSB2, baud: 7}", 1), "cfg.yaml:6: lanes[0].escort_idcard.baud: 7 is not a standard baud rate"},
		{"escort reader without port", strings.Replace(minimal, "direction: in", "direction: in\n    escort_idcard: {baud: 9600}", 1), "lanes[0].escort_idcard.port: missing"},
		{"unknown barrier key", strings.Replace(minimal, "close_pin: GPIO23}", "close_pin: GPIO23, relay_low: true}", 1), "lanes[0].barrier.relay_low: unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), "cfg.yaml")
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

func TestMinimalGetsDefaults(t *testing.T) {
	c, err := Parse([]byte(minimal), "cfg.yaml")
	if err != nil {
		t.Fatal(err)
	}
	l := c.Lanes[0]
	if l.Deadline.D().Seconds() != 120 || l.IDCard.Baud != 115200 || l.Barrier.Mode != "pulse" {
		t.Fatalf("defaults not applied: %+v", l)
	}
	if c.Params().FaceThreshold != 0.80 {
		t.Fatalf("face threshold %v", c.Params().FaceThreshold)
	}
}

// An escort's reader written as docs/devices.md shows it, with its port
// only, gets the reader's default rate, as the driver's reader does.
func TestEscortReaderGetsDefaults(t *testing.T) {
	c, err := Parse([]byte(strings.Replace(minimal, "direction: in", "direction: in\n    escort_idcard: {port: /dev/ttyUSB2}", 1)), "cfg.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if e := c.Lanes[0].EscortIDCard; e == nil || e.Port != "/dev/ttyUSB2" || e.Baud != 115200 {
		t.Fatalf("escort_idcard = %+v, want /dev/ttyUSB2 at 115200", e)
	}
}

func TestDeviceWiringFields(t *testing.T) {
	y := strings.Replace(minimal, "barrier: {open_pin: GPIO22, close_pin: GPIO23}",
		"barrier: {open_pin: GPIO22, close_pin: GPIO23, relay_active_low: true, limit_active_low: true, limit_pull: up, closed_limit_pin: GPIO24}", 1)
	y = strings.Replace(y, "{pin: GPIO27}", "{pin: gpiochip0/27, active_low: true, pull: up}", 1)
	c, err := Parse([]byte(y), "cfg.yaml")
	if err != nil {
		t.Fatal(err)
	}
	b, s := c.Lanes[0].Barrier, c.Lanes[0].SafetyLoop
	if !b.RelayActiveLow || !b.LimitActiveLow || b.LimitPull != "up" || b.ClosedLimitPin != "GPIO24" || s.Pull != "up" || s.Pin != "gpiochip0/27" {
		t.Fatalf("barrier %+v safety %+v", b, s)
	}
}

// Every float in the file is refused when it is not a finite number, naming
// its field (issue 19): NaN compares false with everything, so a NaN
// threshold passed every range check and then every face.
func TestNonFiniteFloatsRefused(t *testing.T) {
	for _, f := range []struct{ field, yaml string }{
		{"checks.face_threshold", minimal + "checks: {face_threshold: %s}\n"},
		{"lanes[0].plate_min_confidence", strings.Replace(minimal, "direction: in", "direction: in\n    plate_min_confidence: %s", 1)},
	} {
		for _, v := range []string{".nan", ".NaN", ".NAN", ".inf", "+.inf", "-.inf", ".Inf", "-.INF"} {
			t.Run(f.field+"="+v, func(t *testing.T) {
				_, err := Parse([]byte(strings.Replace(f.yaml, "%s", v, 1)), "cfg.yaml")
				if err == nil || !strings.Contains(err.Error(), "cfg.yaml:") || !strings.Contains(err.Error(), f.field+": ") || !strings.Contains(err.Error(), "not a finite number") {
					t.Fatalf("error %v, want it to name %s and say not a finite number", err, f.field)
				}
			})
		}
	}
	// The checks it guards still hold for finite numbers.
	for _, c := range []struct{ yaml, want string }{
		{minimal + "checks: {face_threshold: 0}\n", "checks.face_threshold: 0 is not in (0, 1]"},
		{strings.Replace(minimal, "direction: in", "direction: in\n    plate_min_confidence: 1.01", 1), "lanes[0].plate_min_confidence: 1.01 is not in [0, 1]"},
		{strings.Replace(minimal, "direction: in", "direction: in\n    plate_min_confidence: -0.1", 1), "lanes[0].plate_min_confidence: -0.1 is not in [0, 1]"},
	} {
		if _, err := Parse([]byte(c.yaml), "cfg.yaml"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
}

// Validate itself refuses a non-finite threshold or minimum, for a Config
// that did not come through Parse.
func TestValidateRefusesNaN(t *testing.T) {
	c, err := Parse([]byte(minimal), "cfg.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := strictyaml.Parse([]byte(minimal), "cfg.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c.Checks.FaceThreshold = math.NaN()
	c.Lanes[0].PlateMinConfidence = math.NaN()
	var got []string
	for _, e := range c.Validate(doc) {
		got = append(got, e.Error())
	}
	all := strings.Join(got, "\n")
	if !strings.Contains(all, "checks.face_threshold: NaN is not in (0, 1]") || !strings.Contains(all, "lanes[0].plate_min_confidence: NaN is not in [0, 1]") {
		t.Fatalf("errors:\n%s", all)
	}
}

// TestRefusedValues is the table of values that make no sense (issue 19):
// each file in testdata/refused is a configuration with one such value, and
// its "# want:" lines are what the error must say, field first. Every error
// names the file and the line. `hazgate config check` is run on the same
// files in cmd/hazgate.
func TestRefusedValues(t *testing.T) {
	files, err := filepath.Glob("testdata/refused/*.yaml")
	if err != nil || len(files) < 60 {
		t.Fatalf("%d files, %v", len(files), err)
	}
	lineRe := regexp.MustCompile(`^` + regexp.QuoteMeta("testdata/refused/") + `[a-z0-9-]+\.yaml:\d+: `)
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			wants := refusedWants(data)
			if len(wants) == 0 {
				t.Fatal("no # want: line")
			}
			_, err = Load(f)
			if err == nil {
				t.Fatalf("accepted; want %q", wants)
			}
			for _, w := range wants {
				if !strings.Contains(err.Error(), f+":") || !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nwant it to say %q", err, w)
				}
			}
			for _, l := range strings.Split(err.Error(), "\n") {
				if !lineRe.MatchString(l) {
					t.Errorf("error line %q does not start with file:line:", l)
				}
			}
		})
	}
}

// The values those files change, written the ordinary way, are accepted:
// the refusals above are about the values, not the keys.
func TestSensibleValuesAccepted(t *testing.T) {
	y := strings.Replace(minimal, "direction: in", `direction: in
    deadline: 0s
    plate_token: camera-in-1-secret
    escort_idcard: {port: /dev/ttyUSB4, timeout: 0s}
    camera: {snapshot_url: 'http://192.0.2.1/snap.jpg', timeout: 2s}`, 1)
	y = strings.Replace(y, "{pin: GPIO17}", "{pin: ' gpio017 ', debounce: 0ms}", 1)
	y = strings.Replace(y, "{pin: GPIO27}", "{pin: GPIOCHIP0/027}", 1)
	y = strings.Replace(y, "{port: /dev/ttyUSB1}", "{port: ' /dev//ttyUSB1 '}", 1)
	y += `timezone: UTC
checks: {open_hours: "06:00-24:00"}
mqtt: {root: site/p1/gate-1, registry_topic: site/p1/registry, keepalive: 65535s}
kiosk: {listen: "127.0.0.1:0"}
`
	c, err := Parse([]byte(y), "cfg.yaml")
	if err != nil {
		t.Fatal(err)
	}
	l := c.Lanes[0]
	if l.ArrivalLoop.Pin != "GPIO17" || l.SafetyLoop.Pin != "gpiochip0/27" || l.Scanner.Port != "/dev/ttyUSB1" {
		t.Fatalf("pins and ports not written the one way: %q %q %q", l.ArrivalLoop.Pin, l.SafetyLoop.Pin, l.Scanner.Port)
	}
	if h, _ := ParseHours("06:00-24:00"); h == nil || h.Until != 24*60 {
		t.Fatalf("06:00-24:00 = %+v", h)
	}
}

func TestCanonicalPin(t *testing.T) {
	for _, c := range []struct{ in, name, key string }{
		{"GPIO17", "GPIO17", "gpiochip0/17"},
		{"gpio17", "GPIO17", "gpiochip0/17"},
		{" GPIO17\t", "GPIO17", "gpiochip0/17"},
		{"Gpio017", "GPIO17", "gpiochip0/17"},
		{"gpiochip0/17", "gpiochip0/17", "gpiochip0/17"},
		{"GPIOCHIP0/017", "gpiochip0/17", "gpiochip0/17"},
		{"gpiochip3/20", "gpiochip3/20", "gpiochip3/20"},
		{"pinctrl-rp1/17", "pinctrl-rp1/17", "pinctrl-rp1/17"},
		{"SIM_in-1_ARRIVAL", "SIM_in-1_ARRIVAL", "SIM_in-1_ARRIVAL"},
	} {
		name, key, err := CanonicalPin(c.in)
		if err != nil || name != c.name || key != c.key {
			t.Errorf("CanonicalPin(%q) = %q %q %v, want %q %q", c.in, name, key, err, c.name, c.key)
		}
	}
	for _, bad := range []string{"17", "gpiochip0/", "/17", "gpiochip0/-1", "GPIO 17", "a/b/c", ""} {
		if _, _, err := CanonicalPin(bad); err == nil {
			t.Errorf("CanonicalPin(%q) accepted", bad)
		}
	}
}

// refusedWants returns a refused file's "# want:" lines.
func refusedWants(data []byte) []string {
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if w, ok := strings.CutPrefix(l, "# want: "); ok {
			out = append(out, w)
		}
	}
	return out
}

// config check reports every value the decoder refuses at once, durations
// included, each with its line and field.
func TestEveryBadValueAtOnce(t *testing.T) {
	data := []byte(minimal + "deadline: soon\nregistry_max_age: later\n")
	_, err := Parse(data, "cfg.yaml")
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{`cfg.yaml:11: deadline: "soon"`, `cfg.yaml:12: registry_max_age: "later"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// Every pin of a board's profile file is a pin of that board.
func TestBoardProfilesKnowTheirPins(t *testing.T) {
	files, _ := filepath.Glob("../firmware-config/boards/*.yaml")
	if len(files) == 0 {
		t.Fatal("no board profiles")
	}
	pinKey := regexp.MustCompile(`(?:pin|_pin): *([A-Za-z0-9/]+)`)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		b, ok := boards[name]
		if !ok {
			t.Errorf("%s: no board profile %q in config", f, name)
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, m := range pinKey.FindAllStringSubmatch(string(data), -1) {
			canon, _, err := CanonicalPin(m[1])
			if err != nil || !b.has(canon) {
				t.Errorf("%s: pin %s (%s) is not a pin of %s: %v", f, m[1], canon, name, err)
			}
			n++
		}
		if n < 6 {
			t.Errorf("%s: only %d pins found", f, n)
		}
	}
}
