// Package scannertest is a fake serial waybill scanner: it writes scans as
// lines on any io.Writer (a pipe in tests, a pty in the simulator).
//
// It imports nothing of ours; only tests and sim/simscanner import it.
package scannertest

import (
	"io"
	"sync"
)

// Scanner writes scans to W, each followed by Suffix.
type Scanner struct {
	mu sync.Mutex
	// W is where the scans go.
	W io.Writer
	// Suffix ends each scan (default "\r\n"; many scanners send "\r").
	Suffix string
	// Scans counts the scans written.
	Scans int
}

// Scan writes one scan.
func (s *Scanner) Scan(payload string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	suffix := s.Suffix
	if suffix == "" {
		suffix = "\r\n"
	}
	if _, err := io.WriteString(s.W, payload+suffix); err != nil {
		return err
	}
	s.Scans++
	return nil
}
