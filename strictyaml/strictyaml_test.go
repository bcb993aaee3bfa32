package strictyaml

import (
	"errors"
	"testing"
)

func TestErrorLines(t *testing.T) {
	type doc struct {
		Name string `yaml:"name"`
		Size int    `yaml:"size"`
	}
	for _, tc := range []struct {
		name, yaml string
		line       int
	}{
		{"wrong type", "name: x\nsize: big\n", 2},
		// The message quotes the value, newline and all: the line is
		// still read off it.
		{"multi-line value", "080\n 00\n\n000\n", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse([]byte(tc.yaml), "f.yaml")
			if err != nil {
				t.Fatal(err)
			}
			var v doc
			err = d.Decode(&v)
			var e *Error
			if !errors.As(err, &e) || e.File != "f.yaml" || e.Line != tc.line {
				t.Fatalf("Decode: %#v (%v); want an error on f.yaml line %d", e, err, tc.line)
			}
		})
	}
}
