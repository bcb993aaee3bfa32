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
		{"bad offset", strings.Replace(base, "at: 5s", "at: soon", 1), `s.yaml:6: arrivals[0].at: "soon" is not a duration`},
		{"bad face", base + "    driver: {id_number: \"990001198001010019\", face: 1.7}\n", "arrivals[0].driver.face: 1.7 is not a score"},
		{"no clock", strings.Replace(base, "clock: 2026-03-15T09:00:00+08:00\n", "", 1), "clock: missing"},
		{"date clock", strings.Replace(base, "2026-03-15T09:00:00+08:00", "2026-03-15", 1), `s.yaml:2: clock: "2026-03-15" is not a timestamp`},
		{"bad registry record", strings.Replace(base, "vehicles: []", "vehicles: [{plate: A1, kind: boat}]", 1), `s.yaml:4: registry.vehicles[0].kind: "boat" is not tractor, trailer or rigid`},
		{"bad date in registry", strings.Replace(base, "vehicles: []", "vehicles: [{plate: A1, kind: tractor, licence_valid_until: 2027-13-01}]", 1), `s.yaml:4: registry.vehicles[0].licence_valid_until: "2027-13-01" is neither a date`},
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
		{"negative deadline", strings.Replace(base, "arrivals:", "settings: {deadline: -1s}\narrivals:", 1), "settings.deadline: -1s: must be more than 0"},
		{"zero registry age", strings.Replace(base, "arrivals:", "settings: {registry_max_age: 0s}\narrivals:", 1), "settings.registry_max_age: 0s: must be more than 0"},
		{"hours past midnight", strings.Replace(base, "arrivals:", "settings: {open_hours: '06:00-24:30'}\narrivals:", 1), "settings.open_hours: \"06:00-24:30\": the day ends at 24:00"},
		{"bad alarm", base + "    expect: {verdict: pass, alarms: [fire]}\n", `arrivals[0].expect.alarms[0]: "fire" is not an alarm kind`},
		{"evacuation without at", strings.Replace(base, "arrivals:", "evacuation: {for: 5m}\narrivals:", 1), "s.yaml:5: evacuation.at: missing"},
		{"evacuation for zero", strings.Replace(base, "arrivals:", "evacuation: {at: 1m, for: 0s}\narrivals:", 1), "evacuation.for: must be more than 0"},
		{"evacuation by whom", strings.Replace(base, "arrivals:", "evacuation: {at: 1m, by: mayor}\narrivals:", 1), `evacuation.by: "mayor" is not office or kiosk`},
		{"evacuation unknown key", strings.Replace(base, "arrivals:", "evacuation: {at: 1m, lanes: [out-1]}\narrivals:", 1), "evacuation.lanes: unknown key"},
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

// Every float a scenario holds, and every offset (a plain number of seconds
// is a float too), is refused when it is not a finite number, naming its
// field (issue 19): NaN compares false with everything, so a NaN threshold
// passed every face.
func TestNonFiniteNumbersRefused(t *testing.T) {
	const base = `name: x
clock: 2026-03-15T09:00:00+08:00
timings: {plate: 1s}
settings: {face_threshold: 0.8}
registry:
  vehicles: [{plate: A1, kind: rigid, rated_load_kg: 10000}]
  waybills: [{number: W1, vehicle: A1, valid_from: 2026-03-15, valid_until: 2026-03-16, goods: [{un: UN1203, class: "3", quantity_kg: 9000}]}]
faults: [{at: 1s, device: face, kind: down, for: 2s}]
arrivals:
  - at: 5s
    lane: in-1
    plate: A1
    driver: {id_number: "990001198001010019", face: 0.9}
    escort: {id_number: "990001198001010019", face: 0.9}
    operator: {action: release, after: 5s, reason: checked}
`
	fields := []struct{ field, value string }{
		{"settings.face_threshold", "face_threshold: 0.8"},
		{"arrivals[0].driver.face", `driver: {id_number: "990001198001010019", face: 0.9`},
		{"arrivals[0].escort.face", `escort: {id_number: "990001198001010019", face: 0.9`},
		{"registry.vehicles[0].rated_load_kg", "rated_load_kg: 10000"},
		{"registry.waybills[0].goods[0].quantity_kg", "quantity_kg: 9000"},
	}
	for _, f := range fields {
		for _, bad := range []string{".nan", ".NaN", ".inf", "-.Inf", "+.inf"} {
			t.Run(f.field+"="+bad, func(t *testing.T) {
				before, _, _ := strings.Cut(f.value, ": ")
				// Replace the number at the end of value.
				i := strings.LastIndex(f.value, " ")
				y := strings.Replace(base, f.value, f.value[:i+1]+bad, 1)
				if y == base {
					t.Fatalf("%q not in the base", f.value)
				}
				_, err := Parse([]byte(y), "s.yaml")
				if err == nil || !strings.Contains(err.Error(), f.field+": ") || !strings.Contains(err.Error(), "not a finite number") {
					t.Fatalf("%s: %s: error %v, want it to name %s and say not a finite number", before, bad, err, f.field)
				}
			})
		}
	}
	offsets := []struct{ field, value string }{
		{"timings.plate", "plate: 1s"},
		{"faults[0].at", "at: 1s"},
		{"faults[0].for", "for: 2s"},
		{"arrivals[0].at", "at: 5s"},
		{"arrivals[0].operator.after", "after: 5s"},
	}
	for _, o := range offsets {
		for _, c := range []struct{ value, says string }{
			{".nan", "not a finite number"},
			{".inf", "not a finite number"},
			{"nan", `"nan" is not a finite number of seconds`},
			{"NaN", `"NaN" is not a finite number of seconds`},
			{"inf", `"inf" is not a finite number of seconds`},
			{"-Infinity", `"-Infinity" is not a finite number of seconds`},
			{"1e999", `"1e999" is not a finite number of seconds`},
			{"1e300", `"1e300" is too long`},
			{"9223372037", `"9223372037" is too long`},
			{"-1", `"-1" is negative`},
			{"-1s", `"-1s" is negative`},
		} {
			t.Run(o.field+"="+c.value, func(t *testing.T) {
				key, _, _ := strings.Cut(o.value, ":")
				y := strings.Replace(base, o.value, key+": "+c.value, 1)
				_, err := Parse([]byte(y), "s.yaml")
				if err == nil || !strings.Contains(err.Error(), o.field+": ") || !strings.Contains(err.Error(), c.says) {
					t.Fatalf("error %v\nwant it to name %s and say %q", err, o.field, c.says)
				}
			})
		}
	}
	if _, err := Parse([]byte(base), "s.yaml"); err != nil {
		t.Fatalf("the base is refused: %v", err)
	}
}

// Scenario 33 with a NaN threshold is refused at load, before any lane runs:
// the probe that found issue 19 opened the barrier for a face of 0.01.
func TestScenarioWithNaNThresholdRefused(t *testing.T) {
	data, err := os.ReadFile("testdata/33-face-below-threshold.yaml")
	if err != nil {
		t.Fatal(err)
	}
	y := strings.Replace(string(data), "face: 0.79", "face: 0.01", 1)
	y = strings.Replace(y, "arrivals:", "settings: {face_threshold: .nan}\narrivals:", 1)
	_, err = Parse([]byte(y), "33.yaml")
	if err == nil || !strings.Contains(err.Error(), "33.yaml:") || !strings.Contains(err.Error(), "settings.face_threshold: ") {
		t.Fatalf("error %v, want it to name 33.yaml's settings.face_threshold", err)
	}
}
