package sim

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hazgate/hazgate/registry"
)

// Every scenario of testdata and the demo is read with its registry as a
// stream, and the stream gives the scenario the whole parse gives.
func TestStreamedRegistryAsWhole(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.yaml")
	if len(files) == 0 {
		t.Fatal("no scenarios under testdata")
	}
	check := func(name string, data []byte) {
		whole, err := parseWhole(data, name)
		if err != nil {
			t.Errorf("%s: the whole parse: %v", name, err)
			return
		}
		cut, ok := parseCut(data, name)
		if !ok {
			t.Errorf("%s: the registry was not streamed", name)
			return
		}
		// A list written empty ("blacklist: []") is empty in the whole
		// parse and nil in the stream; nothing tells them apart.
		for _, r := range []*registry.Snapshot{&cut.Registry, &whole.Registry} {
			r.Vehicles, r.Tanks, r.Persons = nilIfEmpty(r.Vehicles), nilIfEmpty(r.Tanks), nilIfEmpty(r.Persons)
			r.Waybills, r.Blacklist, r.Appointments = nilIfEmpty(r.Waybills), nilIfEmpty(r.Blacklist), nilIfEmpty(r.Appointments)
		}
		if !reflect.DeepEqual(cut, whole) {
			t.Errorf("%s: streamed\n%+v\nwhole\n%+v", name, cut.Registry, whole.Registry)
		}
	}
	check("demo.yaml", DemoYAML)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		check(f, data)
		// The same with CRLF line ends.
		check(f+" (CRLF)", []byte(strings.ReplaceAll(string(data), "\n", "\r\n")))
	}
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// A scenario the stream does not read, or refuses, is parsed whole: its
// errors, and what it accepts, are the whole parse's, with the scenario's
// lines and fields.
func TestRegistryNotStreamed(t *testing.T) {
	const head = "name: x\nclock: 2026-03-15T09:00:00+08:00\n"
	const arrivals = "arrivals:\n  - {at: 5s, lane: in-1, plate: 浙B12345}\n"
	vehicle := "{plate: 浙B12345, kind: rigid, licence_valid_until: 2027-01-31}"
	tests := []struct {
		name, yaml string
		streamed   bool
		want       string // the error, or "" for a scenario accepted
		vehicles   int
	}{
		{"block", head + "registry:\n  vehicles:\n    - " + vehicle + "\n" + arrivals, true, "", 1},
		{"block with comments", head + "registry:  # the park's\n# between\n  vehicles:\n\n    - " + vehicle + "\n  # after\n" + arrivals, true, "", 1},
		{"flow", head + "registry: {vehicles: [" + vehicle + "]}\n" + arrivals, false, "", 1},
		{"empty", head + "registry:\n" + arrivals, false, "", 0},
		{"last", head + arrivals + "registry:\n  vehicles:\n    - " + vehicle, true, "", 1},
		{"an anchor in one record, its alias in another", head + "registry:\n  vehicles:\n    - {plate: 浙B12345, kind: rigid, licence_valid_until: &d 2027-01-31}\n    - {plate: 浙B12346, kind: rigid, licence_valid_until: *d}\n" + arrivals, false, "", 2},
		{"given twice", head + "registry:\n  vehicles: []\n" + arrivals + "registry:\n  tanks: []\n", false, "s.yaml:7: registry: key given twice", 0},
		{"indented less", head + "registry:\n    vehicles: []\n  tanks: []\n" + arrivals, false, "s.yaml:", 0},
		{"bad record", head + "registry:\n  vehicles:\n    - {plate: A1, kind: boat}\n" + arrivals, false, `s.yaml:5: registry.vehicles[0].kind: "boat" is not tractor, trailer or rigid`, 0},
		{"unknown key", head + "registry:\n  vehicles:\n    - {plate: A1, kind: rigid, colour: red}\n" + arrivals, false, `s.yaml:5: registry.vehicles[0].colour: unknown key`, 0},
		{"unknown section", head + "registry:\n  lorries: []\n" + arrivals, false, `s.yaml:4: registry.lorries: unknown key`, 0},
		{"bad record and a bad arrival", head + "registry:\n  vehicles:\n    - {plate: A1, kind: boat}\narrivals:\n  - {at: 5s, plate: A1}\n", false, `s.yaml:5: registry.vehicles[0].kind: "boat" is not tractor, trailer or rigid` + "\n" + `s.yaml:7: arrivals[0].lane: missing`, 0},
		{"a key in a quoted scalar", "name: \"x\nregistry:\n  vehicles: []\"\nclock: 2026-03-15T09:00:00+08:00\n" + arrivals, false, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, streamed := parseCut([]byte(tt.yaml), "s.yaml")
			if streamed != tt.streamed {
				t.Errorf("streamed %v, want %v", streamed, tt.streamed)
			}
			s, err := Parse([]byte(tt.yaml), "s.yaml")
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v\nwant it to contain %q", err, tt.want)
			case err == nil && len(s.Registry.Vehicles) != tt.vehicles:
				t.Fatalf("%d vehicles, want %d", len(s.Registry.Vehicles), tt.vehicles)
			}
		})
	}
}

// A city's registry in a scenario is read without its node tree: the
// tree is built for the rest of the scenario, a line per line of the
// registry, and the registry goes to registry.StreamYAML, which holds one
// record's tree at a time (its own tests bound that). BenchmarkFootprint
// (cmd/hazgate) measures what it saves.
func TestLargeRegistryStreamed(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("name: large\nclock: 2026-03-15T09:00:00+08:00\nregistry:\n  vehicles:\n")
	for i := range 10000 {
		fmt.Fprintf(&sb, "    - {plate: 浙C%05d, kind: tractor, licence_valid_until: 2027-01-31, permit_no: \"P%05d\", permit_valid_until: 2027-06-30, permit_classes: [\"2\"], inspection_valid_until: 2026-12-31, rated_load_kg: 40000}\n", i, i)
	}
	sb.WriteString("arrivals:\n  - {at: 5s, lane: in-1, plate: 浙C00001}\n")
	data := []byte(sb.String())
	c, ok := cutRegistry(data)
	if !ok {
		t.Fatal("not cut")
	}
	if want := 3 + 1 + 10000 + 2; len(c.rest) > want+200 || strings.Count(string(c.rest), "\n") != want {
		t.Fatalf("the rest parsed as a tree is %d bytes, %d lines; want %d lines, one byte each but the few of the scenario's own", len(c.rest), strings.Count(string(c.rest), "\n"), want)
	}
	s, ok := parseCut(data, "large.yaml")
	if !ok || len(s.Registry.Vehicles) != 10000 {
		t.Fatalf("streamed %v", ok)
	}
	if s.Registry.Vehicles[9999].Plate != "浙C09999" || s.Arrivals[0].Plate != "浙C00001" {
		t.Fatalf("last vehicle %+v, arrival %+v", s.Registry.Vehicles[9999], s.Arrivals[0])
	}
}

// With Options.TakeRegistry the engine hands the scenario's vehicles and
// tanks over to the store and lets go of them; the run decides as it does
// without (each scenario's expected verdicts, which need the vehicles and
// tanks from the store), and the persons and waybills the run reads are
// kept.
func TestTakeRegistry(t *testing.T) {
	for _, f := range []string{"testdata/01-compliant-tractor-trailer.yaml", "testdata/18-tank-inspection-expired.yaml", "testdata/03-tractor-not-registered.yaml"} {
		t.Run(filepath.Base(f), func(t *testing.T) {
			sc, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			persons, waybills := len(sc.Registry.Persons), len(sc.Registry.Waybills)
			if len(sc.Registry.Vehicles) == 0 {
				t.Fatal("no vehicles in the scenario")
			}
			_, rep := runEngine(t, sc, Options{TakeRegistry: true})
			if rep.Failed > 0 {
				t.Fatalf("%d arrivals not as expected", rep.Failed)
			}
			if sc.Registry.Vehicles != nil || sc.Registry.Tanks != nil {
				t.Fatalf("the scenario still holds %d vehicles and %d tanks", len(sc.Registry.Vehicles), len(sc.Registry.Tanks))
			}
			if len(sc.Registry.Persons) != persons || len(sc.Registry.Waybills) != waybills {
				t.Fatalf("persons %d, waybills %d; want %d and %d", len(sc.Registry.Persons), len(sc.Registry.Waybills), persons, waybills)
			}
		})
	}
}

// Every scenario of testdata, with one line of its registry section
// dropped, indented one space less or two more, or cut at a colon: what
// the stream accepts, the whole parse accepts too, and reads the same.
func TestStreamedRegistryAsWholeMutated(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.yaml")
	n, streamed := 0, 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitAfter(string(data), "\n")
		in := false
		for i, l := range lines {
			if strings.HasPrefix(l, "registry:") {
				in = true
				continue
			}
			if in && l != "" && l[0] != ' ' && l[0] != '\n' && l[0] != '#' {
				break
			}
			if !in {
				continue
			}
			for _, m := range []string{"", strings.TrimPrefix(l, " "), "  " + l, strings.SplitAfter(l, ":")[0] + "\n"} {
				y := strings.Join(lines[:i], "") + m + strings.Join(lines[i+1:], "")
				n++
				if sameAsWhole(t, fmt.Sprintf("%s line %d as %q", f, i+1, m), []byte(y)) {
					streamed++
				}
			}
		}
	}
	t.Logf("%d variants, %d streamed", n, streamed)
	if streamed == 0 || streamed == n {
		t.Fatalf("%d of %d variants streamed: the mutations do not reach both ways", streamed, n)
	}
}

// sameAsWhole fails t when parseCut accepts data and parseWhole refuses
// it or reads another scenario; it reports whether parseCut accepted.
func sameAsWhole(t *testing.T, name string, data []byte) bool {
	t.Helper()
	cut, ok := parseCut(data, "s.yaml")
	if !ok {
		return false
	}
	whole, err := parseWhole(data, "s.yaml")
	if err != nil {
		t.Fatalf("%s: streamed, but the whole parse refuses it: %v", name, err)
	}
	for _, r := range []*registry.Snapshot{&cut.Registry, &whole.Registry} {
		r.Vehicles, r.Tanks, r.Persons = nilIfEmpty(r.Vehicles), nilIfEmpty(r.Tanks), nilIfEmpty(r.Persons)
		r.Waybills, r.Blacklist, r.Appointments = nilIfEmpty(r.Waybills), nilIfEmpty(r.Blacklist), nilIfEmpty(r.Appointments)
	}
	if !reflect.DeepEqual(cut, whole) {
		t.Fatalf("%s: streamed\n%+v\nwhole\n%+v", name, cut, whole)
	}
	return true
}

// FuzzStreamedRegistryAsWhole: whatever the file, a scenario read with its
// registry as a stream is one the whole parse accepts too, and the same
// scenario.
func FuzzStreamedRegistryAsWhole(f *testing.F) {
	f.Add(DemoYAML)
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("name: x\nclock: 2026-03-15T09:00:00+08:00\nregistry:\n  vehicles:\n    - {plate: A1, kind: rigid,\n    licence_valid_until: 2027-01-31}\narrivals:\n  - {at: 5s, lane: in-1, plate: A1}\n"))
	f.Add([]byte("name: x\nclock: 2026-03-15T09:00:00+08:00\nregistry:\n  vehicles:\n  - plate: A1\n    kind: rigid\n  tanks: []\n# c\n  synced_at: 2026-03-15\narrivals:\n  - {at: 5s, lane: in-1, plate: A1}\n"))
	f.Fuzz(func(t *testing.T, data []byte) { sameAsWhole(t, "the input", data) })
}
