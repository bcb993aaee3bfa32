// Package serialport opens the gate's serial devices (the ID-card reader and
// the waybill scanner) through github.com/tarm/serial. It is the only file in
// hazgate that knows tarm/serial.
//
// tarm/serial has no flow control and reports both a read timeout and a
// vanished USB adapter as io.EOF. Port hides the timeouts (a Read blocks until
// bytes arrive) and turns a vanished device node into ErrUnplugged, so the
// drivers above see a plain byte stream that ends only when the device is gone
// or the port is closed.
//
// It imports nothing of ours; appliance, sim and cmd/hazgate (`idcard read`)
// may import it.
package serialport

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tarm/serial"
)

// ErrUnplugged is returned by Read and Write once the device node has
// vanished or been replaced by another device (a USB adapter unplugged, or
// plugged back under the same udev name).
var ErrUnplugged = errors.New("serialport: device unplugged")

// ErrClosed is returned by Read and Write after Close.
var ErrClosed = errors.New("serialport: port closed")

// pollTimeout bounds each read so that Close and an unplug are noticed even
// while the device is silent (tarm/serial's smallest timeout is 0.1 s).
const pollTimeout = 100 * time.Millisecond

// Port is an open serial port.
type Port struct {
	path   string
	port   *serial.Port
	dev    uint64
	ino    uint64
	closed atomic.Bool
}

// Open opens path (a device node or a udev symlink to one) at baud, 8N1.
func Open(path string, baud int) (*Port, error) {
	p, err := serial.OpenPort(&serial.Config{Name: path, Baud: baud, ReadTimeout: pollTimeout})
	if err != nil {
		return nil, fmt.Errorf("serialport: open %s at %d baud: %w", path, baud, err)
	}
	port := &Port{path: path, port: p}
	port.dev, port.ino, _ = identity(path)
	return port, nil
}

// Path returns the path the port was opened with.
func (p *Port) Path() string { return p.path }

// Gone reports whether the device node has vanished or now names another
// device than the one that was opened.
func (p *Port) Gone() bool {
	dev, ino, err := identity(p.path)
	return err != nil || dev != p.dev || ino != p.ino
}

// Read reads at least one byte. Silence is not an error: Read keeps waiting
// until bytes arrive, the device is unplugged (ErrUnplugged) or the port is
// closed (ErrClosed).
func (p *Port) Read(b []byte) (int, error) {
	fast := 0
	for {
		start := time.Now()
		n, err := p.port.Read(b)
		if n > 0 {
			return n, nil
		}
		if p.closed.Load() {
			return 0, ErrClosed
		}
		if p.Gone() {
			return 0, fmt.Errorf("%w: %s", ErrUnplugged, p.path)
		}
		if err != nil && !errors.Is(err, io.EOF) {
			// EIO and friends: the adapter went away, even if a new one
			// already came back under the same number.
			return 0, fmt.Errorf("%w: read %s: %v", ErrUnplugged, p.path, err)
		}
		// A timeout takes pollTimeout; a hung-up line returns at once,
		// again and again. Treat a run of instant EOFs as a hang-up.
		if time.Since(start) < pollTimeout/10 {
			fast++
			if fast >= 20 {
				return 0, fmt.Errorf("%w: %s hung up", ErrUnplugged, p.path)
			}
		} else {
			fast = 0
		}
	}
}

// Write writes b.
func (p *Port) Write(b []byte) (int, error) {
	if p.closed.Load() {
		return 0, ErrClosed
	}
	n, err := p.port.Write(b)
	if err != nil {
		if p.Gone() {
			return n, fmt.Errorf("%w: %s", ErrUnplugged, p.path)
		}
		return n, fmt.Errorf("serialport: write %s: %w", p.path, err)
	}
	return n, nil
}

// Flush discards bytes received but not read and bytes written but not sent.
func (p *Port) Flush() error { return p.port.Flush() }

// Close closes the port; a Read in progress returns ErrClosed within the
// poll timeout.
func (p *Port) Close() error {
	if p.closed.Swap(true) {
		return nil
	}
	return p.port.Close()
}

// identity returns the device and inode that path resolves to; for a device
// node the device number it stands for is part of it.
func identity(path string) (dev, ino uint64, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, 0, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, nil
	}
	return uint64(st.Rdev) ^ uint64(st.Dev)<<32, uint64(st.Ino), nil
}
