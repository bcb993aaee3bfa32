// Package simscanner is a simulated serial waybill scanner on a pty: the
// driver opens it by path as it opens a USB scanner, and each Scan writes
// one line, as the scanner does when a QR code is held under it.
//
// Only sim and tests import it.
package simscanner

import (
	"fmt"
	"time"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/device/scanner/scannertest"
	"github.com/hazgate/hazgate/sim/simpty"
)

// Scanner is one simulated scanner at a path.
type Scanner struct {
	port *simpty.Port
	fake *scannertest.Scanner
}

// New creates a scanner whose pty is reachable at path (a symlink, like the
// udev name /dev/hazgate-scanner-in1). Scans end with suffix ("" is CR LF).
func New(path, suffix string) (*Scanner, error) {
	port, err := simpty.New(path, nil)
	if err != nil {
		return nil, fmt.Errorf("simscanner: %w", err)
	}
	return &Scanner{port: port, fake: &scannertest.Scanner{W: port, Suffix: suffix}}, nil
}

// Path returns the path the driver opens.
func (s *Scanner) Path() string { return s.port.Path() }

// Scan writes one scan: a waybill number, or a URL or JSON carrying one
// (or garbage, to see it rejected). It fails while unplugged.
func (s *Scanner) Scan(payload string) error {
	if err := s.fake.Scan(payload); err != nil {
		return fmt.Errorf("simscanner: %w", err)
	}
	return nil
}

// Unplug removes the path and closes the pty.
func (s *Scanner) Unplug() error { return s.port.Unplug() }

// Plug creates a new pty under the same path.
func (s *Scanner) Plug() error { return s.port.Plug() }

// Close unplugs the scanner for good.
func (s *Scanner) Close() error { return s.port.Close() }

// Inject unplugs the scanner now and plugs it back after d on clk (d <= 0:
// until Plug): the scenario's fault kind "unplug" on a scanner.
func (s *Scanner) Inject(clk clock.Clock, kind string, d time.Duration) error {
	if kind != "unplug" {
		return fmt.Errorf("simscanner: unknown fault %q (unplug)", kind)
	}
	if err := s.Unplug(); err != nil {
		return err
	}
	if d > 0 {
		clk.AfterFunc(d, func() { _ = s.Plug() })
	}
	return nil
}
