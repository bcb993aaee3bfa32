package store

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hazgate/hazgate/registry"
)

// ImportFile reads a registry file (YAML or JSON, strictly: errors name the
// file, the field and, in YAML, the line) and imports it as ImportJSON
// does: read twice as a stream, validated record by record, written record
// by record in one transaction, never held whole, so that a city's
// registry is imported in the memory of a small board (docs/benchmarks.md,
// "Footprint"). A file that starts with '{' is JSON (registry.StreamJSON);
// any other, YAML (registry.StreamYAML: a mapping of top-level keys whose
// large lists are written in block style, one "- " item per record). The
// file must not change while it is imported (its hash is compared between
// the two readings). A bad file changes nothing.
func (s *Store) ImportFile(ctx context.Context, path string, now time.Time, opts ...ImportOption) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("store: import: %w", err)
	}
	defer f.Close()
	stream, walk := registry.StreamYAML, registry.WalkYAML
	if startsJSON(bufio.NewReader(io.NewSectionReader(f, 0, 1<<62))) {
		stream, walk = registry.StreamJSON, registry.WalkJSON
	}
	open := func() io.Reader { return bufio.NewReaderSize(io.NewSectionReader(f, 0, 1<<62), 64<<10) }
	return s.importStream(ctx, open, stream, walk, path, path, 0, now, opts...)
}

// startsJSON reports whether the first character after white space is '{'
// (a file with a byte-order mark goes the YAML way, which reads it).
func startsJSON(br *bufio.Reader) bool {
	for i := 1; ; i++ {
		b, err := br.Peek(i)
		if err != nil {
			return false
		}
		switch c := b[i-1]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
		default:
			return c == '{'
		}
	}
}
