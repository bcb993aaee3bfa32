package registry_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/registry/registrytest"
	"github.com/hazgate/hazgate/strictyaml"
)

// collect is a sink that keeps every record it is given, as a snapshot.
func collect(s *registry.Snapshot) registry.Sink {
	return registry.Sink{
		Vehicle:     func(_ int, v registry.Vehicle) error { s.Vehicles = append(s.Vehicles, v); return nil },
		Tank:        func(_ int, v registry.Tank) error { s.Tanks = append(s.Tanks, v); return nil },
		Person:      func(_ int, v registry.Person) error { s.Persons = append(s.Persons, v); return nil },
		Waybill:     func(_ int, v registry.Waybill) error { s.Waybills = append(s.Waybills, v); return nil },
		Blacklist:   func(_ int, v registry.BlacklistEntry) error { s.Blacklist = append(s.Blacklist, v); return nil },
		Appointment: func(_ int, v registry.Appointment) error { s.Appointments = append(s.Appointments, v); return nil },
	}
}

// streamYAML is StreamYAML's snapshot: its head and every record given.
func streamYAML(t *testing.T, doc []byte) (*registry.Snapshot, error) {
	t.Helper()
	var s registry.Snapshot
	h, err := registry.StreamYAML(bytes.NewReader(doc), "r.yaml", collect(&s))
	s.Version, s.SyncedAt = h.Version, h.SyncedAt
	if err == nil {
		var again registry.Snapshot
		h2, err2 := registry.WalkYAML(bytes.NewReader(doc), "r.yaml", collect(&again))
		again.Version, again.SyncedAt = h2.Version, h2.SyncedAt
		if err2 != nil || h2 != h || !reflect.DeepEqual(&again, &s) {
			t.Fatalf("WalkYAML does not read what StreamYAML read: %v\n%+v\n%+v", err2, h2, h)
		}
	}
	return &s, err
}

// TestStreamYAMLAsDecode: a registry in YAML, in block style (records as
// block mappings, or one flow mapping a line, lists at column 0 or
// indented), in flow style for small lists, with comments and a "---",
// reads as the same snapshot record by record as Decode reads it whole;
// and every bad registry of registrytest, and bad YAML, is refused by both
// with an error that names the same line and field.
func TestStreamYAMLAsDecode(t *testing.T) {
	good := registrytest.Good(time.Now().Add(-time.Hour))
	big := *good
	for i := range 50 {
		big.Vehicles = append(big.Vehicles, registrytest.Vehicle(registrytest.BigPlate(i)))
		big.Persons = append(big.Persons, registry.Person{IDNumber: registrytest.BigID(i), Name: "测试",
			Certificates: []registry.Certificate{{Role: registry.RoleDriver, Number: fmt.Sprint("C", i), ValidUntil: registry.Date(2028, 5, 1)}}})
	}
	var bb bytes.Buffer
	enc := yaml.NewEncoder(&bb)
	enc.SetIndent(2)
	if err := enc.Encode(&big); err != nil {
		t.Fatal(err)
	}
	blockDoc := bb.Bytes()
	// One flow mapping a line, the lists at column 0, comments, "---".
	var flow strings.Builder
	flow.WriteString("# a registry\n---\nversion: 11 # the version\nvehicles:\n")
	for _, v := range big.Vehicles {
		b, _ := json.Marshal(v)
		fmt.Fprintf(&flow, "- %s\n\n", b)
	}
	flow.WriteString("persons:\n  # indented, with a comment between\n")
	for _, p := range big.Persons {
		b, _ := json.Marshal(p)
		fmt.Fprintf(&flow, "  - %s\n", b)
	}
	tanks, _ := json.Marshal(big.Tanks)
	waybills, _ := json.Marshal(big.Waybills)
	bl, _ := json.Marshal(big.Blacklist)
	synced, _ := json.Marshal(big.SyncedAt)
	fmt.Fprintf(&flow, "tanks: %s\nwaybills: %s\nblacklist:\n  %s\nsynced_at: %s\n...\n# the end\n", tanks, waybills, bl, synced)
	for name, doc := range map[string][]byte{"block": blockDoc, "flow": []byte(flow.String())} {
		want, err := registry.Decode(doc, "r.yaml")
		if err != nil {
			t.Fatalf("%s: Decode: %v", name, err)
		}
		got, err := streamYAML(t, doc)
		if err != nil {
			t.Fatalf("%s: StreamYAML: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: StreamYAML read\n%+v\nDecode read\n%+v", name, got, want)
		}
	}

	// Bad registries: the same errors, line and field, as Decode.
	var bad []string
	for _, c := range registrytest.Cases() {
		if c.YAML != "" {
			bad = append(bad, c.YAML)
		} else if s := c.Import(good); s != nil {
			b, err := yaml.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			bad = append(bad, string(b))
		}
	}
	dupPlate := big
	dupPlate.Vehicles = append(slices.Clone(big.Vehicles), big.Vehicles[3])
	b, _ := yaml.Marshal(&dupPlate)
	bad = append(bad, string(b),
		strings.Replace(string(blockDoc), "  - plate: 浙A00007\n", "  - plate: 浙A00007\n    colour: red\n", 1),                // unknown key
		strings.Replace(string(blockDoc), "  - plate: 浙A00007\n", "  - plate: 浙A00007\n    plate: 浙A00008\n", 1),             // key twice
		strings.Replace(string(blockDoc), "    rated_load_kg: 40000\n", "    rated_load_kg: .nan\n", 1),                      // not finite
		strings.Replace(string(blockDoc), "    licence_valid_until: \"2028-01-31\"\n", "    licence_valid_until: soon\n", 1), // a bad date
		strings.Replace(string(blockDoc), "  - plate: 浙A00007\n", "  -\n  - plate: 浙A00007\n", 1),                            // a null item
		strings.Replace(string(blockDoc), "tanks:\n", "trucks: []\ntanks:\n", 1),                                             // unknown list
		strings.Replace(string(blockDoc), "tanks:\n", "vehicles: []\ntanks:\n", 1),                                           // a list twice
		strings.Replace(string(blockDoc), "  - plate: 浙A00007\n", "  - plate: \"浙A00007\n", 1),                               // broken quotes
		string(blockDoc)+"---\nvehicles: []\n",                                                                               // a second document
	)
	n := 0
	for _, doc := range bad {
		if doc == string(blockDoc) {
			t.Fatalf("a bad registry is the good one: a replacement did not match:\n%s", doc)
		}
		_, want := registry.Decode([]byte(doc), "r.yaml")
		_, got := streamYAML(t, []byte(doc))
		if want == nil {
			if got != nil {
				t.Errorf("StreamYAML refuses what Decode takes (a case for the store): %v", got)
			}
			continue
		}
		if got == nil {
			t.Fatalf("StreamYAML takes what Decode refuses (%v):\n%s", want, doc)
		}
		n++
		// Decode stops at the first broken key; the stream reports every
		// problem of the records it read. Decode's first is among the
		// stream's: the same field, the same words, the same line (a few
		// lines apart for broken YAML, which the stream reads a record
		// at a time, and names the record of).
		w := firstProblem(t, want)
		found := false
		for _, e := range unjoin(got) {
			p := firstProblem(t, e)
			same := p.Field == w.Field && p.Line == w.Line
			if w.Field == "" { // broken YAML
				same = p.Line > 0 && abs(p.Line-w.Line) <= 3
			}
			if same && strings.HasPrefix(p.Msg, w.Msg) {
				found = true
			}
		}
		if !found {
			t.Errorf("Decode: %q\nStreamYAML: %q", want, got)
		}
	}
	if n < 30 {
		t.Fatalf("only %d bad registries tried", n)
	}
}

func abs(n int) int { return max(n, -n) }

// unjoin is the errors joined in err.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// firstProblem is the first strictyaml.Error in err, which must have one.
func firstProblem(t *testing.T, err error) *strictyaml.Error {
	t.Helper()
	var se *strictyaml.Error
	if !errors.As(unjoin(err)[0], &se) {
		t.Fatalf("not a strictyaml.Error (no line): %v", err)
	}
	return se
}
