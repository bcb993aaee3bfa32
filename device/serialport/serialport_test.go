package serialport_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/hazgate/hazgate/device/serialport"
	"github.com/hazgate/hazgate/sim/simpty"
)

func TestReadWriteUnplug(t *testing.T) {
	dev, err := simpty.New(filepath.Join(t.TempDir(), "hazgate-test"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	p, err := serialport.Open(dev.Path(), 115200)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.Gone() {
		t.Fatal("gone at once")
	}
	// Raw mode: CR, LF and 0xFF pass unchanged.
	want := []byte{0xAA, 0x0D, 0x0A, 0xFF, 0x03}
	dev.Write(want)
	got := make([]byte, 0, len(want))
	buf := make([]byte, 16)
	for len(got) < len(want) {
		n, err := p.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != string(want) {
		t.Fatalf("read % X, want % X", got, want)
	}
	// Silence is not an error; an unplug is.
	done := make(chan error, 1)
	go func() { _, err := p.Read(buf); done <- err }()
	dev.Unplug()
	if err := <-done; !errors.Is(err, serialport.ErrUnplugged) {
		t.Fatalf("after unplug: %v", err)
	}
	if !p.Gone() {
		t.Fatal("not gone after unplug")
	}
	p.Close()
	if _, err := p.Read(buf); !errors.Is(err, serialport.ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
	if _, err := serialport.Open(filepath.Join(t.TempDir(), "nothing"), 9600); err == nil {
		t.Fatal("opened nothing")
	}
}
