package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/hazgate/hazgate/strictyaml/strictyamltest"
)

// FuzzParse feeds Parse arbitrary files, seeded with the example
// configuration, the minimal one, TestParseErrors' mistakes and the files
// of testdata/refused. Whatever comes in, Parse must not panic. A file it
// refuses gets errors that each name the file and, once the YAML itself
// reads, the line or the field. A file it accepts is a valid configuration
// with its lanes' defaults applied, which written out again reads back as
// the same configuration.
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile("../firmware-config/hazgate.example.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	f.Add([]byte(minimal))
	for _, s := range []string{
		minimal + "colour: red\n",
		strings.Replace(minimal, "direction: in", "direction: in\n    speed: 3", 1),
		minimal + "deadline: soon\n",
		strings.Replace(minimal, "    safety_loop: {pin: GPIO27}\n", "", 1),
		minimal + "checks: {face_threshold: 1.5, open_hours: 6-22}\n",
		minimal + "timezone: Mars/Olympus\n",
		minimal + "park: p2\n",
		minimal + "mqtt: {broker: 'http://h:1883', trusted_keys: [ed25519:AAAA], inflight: 0}\n",
		minimal + "retention: [1]\n",
		strings.Replace(minimal, "close_pin: GPIO23", "close_pin: GPIO22", 1),
		strings.Replace(minimal, "direction: in", "direction: out\n    escort_idcard: {port: /dev/ttyUSB2, baud: 7}", 1),
		`{"park": "p1", "gate": "g1", "lanes": []}`,
		"park: p1\ngate: g1\n", "", "---\n", "park: [\n", "\t", "a: b: c", "\xff",
	} {
		f.Add([]byte(s))
	}
	// And the values that make no sense, one per file.
	refused, _ := filepath.Glob("testdata/refused/*.yaml")
	for _, r := range refused {
		data, err := os.ReadFile(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const file = "cfg.yaml"
		c, err := Parse(data, file)
		if err != nil {
			strictyamltest.CheckNamed(t, err, data, file)
			return
		}
		for i, l := range c.Lanes {
			if l.Deadline <= 0 || l.IDCard.Baud == 0 || l.Scanner.Baud == 0 || l.Barrier.Mode == "" || l.Barrier.Pulse <= 0 ||
				l.ArrivalLoop.Debounce <= 0 || l.SafetyLoop.Debounce <= 0 || l.Barrier.FeedbackTimeout <= 0 {
				t.Fatalf("lanes[%d] accepted without its defaults: %+v", i, l)
			}
			if e := l.EscortIDCard; e != nil && (e.Port == "" || e.Baud == 0) {
				t.Fatalf("lanes[%d].escort_idcard accepted as %+v", i, *e)
			}
		}
		out, err := yaml.Marshal(c)
		if err != nil {
			t.Fatalf("accepted configuration does not marshal: %v", err)
		}
		again, err := Parse(out, "again.yaml")
		if err != nil {
			t.Fatalf("accepted configuration, written out, is refused: %v\n%s", err, out)
		}
		// Compared as written: an empty list and no list are the same
		// configuration.
		if out2, err := yaml.Marshal(again); err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("configuration changed on the round trip (%v):\n%s\nread back as\n%s", err, out, out2)
		}
	})
}
