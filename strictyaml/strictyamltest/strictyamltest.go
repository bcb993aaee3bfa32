// Package strictyamltest holds the check that the parsers built on
// strictyaml (config, sim's scenarios) share in their tests and fuzz
// targets: every error they give names its file, and its line or field.
// Only tests import it.
package strictyamltest

import (
	"errors"
	"strings"
	"testing"

	"github.com/hazgate/hazgate/strictyaml"
)

// Leaves are the errors joined in err (errors.Join, nested), or err alone.
func Leaves(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, Leaves(e)...)
		}
		return out
	}
	return []error{err}
}

// CheckNamed fails t unless each error in err, the refusal of data read as
// file, is a *strictyaml.Error that names the file and, once the YAML
// itself reads, a line or a field.
func CheckNamed(t testing.TB, err error, data []byte, file string) {
	t.Helper()
	_, syntax := strictyaml.Parse(data, file)
	for _, e := range Leaves(err) {
		var se *strictyaml.Error
		if !errors.As(e, &se) || se.File != file || !strings.HasPrefix(e.Error(), file+":") {
			t.Fatalf("Parse: error %q (%T) does not name the file", e, e)
		}
		if syntax == nil && se.Line <= 0 && se.Field == "" {
			t.Fatalf("Parse: error %q names neither a line nor a field", e)
		}
	}
}
