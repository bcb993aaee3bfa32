package simscanner_test

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/hazgate/hazgate/device/scanner"
	"github.com/hazgate/hazgate/device/serialport"
	"github.com/hazgate/hazgate/sim/simscanner"
)

func TestScansThroughThePty(t *testing.T) {
	s, err := simscanner.New(filepath.Join(t.TempDir(), "hazgate-scanner-in1"), "\r")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan scanner.Event, 10)
	done := make(chan struct{})
	opened := make(chan struct{}, 10)
	go func() {
		scanner.NewReader(scanner.Config{
			Open: func() (io.ReadCloser, error) {
				p, err := serialport.Open(s.Path(), 9600)
				if err == nil {
					opened <- struct{}{}
				}
				return p, err
			},
			MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
		}).Run(ctx, func(e scanner.Event) { events <- e })
		close(done)
	}()
	defer func() { cancel(); <-done }()
	next := func(want scanner.EventKind) scanner.Event {
		t.Helper()
		select {
		case e := <-events:
			if e.Kind != want {
				t.Fatalf("got %v (%v), want %v", e.Kind, e.Err, want)
			}
			return e
		case <-time.After(10 * time.Second):
			t.Fatalf("no %v event", want)
		}
		return scanner.Event{}
	}
	<-opened
	s.Scan("https://example.invalid/ewaybill?ydh=YD3302002603150001")
	if e := next(scanner.EventScan); e.Waybill != "YD3302002603150001" {
		t.Fatalf("got %q", e.Waybill)
	}
	s.Unplug()
	if e := next(scanner.EventFault); !errors.Is(e.Err, scanner.ErrUnplugged) {
		t.Fatalf("got %v", e.Err)
	}
	s.Plug()
	next(scanner.EventRecovered)
	<-opened
	s.Scan("YD3302002603150002")
	if e := next(scanner.EventScan); e.Waybill != "YD3302002603150002" {
		t.Fatalf("got %q", e.Waybill)
	}
}
