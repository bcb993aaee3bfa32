package sim

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDemoParses(t *testing.T) {
	s, err := Parse(DemoYAML, "demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Arrivals) < 8 || len(s.Lanes()) < 2 {
		t.Fatalf("demo has %d arrivals on %v", len(s.Arrivals), s.Lanes())
	}
}

func TestParseErrors(t *testing.T) {
	const base = `name: x
clock: 2026-03-15T09:00:00+08:00
registry:
  vehicles: []
arrivals:
  - at: 5s
    lane: in-1
    plate: 浙B12345
`
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", base + "    colour: red\n", "s.yaml:9: arrivals[0].colour: unknown key"},
		{"bad verdict", base + "    expect: {verdict: maybe}\n", `s.yaml:9: arrivals[0].expect.verdict: "maybe" is not pass, reject or review`},
		{"bad failed check", base + "    expect: {verdict: reject, failed: [tank]}\n", `arrivals[0].expect.failed[0]: "tank" is not a check`},
		{"bad offset", strings.Replace(base, "at: 5s", "at: soon", 1), `s.yaml:6: "soon" is not a duration`},
		{"bad face", base + "    driver: {id_number: \"990001198001010019\", face: 1.7}\n", "arrivals[0].driver.face: 1.7 is not a score"},
		{"no clock", strings.Replace(base, "clock: 2026-03-15T09:00:00+08:00\n", "", 1), "clock: missing"},
		{"date clock", strings.Replace(base, "2026-03-15T09:00:00+08:00", "2026-03-15", 1), `s.yaml:2: "2026-03-15" is not a timestamp`},
		{"bad registry record", strings.Replace(base, "vehicles: []", "vehicles: [{plate: A1, kind: boat}]", 1), `s.yaml:4: registry.vehicles[0].kind: "boat" is not tractor, trailer or rigid`},
		{"bad date in registry", strings.Replace(base, "vehicles: []", "vehicles: [{plate: A1, kind: tractor, licence_valid_until: 2027-13-01}]", 1), `s.yaml:4: "2027-13-01" is neither a date`},
		{"operator without reason", base + "    operator: {action: release}\n", "arrivals[0].operator.reason: missing"},
		{"no arrivals", strings.Split(base, "arrivals:")[0], "arrivals: at least one arrival"},
		{"bad face", strings.Replace(base, "arrivals:", "face: broken\narrivals:", 1), `s.yaml:5: face: "broken" is not down or slow`},
		{"fault device", withFaults(base, "{at: 1s, device: in-1/radar, kind: unplug}"), `faults[0].device: "in-1/radar" is not <lane>/idcard`},
		{"fault lane", withFaults(base, "{at: 1s, device: in-9/idcard, kind: unplug}"), `faults[0].device: "in-9/idcard": no arrival uses lane "in-9"`},
		{"fault on an exit lane", withFaults(strings.Replace(base, "lane: in-1", "lane: out-1", 1), "{at: 1s, device: out-1/scanner, kind: unplug}"), "exit lane out-1 has no scanner"},
		{"fault kind", withFaults(base, "{at: 1s, device: in-1/scanner, kind: noise}"), `faults[0].kind: "noise" is not a fault of in-1/scanner (unplug)`},
		{"fault without at", withFaults(base, "{device: in-1/idcard, kind: unplug}"), "faults[0].at: missing"},
		{"fault for zero", withFaults(base, "{at: 1s, device: face, kind: down, for: 0s}"), "faults[0].for: must be more than 0"},
		{"faults overlap", withFaults(base, "{at: 1s, device: in-1/idcard, kind: unplug, for: 10s}, {at: 5s, device: in-1/idcard, kind: noise}"), "faults[1]: overlaps faults[0]: one fault of in-1/idcard at a time"},
		{"face twice", strings.Replace(withFaults(base, "{at: 5s, device: face, kind: slow, for: 1s}"), "arrivals:", "face: down\narrivals:", 1), "faults[0]: overlaps the top-level face setting"},
		{"bad alarm", base + "    expect: {verdict: pass, alarms: [fire]}\n", `arrivals[0].expect.alarms[0]: "fire" is not an alarm kind`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), "s.yaml")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

func withFaults(base, faults string) string {
	return strings.Replace(base, "arrivals:", "faults: ["+faults+"]\narrivals:", 1)
}

func TestFaultsInSequence(t *testing.T) {
	const base = `name: x
clock: 2026-03-15T09:00:00+08:00
registry: {}
faults:
  - {at: 1s, device: in-1/idcard, kind: unplug, for: 4s}
  - {at: 5s, device: in-1/idcard, kind: noise}
  - {at: 0s, device: in-1/barrier, kind: jam}
face: slow
arrivals:
  - {at: 5s, lane: in-1, plate: 浙B12345}
`
	s, err := Parse([]byte(base), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range s.AllFaults() {
		got = append(got, fmt.Sprintf("%v %s %s", f.At.D(), f.Device, f.Kind))
	}
	want := []string{"0s face slow", "0s in-1/barrier jam", "1s in-1/idcard unplug", "5s in-1/idcard noise"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Fatalf("faults %q, want %q", got, want)
	}
}

func TestTestdataScenariosParse(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, f := range files {
		if _, err := Load(f); err != nil {
			t.Errorf("%v", err)
		}
	}
	_ = os.Remove
}
