package strictyaml

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"go.yaml.in/yaml/v3"
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

func TestParseRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, field string
		line              int
	}{
		{"second document", "a: 1\n---\na: 2\n", "", 3},
		{"nan", "a:\n  b: .nan\n", "a.b", 2},
		{"NaN", "a: .NaN\n", "a", 1},
		{"inf", "a: [1, .inf]\n", "a[1]", 1},
		{"minus inf", "a: -.Inf\n", "a", 1},
		{"null item", "a:\n  - x: 1\n  - ~\n", "a[1]", 3},
		{"null item in flow", "a: [null]\n", "a[0]", 1},
		{"key twice", "a: 1\na: 2\n", "a", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "f.yaml")
			var e *Error
			if !errors.As(err, &e) || e.File != "f.yaml" || e.Line != tc.line || e.Field != tc.field {
				t.Fatalf("Parse: %#v (%v); want an error at f.yaml:%d field %q", e, err, tc.line, tc.field)
			}
		})
	}
	for _, ok := range []string{"a: 1.5\n", "a: 1e3\n", "a: null\n", "a: []\n", "---\na: 1\n", "a: '.nan'\n"} {
		if _, err := Parse([]byte(ok), "f.yaml"); err != nil {
			t.Errorf("Parse(%q): %v", ok, err)
		}
	}
}

func TestFiniteFloat(t *testing.T) {
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if FiniteFloat(v) == nil {
			t.Errorf("FiniteFloat(%v) = nil", v)
		}
	}
	if err := FiniteFloat(0.5); err != nil {
		t.Error(err)
	}
}

func TestParseRefusesBrokenSecondDocument(t *testing.T) {
	_, err := Parse([]byte("a: 1\n---\na: [\n"), "f.yaml")
	var e *Error
	if !errors.As(err, &e) || e.File != "f.yaml" || e.Line == 0 {
		t.Fatalf("Parse: %#v (%v); want an error naming f.yaml and a line", e, err)
	}
}

type dur struct{ s string }

func (d *dur) UnmarshalYAML(n *yaml.Node) error {
	if n.Value != "ok" {
		return ValueError(n, "%q is not ok", n.Value)
	}
	d.s = n.Value
	return nil
}

// Every value a type refuses is reported at once, each with its line and
// its field.
func TestValueErrorsAllAtOnce(t *testing.T) {
	type doc struct {
		A dur   `yaml:"a"`
		B []dur `yaml:"b"`
		C dur   `yaml:"c"`
	}
	d, err := Parse([]byte("a: soon\nb: [ok, later]\nc: ok\n"), "f.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var v doc
	err = d.Decode(&v)
	var got []string
	for _, e := range errorsOf(err) {
		var se *Error
		if errors.As(e, &se) {
			got = append(got, fmt.Sprintf("%d %s", se.Line, se.Field))
		}
	}
	if want := []string{"1 a", "2 b[1]"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("errors at %v, want %v (%v)", got, want, err)
	}
}

func errorsOf(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestHas(t *testing.T) {
	d, err := Parse([]byte("lanes:\n  - name: a\n    token: ''\n  - name: b\n    empty: ~\n"), "f.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{
		"lanes[0].token": true, "lanes[1].token": false, "lanes[1].empty": true,
		"lanes[2].name": false, "lanes": true, "other": false,
	} {
		if got := d.Has(path); got != want {
			t.Errorf("Has(%q) = %v, want %v", path, got, want)
		}
	}
}
