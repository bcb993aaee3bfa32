package registry

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hazgate/hazgate/strictyaml"
)

// The YAML registry as a stream (`hazgate registry import` of a YAML
// file): strict YAML decoding (strictyaml) holds the whole document as a
// node tree, about 25 times the file's size, so a large registry is read
// section by section and its lists record by record. A section is a
// top-level key and what follows it up to the next top-level key; a list
// written in block style ("- " items, one record each) is cut into its
// items, and each item is decoded strictly on its own (unknown keys, a key
// given twice, a null item, a number that is not finite: refused, the
// error naming the file, the line and the field, as registry.Decode does).
// Any other section (version, synced_at, a list written in flow style such
// as "blacklist: []") is decoded whole, strictly; it may not exceed
// maxYAMLSection, nor may one record.

// maxYAMLSection bounds what the YAML stream holds at once: one record of
// a block list, or a section that is not one.
const maxYAMLSection = 1 << 20

// StreamYAML is StreamJSON for a registry in YAML: it reads the document
// as a stream, as strictly as Decode, validates it record by record with
// Snapshot.Validate's rules, and gives each valid record to sink, never
// holding the snapshot. Every error names the file, the line and the
// field.
func StreamYAML(r io.Reader, file string, sink Sink) (Head, error) {
	var h Head
	v := newStreamValidator()
	var lines []int // the line of each of v.ps
	var sinkErr error
	var cur *yamlItem
	give := func(list string, i int, ok bool, f func() error) error {
		for _, p := range v.ps[len(lines):] {
			lines = append(lines, cur.line(list, i, p.Field))
		}
		if ok && len(v.ps) == 0 && sinkErr == nil {
			sinkErr = f()
			return sinkErr
		}
		return nil
	}
	hs := validatingHandlers(&h, v, sink, give)
	err := walkYAML(r, file, &h.Version, &h.SyncedAt, hs, func(it *yamlItem) { cur = it })
	if sinkErr != nil {
		return h, sinkErr
	}
	if err != nil {
		return h, err
	}
	if len(v.ps) > 0 {
		errs := make([]error, len(v.ps))
		for i, p := range v.ps {
			errs[i] = &strictyaml.Error{File: file, Line: lines[i], Field: p.Field, Msg: p.Msg}
		}
		return h, errors.Join(errs...)
	}
	return h, nil
}

// WalkYAML is WalkJSON for a registry in YAML: every record to sink, as
// strictly decoded as by StreamYAML, without validating them (for a
// document StreamYAML has validated, read again).
func WalkYAML(r io.Reader, file string, sink Sink) (Head, error) {
	var h Head
	hs := walkHandlers(&h, sink)
	err := walkYAML(r, file, &h.Version, &h.SyncedAt, hs, func(*yamlItem) {})
	return h, err
}

// yamlItem is the record or section being decoded: its document, and the
// line of the file its first line is.
type yamlItem struct {
	doc   *strictyaml.Doc
	first int
	// prefix is what the document's paths start with ("[0]" for a
	// record cut from its list, "" for a section decoded whole).
	prefix string
}

// line is the file's line of field (as "vehicles[3].plate") of record i
// of list.
func (it *yamlItem) line(list string, i int, field string) int {
	if it == nil || it.doc == nil {
		return 0
	}
	path := field
	if it.prefix != "" {
		path = it.prefix + strings.TrimPrefix(field, fmt.Sprintf("%s[%d]", list, i))
	}
	if l := it.doc.Line(path); l > 0 {
		return it.first - 1 + l
	}
	return 0
}

// yamlLine is one line of the document, without its end.
type yamlLine struct {
	text string
	n    int // its number, from 1
}

// indent is the number of spaces the line starts with, and whether it
// holds nothing but (perhaps) a comment.
func (l yamlLine) indent() (int, bool) {
	t := strings.TrimLeft(l.text, " ")
	return len(l.text) - len(t), t == "" || t[0] == '#' || strings.TrimSpace(t) == ""
}

// walkYAML reads a snapshot in YAML, strictly, into version and syncedAt
// and, record by record, h; at tells which record or section is being
// decoded (for the lines of the problems the handlers find).
func walkYAML(r io.Reader, file string, version *int64, syncedAt *Validity, h handlers, at func(*yamlItem)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	n := 0
	var pending *yamlLine // a line read but not yet taken
	next := func() (yamlLine, bool, error) {
		if pending != nil {
			l := *pending
			pending = nil
			return l, true, nil
		}
		var sb strings.Builder
		for {
			part, isPrefix, err := br.ReadLine()
			if err == io.EOF && sb.Len() == 0 {
				return yamlLine{}, false, nil
			}
			if err != nil && err != io.EOF {
				return yamlLine{}, false, err
			}
			if sb.Len()+len(part) > maxYAMLSection {
				return yamlLine{}, false, &strictyaml.Error{File: file, Line: n + 1, Msg: fmt.Sprintf("a line over %d KiB", maxYAMLSection>>10)}
			}
			sb.Write(part)
			if !isPrefix || err == io.EOF {
				break
			}
		}
		n++
		text := sb.String()
		if n == 1 {
			text = strings.TrimPrefix(text, "\ufeff")
		}
		return yamlLine{text: text, n: n}, true, nil
	}
	fail := func(line int, field, msg string) error {
		return &strictyaml.Error{File: file, Line: line, Field: field, Msg: msg}
	}
	seen := map[string]int{}
	started := false // a "---" or a section seen
	sections := false
doc:
	for {
		l, ok, err := next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if ind, blank := l.indent(); blank {
			continue
		} else if ind > 0 {
			return fail(l.n, "", "indented, where a top-level key (vehicles:, persons:, ...) belongs")
		}
		switch {
		case l.text == "---" || strings.HasPrefix(l.text, "--- ") || strings.HasPrefix(l.text, "---\t"):
			if started {
				// The line of what the second document says, as Decode
				// names it.
				at := l.n
				for {
					m, ok, err := next()
					if err != nil || !ok {
						break
					}
					if _, blank := m.indent(); !blank {
						at = m.n
						break
					}
				}
				return fail(at, "", "a second YAML document (after ---): a file holds one document")
			}
			if strings.TrimSpace(strings.TrimPrefix(l.text, "---")) != "" && !strings.HasPrefix(strings.TrimSpace(strings.TrimPrefix(l.text, "---")), "#") {
				return fail(l.n, "", "a document written on its --- line: write each top-level key on a line of its own")
			}
			started = true
			continue
		case l.text == "..." || strings.HasPrefix(l.text, "... "):
			// The end of the document: nothing but comments may follow.
			for {
				m, ok, err := next()
				if err != nil {
					return err
				}
				if !ok {
					break
				}
				if _, blank := m.indent(); !blank {
					return fail(m.n, "", "a second YAML document (after ...): a file holds one document")
				}
			}
			break doc
		case strings.HasPrefix(l.text, "%"):
			return fail(l.n, "", "a YAML directive (%...): not taken in a registry file")
		case strings.HasPrefix(l.text, "-") || strings.HasPrefix(l.text, "[") || strings.HasPrefix(l.text, "{") || strings.HasPrefix(l.text, "\"") || strings.HasPrefix(l.text, "'"):
			return fail(l.n, "", "a registry file is a mapping of top-level keys (vehicles:, persons:, ...) written in block style, one on a line of its own (JSON is read as JSON when the file starts with {)")
		}
		started = true
		key, rest, found := strings.Cut(l.text, ":")
		if !found || key == "" || strings.ContainsAny(key, " \t#&*!|>'\"%@`,[]{}") || (rest != "" && rest[0] != ' ' && rest[0] != '\t') {
			return fail(l.n, "", fmt.Sprintf("%q: a top-level key (vehicles:, persons:, ...) belongs here", l.text))
		}
		if first, dup := seen[key]; dup {
			return fail(l.n, key, fmt.Sprintf("key given twice (first on line %d)", first))
		}
		seen[key] = l.n
		sections = true
		list := map[string]bool{"vehicles": true, "tanks": true, "persons": true, "waybills": true, "blacklist": true, "appointments": true}[key]
		var buf bytes.Buffer
		buf.WriteString(l.text)
		buf.WriteByte('\n')
		if list && (key != "appointments" || h.appointment != nil) && strings.TrimSpace(stripComment(rest)) == "" {
			// A block list, or an empty one: its items one at a time.
			// A list written in flow style on the lines after its key
			// comes back (what was read of it) to be read whole.
			flowed, err := walkYAMLList(file, key, l, next, func(m yamlLine) { pending = &m }, h, at)
			if err != nil {
				return err
			}
			if flowed == nil {
				continue
			}
			buf.Write(flowed)
		}
		// Any other section, whole: its key line and every line after it
		// that is indented, blank or a comment.
		for {
			m, ok, err := next()
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			if ind, blank := m.indent(); !blank && ind == 0 && !strings.HasPrefix(m.text, "#") {
				pending = &m
				break
			}
			if buf.Len()+len(m.text) > maxYAMLSection {
				return fail(l.n, key, fmt.Sprintf("over %d KiB written as one value: write a list in block style, one \"- \" item per record", maxYAMLSection>>10))
			}
			buf.WriteString(m.text)
			buf.WriteByte('\n')
		}
		if err := decodeYAMLSection(file, l.n, buf.Bytes(), version, syncedAt, h, at); err != nil {
			return err
		}
	}
	if !sections {
		return fail(0, "", "empty document")
	}
	return nil
}

// stripComment is s without a trailing " # comment".
func stripComment(s string) string {
	if i := strings.Index(s, " #"); i >= 0 {
		return s[:i]
	}
	if strings.HasPrefix(strings.TrimSpace(s), "#") {
		return ""
	}
	return s
}

// decodeYAMLSection decodes one top-level section, whole and strictly, as
// a snapshot holding only it; first is the file's line of its first line.
func decodeYAMLSection(file string, first int, data []byte, version *int64, syncedAt *Validity, h handlers, at func(*yamlItem)) error {
	doc, err := strictyaml.Parse(data, file)
	if err != nil {
		return shiftYAML(err, first, "", "")
	}
	var s Snapshot
	if err := doc.Decode(&s); err != nil {
		return shiftYAML(err, first, "", "")
	}
	if h.appointment == nil && doc.Has("appointments") {
		return &strictyaml.Error{File: file, Line: first, Field: "appointments", Msg: "unknown field"}
	}
	if doc.Has("version") {
		*version = s.Version
	}
	if doc.Has("synced_at") {
		*syncedAt = s.SyncedAt
	}
	at(&yamlItem{doc: doc, first: first})
	return each(s, h)
}

// each hands every record of s to h, in order.
func each(s Snapshot, h handlers) error {
	for _, f := range []func() error{
		func() error { return eachOf(s.Vehicles, h.vehicle) },
		func() error { return eachOf(s.Tanks, h.tank) },
		func() error { return eachOf(s.Persons, h.person) },
		func() error { return eachOf(s.Waybills, h.waybill) },
		func() error { return eachOf(s.Blacklist, h.blacklist) },
		func() error { return eachOf(s.Appointments, h.appointment) },
	} {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}

// eachOf hands every record of rs to f, with its index, until f fails.
func eachOf[T any](rs []T, f func(int, T) error) error {
	for i, r := range rs {
		if err := f(i, r); err != nil {
			return err
		}
	}
	return nil
}

// walkYAMLList reads the block list that follows key's line l, item by
// item, giving each record to h; the first line after the list goes back
// through unread. When what follows the key is not a block list, it
// returns the lines it read (for the section to be read whole).
func walkYAMLList(file, key string, l yamlLine, next func() (yamlLine, bool, error), unread func(yamlLine), h handlers, at func(*yamlItem)) ([]byte, error) {
	dash := -1 // the items' indentation, once the first is seen
	i := 0
	var item, before bytes.Buffer
	first := 0
	flush := func() error {
		if item.Len() == 0 {
			return nil
		}
		defer func() { item.Reset(); i++ }()
		return decodeYAMLItem(file, key, i, first, item.Bytes(), h, at)
	}
	for {
		m, ok, err := next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		ind, blank := m.indent()
		if blank {
			if item.Len() > 0 {
				item.WriteString(m.text)
				item.WriteByte('\n')
			} else if dash < 0 {
				before.WriteString(m.text)
				before.WriteByte('\n')
			}
			continue
		}
		body := m.text[ind:]
		isDash := body == "-" || strings.HasPrefix(body, "- ")
		if ind == 0 && !isDash {
			unread(m) // the next top-level key
			break
		}
		if dash < 0 {
			if !isDash {
				before.WriteString(m.text)
				before.WriteByte('\n')
				return before.Bytes(), nil
			}
			dash = ind
		}
		if ind < dash {
			return nil, &strictyaml.Error{File: file, Line: m.n, Field: fmt.Sprintf("%s[%d]", key, i), Msg: "indented less than the list's items"}
		}
		if ind == dash && isDash {
			if err := flush(); err != nil {
				return nil, err
			}
			first = m.n
		} else if ind == dash {
			return nil, &strictyaml.Error{File: file, Line: m.n, Field: fmt.Sprintf("%s[%d]", key, i), Msg: "not a \"- \" item, where the list's items are"}
		}
		if item.Len()+len(m.text) > maxYAMLSection {
			return nil, &strictyaml.Error{File: file, Line: first, Field: fmt.Sprintf("%s[%d]", key, i), Msg: fmt.Sprintf("a record over %d KiB", maxYAMLSection>>10)}
		}
		item.WriteString(m.text)
		item.WriteByte('\n')
	}
	return nil, flush()
}

// decodeYAMLItem decodes the i-th item of list key, whose text (starting
// with its "- ") begins on the file's line first, strictly, and hands it to
// h.
func decodeYAMLItem(file, key string, i, first int, data []byte, h handlers, at func(*yamlItem)) error {
	doc, err := strictyaml.Parse(data, file)
	field := fmt.Sprintf("%s[%d]", key, i)
	if err != nil {
		return shiftYAML(err, first, "[0]", field)
	}
	one := func(n int) error {
		if n != 1 {
			return &strictyaml.Error{File: file, Line: first, Field: field, Msg: "not one record"}
		}
		at(&yamlItem{doc: doc, first: first, prefix: "[0]"})
		return nil
	}
	decode := func(v any) error {
		if err := doc.Decode(v); err != nil {
			return shiftYAML(err, first, "[0]", field)
		}
		return nil
	}
	switch key {
	case "vehicles":
		return decodeOne(decode, one, i, h.vehicle)
	case "tanks":
		return decodeOne(decode, one, i, h.tank)
	case "persons":
		return decodeOne(decode, one, i, h.person)
	case "waybills":
		return decodeOne(decode, one, i, h.waybill)
	case "blacklist":
		return decodeOne(decode, one, i, h.blacklist)
	case "appointments":
		return decodeOne(decode, one, i, h.appointment)
	}
	return fmt.Errorf("registry: no list %q", key)
}

func decodeOne[T any](decode func(any) error, one func(int) error, i int, take func(int, T) error) error {
	var recs []T
	if err := decode(&recs); err != nil {
		return err
	}
	if err := one(len(recs)); err != nil {
		return err
	}
	return take(i, recs[0])
}

// shiftYAML moves the lines of a section's or a record's errors to the
// file's (the section began on line first) and their fields from prefix
// to field.
func shiftYAML(err error, first int, prefix, field string) error {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		var se *strictyaml.Error
		if !errors.As(e, &se) {
			continue
		}
		if se.Line > 0 {
			se.Line += first - 1
		}
		switch {
		case prefix != "" && strings.HasPrefix(se.Field, prefix):
			se.Field = field + strings.TrimPrefix(se.Field, prefix)
		case prefix != "" && se.Field == "":
			se.Field = field
		}
	}
	return err
}
