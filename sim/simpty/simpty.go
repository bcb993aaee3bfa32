// Package simpty is a simulated USB serial device: a pty whose slave side is
// reachable under a stable path (a symlink, as udev gives real devices), that
// can be unplugged (the pty closed, the path removed) and plugged back (a new
// pty under the same path). The simulated reader and scanner build on it.
//
// It imports nothing of ours; only sim/simreader, sim/simscanner and tests
// import it.
package simpty

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// ErrUnplugged is returned by Write while the device is unplugged.
var ErrUnplugged = errors.New("simpty: unplugged")

// Port is one simulated serial device.
type Port struct {
	path  string
	serve func(ctx context.Context, rw io.ReadWriter) error

	mu     sync.Mutex
	master *os.File
	tty    *os.File // held open so the pty lives while no driver has it open
	served chan struct{}
	closed bool
}

// New creates a device at path, plugged in. serve, when not nil, runs on
// the pty's master side (the device's end) from each plugging until the
// unplugging; it must return when reads fail.
func New(path string, serve func(ctx context.Context, rw io.ReadWriter) error) (*Port, error) {
	p := &Port{path: path, serve: serve}
	if err := p.Plug(); err != nil {
		return nil, err
	}
	return p, nil
}

// Path returns the path the driver opens.
func (p *Port) Path() string { return p.path }

// Plug creates a new pty and points the path at it; plugging a plugged
// device does nothing.
func (p *Port) Plug() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errors.New("simpty: closed")
	}
	if p.master != nil {
		return nil
	}
	master, tty, err := openPty()
	if err != nil {
		return fmt.Errorf("simpty: open pty: %w", err)
	}
	tmp := p.path + ".new"
	os.Remove(tmp)
	if err = os.Symlink(tty.Name(), tmp); err == nil {
		err = os.Rename(tmp, p.path)
	}
	if err != nil {
		master.Close()
		tty.Close()
		return fmt.Errorf("simpty: link %s: %w", p.path, err)
	}
	p.master, p.tty = master, tty
	served := make(chan struct{})
	p.served = served
	go func() {
		defer close(served)
		if p.serve != nil {
			p.serve(context.Background(), master)
		}
	}()
	return nil
}

// Unplug removes the path and closes the pty, as pulling the USB plug does:
// the driver's reads fail and the device node is gone.
func (p *Port) Unplug() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.unplugLocked()
}

func (p *Port) unplugLocked() error {
	if p.master == nil {
		return nil
	}
	err := os.Remove(p.path)
	p.master.Close()
	p.tty.Close()
	<-p.served
	p.master, p.tty = nil, nil
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("simpty: %w", err)
	}
	return nil
}

// Plugged reports whether the device is plugged in.
func (p *Port) Plugged() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.master != nil
}

// Write sends b from the device to the driver.
func (p *Port) Write(b []byte) (int, error) {
	p.mu.Lock()
	m := p.master
	p.mu.Unlock()
	if m == nil {
		return 0, ErrUnplugged
	}
	return m.Write(b)
}

// Close unplugs the device for good.
func (p *Port) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	return p.unplugLocked()
}

// openPty opens a pty pair in raw mode. creack/pty leaves the master in
// blocking mode (it calls Fd), where Close cannot interrupt a Read; a
// non-blocking duplicate can be closed under a reader, as an unplug needs.
func openPty() (master, tty *os.File, err error) {
	m, tty, err := pty.Open()
	if err != nil {
		return nil, nil, err
	}
	defer m.Close()
	if err := makeRaw(tty); err != nil {
		tty.Close()
		return nil, nil, fmt.Errorf("raw mode: %w", err)
	}
	fd, err := unix.Dup(int(m.Fd()))
	if err == nil {
		err = unix.SetNonblock(fd, true)
	}
	if err != nil {
		tty.Close()
		return nil, nil, err
	}
	unix.CloseOnExec(fd)
	return os.NewFile(uintptr(fd), "/dev/ptmx"), tty, nil
}

// makeRaw puts the pty in raw mode (no echo, no line editing, no CR/LF
// translation), as a UART is.
func makeRaw(f *os.File) error {
	fd := int(f.Fd())
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}
