package sim

import (
	"bytes"
	"io"

	"github.com/hazgate/hazgate/registry"
)

// A scenario's registry, read as a stream. Strict YAML decoding holds the
// whole document as a node tree, about 25 times the file's size: a
// scenario with a city's registry (10 000 vehicles, 2 MB) held some 50 MiB
// of it while it was read, more than the whole gate then holds while its
// lanes run. So Parse cuts the top-level registry: section, when it is
// written in block style (a "registry:" line and its records on the
// indented lines below), out of the scenario: the rest is parsed as
// before, with "registry: {}" on the section's line and its other lines
// blank (every other line keeps its number), and the section is read by
// registry.StreamYAML, which cuts its lists into their records and decodes
// and validates each strictly on its own, as `hazgate registry import`
// reads a YAML file.
//
// Whatever does not fit that shape, and any scenario that either part
// refuses, is parsed whole, as it always was: the errors are then those
// of the whole parse, with the scenario file, the line and the field
// (registry.vehicles[3].plate), joined with the rest's, and a registry
// that the records' stream cannot read on its own (an alias to an anchor
// in another record) is still read. Only a registry that the stream takes
// is ever taken from it; the parse it stands for would have given the
// same scenario (TestStreamedRegistryAsWhole, on every scenario of
// testdata and thousands of variants of their registries, and
// FuzzStreamedRegistryAsWhole). The price is on refused scenarios alone:
// read twice, the second time whole, with the whole parse's memory.

// registryCut is a scenario's registry: section, cut out.
type registryCut struct {
	rest   []byte // the scenario with the section replaced
	body   []byte // the section's lines after its key line, as written
	indent int    // the spaces the section's keys are indented by
	line   int    // the file's line of the "registry:" key
}

// cutRegistry finds the top-level registry: section written in block
// style; false when there is none, or it is written otherwise (flow style,
// a quoted key, given twice, indented by a tab or unevenly).
func cutRegistry(data []byte) (registryCut, bool) {
	var c registryCut
	start, end := -1, -1 // the body's byte offsets
	n := 0
	for off := 0; off < len(data); {
		next := bytes.IndexByte(data[off:], '\n')
		if next < 0 {
			next = len(data)
		} else {
			next += off + 1
		}
		line := bytes.TrimRight(data[off:next], "\r\n")
		n++
		ind, blank := yamlIndent(line)
		switch {
		case start >= 0 && end < 0 && (blank || ind > 0):
			// In the section.
			if !blank && (c.indent == 0 || ind < c.indent) {
				if c.indent != 0 {
					return c, false // indented less than its first key
				}
				c.indent = ind
			}
		case start >= 0 && end < 0:
			end = off
		}
		if !blank && ind == 0 && isRegistryKey(line) {
			if start >= 0 {
				return c, false // given twice: the whole parse says where
			}
			c.line, start = n, next
		}
		off = next
	}
	if start < 0 || c.indent == 0 {
		return c, false // none, or an empty section
	}
	if end < 0 {
		end = len(data)
	}
	c.body = data[start:end]
	rest := make([]byte, 0, len(data)-len(c.body)+32)
	keyStart := bytes.LastIndexByte(data[:start-1], '\n') + 1
	rest = append(rest, data[:keyStart]...)
	rest = append(rest, "registry: {}\n"...)
	rest = append(rest, bytes.Repeat([]byte{'\n'}, bytes.Count(c.body, []byte{'\n'}))...)
	if len(c.body) > 0 && c.body[len(c.body)-1] != '\n' {
		rest = append(rest, '\n')
	}
	c.rest = append(rest, data[end:]...)
	return c, true
}

// yamlIndent is the number of spaces line starts with, and whether it holds
// nothing but white space or a comment.
func yamlIndent(line []byte) (int, bool) {
	t := bytes.TrimLeft(line, " ")
	rest := bytes.TrimSpace(t)
	return len(line) - len(t), len(rest) == 0 || rest[0] == '#'
}

// isRegistryKey reports whether line is "registry:" with nothing after it
// but white space and a comment.
func isRegistryKey(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, []byte("registry:"))
	if !ok {
		return false
	}
	rest = bytes.TrimSpace(rest)
	return len(rest) == 0 || (rest[0] == '#' && len(rest) < len(line)-len("registry:"))
}

// stream reads the cut section's records, strictly and validated, into a
// snapshot (an error's lines are the section's, from its first key: Parse
// reports the whole parse's instead).
func (c registryCut) stream(file string) (registry.Snapshot, error) {
	var s registry.Snapshot
	sink := registry.Sink{
		Vehicle:     func(_ int, r registry.Vehicle) error { s.Vehicles = append(s.Vehicles, r); return nil },
		Tank:        func(_ int, r registry.Tank) error { s.Tanks = append(s.Tanks, r); return nil },
		Person:      func(_ int, r registry.Person) error { s.Persons = append(s.Persons, r); return nil },
		Waybill:     func(_ int, r registry.Waybill) error { s.Waybills = append(s.Waybills, r); return nil },
		Blacklist:   func(_ int, r registry.BlacklistEntry) error { s.Blacklist = append(s.Blacklist, r); return nil },
		Appointment: func(_ int, r registry.Appointment) error { s.Appointments = append(s.Appointments, r); return nil },
	}
	h, err := registry.StreamYAML(&dedent{data: c.body, n: c.indent}, file, sink)
	if err != nil {
		return registry.Snapshot{}, err
	}
	s.Version, s.SyncedAt = h.Version, h.SyncedAt
	return s, nil
}

// dedent reads data with n spaces taken off the start of each line (the
// lines that start with fewer are blank or comments, which lose theirs).
type dedent struct {
	data []byte
	n    int
	line []byte // what is left of the line being read
}

func (d *dedent) Read(p []byte) (int, error) {
	for len(d.line) == 0 {
		if len(d.data) == 0 {
			return 0, io.EOF
		}
		i := bytes.IndexByte(d.data, '\n') + 1
		if i == 0 {
			i = len(d.data)
		}
		d.line, d.data = d.data[:i], d.data[i:]
		ind, _ := yamlIndent(d.line)
		d.line = d.line[min(ind, d.n):]
	}
	k := copy(p, d.line)
	d.line = d.line[k:]
	return k, nil
}
