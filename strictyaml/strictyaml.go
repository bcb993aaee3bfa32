// Package strictyaml decodes YAML (and JSON, which is YAML) strictly: unknown
// keys are errors, and every error names the file, the line and the field.
//
// It imports nothing of ours; config, registry and sim may import it.
package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Doc is a parsed document that can point at the line of any field.
type Doc struct {
	File string
	root *yaml.Node
}

// Error is a problem in a document: the file, the line (0 when unknown), the
// field path (empty when unknown) and what is wrong.
type Error struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Parse reads one YAML or JSON document. A second document in the same
// file is refused, not ignored: whatever it says would otherwise be lost
// without a word.
func Parse(data []byte, file string) (*Doc, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Msg: "empty document"}
		}
		return nil, wrap(file, err)
	}
	var second yaml.Node
	switch err := dec.Decode(&second); {
	case err == nil:
		return nil, &Error{File: file, Line: docLine(&second), Msg: "a second YAML document (after ---): a file holds one document"}
	case !errors.Is(err, io.EOF):
		e := wrap(file, err)
		var se *Error
		if errors.As(e, &se) {
			se.Msg = "a file holds one document, and a second one (after ---) does not parse: " + se.Msg
		}
		return nil, e
	}
	if err := checkNodes(&root, ""); err != nil {
		err.File = file
		return nil, err
	}
	return &Doc{File: file, root: &root}, nil
}

func docLine(n *yaml.Node) int {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return n.Content[0].Line
	}
	return n.Line
}

// IsFinite reports whether v is a number: neither NaN nor an infinity.
func IsFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// FiniteFloat refuses NaN and the infinities: a threshold or a quantity
// that is not a number makes every comparison with it false, which would
// switch a check off. Every float that reaches hazgate from a file or the
// wire goes through it (Parse applies it to every YAML float).
func FiniteFloat(v float64) error {
	if !IsFinite(v) {
		return fmt.Errorf("%v is not a finite number", v)
	}
	return nil
}

// Decode decodes the document into v, refusing unknown keys.
func (d *Doc) Decode(v any) error {
	return d.decodeNode(d.root, v)
}

func (d *Doc) decodeNode(n *yaml.Node, v any) error {
	// yaml.Node.Decode has no KnownFields switch; re-encoding would lose the
	// file's lines, so unknown keys are found by walking the node against the
	// target type first.
	if err := knownFields(n, v, ""); err != nil {
		err.File = d.File
		return err
	}
	if err := n.Decode(v); err != nil {
		return d.withFields(wrap(d.File, err))
	}
	return nil
}

// ValueError is what a type's UnmarshalYAML returns for a value it cannot
// take (a duration, a date, an offset): an error of the decoder's own kind,
// so that decoding goes on and every such value in the file is reported at
// once, each with its line and (by Decode) its field.
func ValueError(n *yaml.Node, format string, args ...any) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %s", n.Line, fmt.Sprintf(format, args...))}}
}

// withFields names the field of decode errors that carry only a line: a
// value's own UnmarshalYAML knows its line but not its path. When several
// values share the line, the one the message quotes is meant.
func (d *Doc) withFields(err error) error {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		var se *Error
		if errors.As(e, &se) && se.Field == "" && se.Line > 0 {
			se.Field = fieldAt(d.root, se.Line, se.Msg)
		}
	}
	return err
}

// fieldAt returns the path of the scalar value on line that msg quotes, or
// the only scalar value on that line; "" when it cannot tell.
func fieldAt(root *yaml.Node, line int, msg string) string {
	type hit struct{ path, value string }
	var hits []hit
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", path, i))
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				walk(n.Content[i+1], join(path, n.Content[i].Value))
			}
		case yaml.ScalarNode:
			if n.Line == line && path != "" {
				hits = append(hits, hit{path, n.Value})
			}
		}
	}
	walk(root, "")
	if len(hits) == 1 {
		return hits[0].path
	}
	for _, h := range hits {
		if strings.Contains(msg, strconv.Quote(h.value)) {
			return h.path
		}
	}
	return ""
}

// Errorf makes an Error for the field at path ("registry.vehicles[0].plate"),
// with the line of that field, or of its nearest parent present in the file.
func (d *Doc) Errorf(path string, format string, args ...any) error {
	return &Error{File: d.File, Line: d.Line(path), Field: path, Msg: fmt.Sprintf(format, args...)}
}

// Has reports whether the document writes the field at path (null
// included): a key left out and a key written empty are told apart.
func (d *Doc) Has(path string) bool {
	n := d.root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, part := range splitPath(path) {
		if n = child(n, part); n == nil {
			return false
		}
	}
	return true
}

// Line returns the line of the field at path, or of the nearest parent that
// exists; 0 when nothing matches.
func (d *Doc) Line(path string) int {
	n := d.root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, part := range splitPath(path) {
		next := child(n, part)
		if next == nil {
			return line
		}
		n = next
		line = n.Line
	}
	return line
}

var indexRe = regexp.MustCompile(`^(.*)\[(\d+)\]$`)

func splitPath(path string) []string {
	var out []string
	for _, p := range strings.Split(path, ".") {
		if p == "" {
			continue
		}
		var idx []string
		for {
			m := indexRe.FindStringSubmatch(p)
			if m == nil {
				break
			}
			idx = append([]string{"[" + m[2]}, idx...)
			p = m[1]
		}
		if p != "" {
			out = append(out, p)
		}
		out = append(out, idx...)
	}
	return out
}

func child(n *yaml.Node, part string) *yaml.Node {
	if strings.HasPrefix(part, "[") {
		i, err := strconv.Atoi(part[1:])
		if err != nil || n.Kind != yaml.SequenceNode || i >= len(n.Content) {
			return nil
		}
		return n.Content[i]
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == part {
			// Point at the value, except for a block that starts on the next
			// line: then the key's line is the one a person looks for.
			v := n.Content[i+1]
			if v.Kind == yaml.ScalarNode || v.Line == n.Content[i].Line {
				return v
			}
			k := *v
			k.Line = n.Content[i].Line
			return &k
		}
	}
	return nil
}

// lineRe splits "line N: msg"; msg may span lines (it can quote a
// multi-line value).
var lineRe = regexp.MustCompile(`^(?:yaml: )?line (\d+): ((?s).*)$`)

// wrap turns a yaml error into Errors that carry the file name.
func wrap(file string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		var errs []error
		for _, e := range te.Errors {
			errs = append(errs, lineError(file, e))
		}
		return errors.Join(errs...)
	}
	return lineError(file, err.Error())
}

func lineError(file, msg string) error {
	msg = strings.TrimPrefix(msg, "yaml: ")
	if m := lineRe.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: file, Line: line, Msg: m[2]}
	}
	return &Error{File: file, Msg: msg}
}

// checkNodes refuses what yaml.v3 would accept but hazgate must not: a key
// given twice, a list item that is null (it would decode as an empty
// record and vanish or pass for one), and a float that is not finite.
func checkNodes(n *yaml.Node, path string) *Error {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if err := checkNodes(c, path); err != nil {
				return err
			}
		}
	case yaml.ScalarNode:
		if n.ShortTag() == "!!float" {
			var f float64
			if err := n.Decode(&f); err == nil {
				if err := FiniteFloat(f); err != nil {
					return &Error{Line: n.Line, Field: path, Msg: fmt.Sprintf("%q is not a finite number", n.Value)}
				}
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			if c.Kind == yaml.ScalarNode && c.ShortTag() == "!!null" {
				return &Error{Line: c.Line, Field: p, Msg: "an empty (null) item"}
			}
			if err := checkNodes(c, p); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			p := join(path, k)
			if seen[k] {
				return &Error{Line: n.Content[i].Line, Field: p, Msg: "key given twice"}
			}
			seen[k] = true
			if err := checkNodes(n.Content[i+1], p); err != nil {
				return err
			}
		}
	}
	return nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
