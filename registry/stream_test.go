package registry_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/registry/registrytest"
)

// problemLines are an error's lines, sorted: StreamJSON reports a
// snapshot's problems in the order of the document, Validate list by list.
func problemLines(err error) []string {
	if err == nil {
		return nil
	}
	l := strings.Split(err.Error(), "\n")
	slices.Sort(l)
	return l
}

// TestStreamJSONAsValidate: record by record, StreamJSON finds what
// DecodeJSON (Snapshot.Validate on the whole) finds, with the same fields
// and words, for every bad registry of registrytest and for duplicates;
// and it gives the sink nothing once a problem is found.
func TestStreamJSONAsValidate(t *testing.T) {
	good := registrytest.Good(time.Now().Add(-time.Hour))
	var docs [][]byte
	for _, c := range registrytest.Cases() {
		if s := c.Import(good); s != nil && c.Add != nil {
			if b, err := json.Marshal(s); err == nil { // NaN has no JSON
				docs = append(docs, b)
			}
		}
	}
	dup := func(f func(s *registry.Snapshot)) []byte {
		s := *good
		s.Vehicles = slices.Clone(good.Vehicles)
		s.Tanks = slices.Clone(good.Tanks)
		s.Persons = slices.Clone(good.Persons)
		s.Waybills = slices.Clone(good.Waybills)
		f(&s)
		b, _ := json.Marshal(&s)
		return b
	}
	docs = append(docs,
		dup(func(s *registry.Snapshot) {
			v := s.Vehicles[0]
			v.Kind = "bus"
			s.Vehicles = append(s.Vehicles, v, v)
		}),
		dup(func(s *registry.Snapshot) { s.Tanks = append(s.Tanks, s.Tanks[0], s.Tanks[0]) }),
		dup(func(s *registry.Snapshot) { s.Persons = append(s.Persons, s.Persons[0], s.Persons[0], s.Persons[0]) }),
		dup(func(s *registry.Snapshot) { s.Waybills = append(s.Waybills, s.Waybills[0]) }),
	)
	if len(docs) < 20 {
		t.Fatalf("only %d bad registries", len(docs))
	}
	for i, doc := range docs {
		_, want := registry.DecodeJSON(bytes.NewReader(doc), "s.json")
		if want == nil {
			t.Fatalf("doc %d: DecodeJSON found nothing in %s", i, doc)
		}
		given := 0
		count := func(int, registry.Vehicle) error { given++; return nil }
		_, got := registry.StreamJSON(bytes.NewReader(doc), "s.json", registry.Sink{Vehicle: count})
		if !slices.Equal(problemLines(got), problemLines(want)) {
			t.Errorf("doc %d:\nStreamJSON: %v\nDecodeJSON: %v", i, got, want)
		}
		if given > len(good.Vehicles)+1 {
			t.Errorf("doc %d: the sink was given %d vehicles after a problem", i, given)
		}
	}
	b, _ := json.Marshal(good)
	var plates []string
	h, err := registry.StreamJSON(bytes.NewReader(b), "s.json", registry.Sink{Vehicle: func(i int, v registry.Vehicle) error {
		plates = append(plates, v.Plate)
		return nil
	}})
	if err != nil || h.Vehicles != len(good.Vehicles) || h.Persons != len(good.Persons) || len(plates) != len(good.Vehicles) {
		t.Fatalf("good snapshot: %+v, %v, %v", h, plates, err)
	}
	for _, bad := range []string{`{"vehicles":[null]}`, `{"vehicles":[],"vehicles":[]}`, `{"x":1}`, `{} {}`} {
		_, want := registry.DecodeJSON(strings.NewReader(bad), "s.json")
		_, got := registry.StreamJSON(strings.NewReader(bad), "s.json", registry.Sink{})
		if got == nil || want == nil || got.Error() != want.Error() {
			t.Errorf("%s: StreamJSON %v, DecodeJSON %v", bad, got, want)
		}
	}
}
