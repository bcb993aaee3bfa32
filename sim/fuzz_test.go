package sim

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hazgate/hazgate/strictyaml/strictyamltest"
)

// FuzzParse feeds the scenario parser arbitrary files, seeded with the demo
// and every scenario under testdata/. Whatever comes in, Parse must not
// panic. A file it refuses gets errors that each name the file and, once
// the YAML itself reads, the line or the field; a file it accepts is a
// scenario the runner can start: a name, a clock, arrivals on named lanes
// at offsets from the start, faults on devices of those lanes.
func FuzzParse(f *testing.F) {
	f.Add(DemoYAML)
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed scenarios under testdata: %v", err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"", "name: x\n", "arrivals: []\n", "clock: 2026-03-15\n", "name: [\n",
		"name: x\nclock: 2026-03-15T09:00:00+08:00\narrivals:\n  - {at: -1s, lane: in-1, plate: A}\n",
		"name: x\nclock: 2026-03-15T09:00:00+08:00\narrivals:\n  - {at: 1e300, lane: in-1, plate: A}\n",
		"name: x\nclock: 2026-03-15T09:00:00+08:00\nface: slow\narrivals:\n  - {at: 5s, lane: in-1, plate: A}\nfaults:\n  - {at: 1s, device: face, kind: down}\n  - {at: 1s, device: in-1/idcard, kind: unplug, for: 0s}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const file = "s.yaml"
		s, err := Parse(data, file)
		if err != nil {
			strictyamltest.CheckNamed(t, err, data, file)
			return
		}
		if s.Name == "" || s.Clock.IsZero() || len(s.Arrivals) == 0 {
			t.Fatalf("accepted a scenario without a name, clock or arrivals: %+v", s)
		}
		lanes := s.Lanes()
		for i, a := range s.Arrivals {
			if a.Lane == "" || a.At < 0 || !slices.Contains(lanes, a.Lane) {
				t.Fatalf("accepted arrivals[%d] = %+v (lanes %v)", i, a, lanes)
			}
		}
		for i, fl := range s.Faults {
			laneName, kind := splitDevice(fl.Device)
			if fl.At == nil || *fl.At < 0 || (fl.For != nil && *fl.For <= 0) ||
				!slices.Contains(FaultKinds[kind], fl.Kind) || (!gateWide(kind) && !slices.Contains(lanes, laneName)) || (gateWide(kind) && laneName != "") {
				t.Fatalf("accepted faults[%d] = %+v (lanes %v)", i, fl, lanes)
			}
		}
	})
}
