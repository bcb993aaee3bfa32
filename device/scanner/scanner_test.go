package scanner_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/device/scanner"
	"github.com/hazgate/hazgate/device/scanner/scannertest"
)

func TestExtract(t *testing.T) {
	const n = "YD3302002603150001"
	for _, c := range []struct {
		name, scan, want string
	}{
		{"bare", n, n},
		{"bare with spaces and CR", "  " + n + "\r", n},
		{"AIM symbology prefix", "]Q1" + n, n},
		{"digits only", "330200260315000123", "330200260315000123"},
		{"URL query waybill", "https://example.invalid/ewaybill/view?waybill=" + n + "&sig=abc", n},
		{"URL query ydh", "http://example.invalid/q?ydh=" + n, n},
		{"URL query waybill_no", "https://example.invalid/q?waybill_no=" + n, n},
		{"URL query wayBillNo", "https://example.invalid/q?wayBillNo=" + n, n},
		{"URL path", "https://example.invalid/waybill/" + n, n},
		{"URL path with slash", "https://example.invalid/w/" + n + "/", n},
		{"JSON waybill", `{"waybill": "` + n + `"}`, n},
		{"JSON ydh", `{"ydh":"` + n + `","v":1}`, n},
		{"JSON number", `{"waybill_no": 330200260315000123}`, "330200260315000123"},
		{"JSON nested data", `{"code":0,"data":{"ydh":"` + n + `"}}`, n},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := scanner.Extract(c.scan)
			if err != nil || got != c.want {
				t.Fatalf("Extract(%q) = %q, %v; want %q", c.scan, got, err, c.want)
			}
		})
	}
	for _, c := range []struct {
		name, scan, says string
	}{
		{"empty", "  \r", "empty"},
		{"too short", "YD12", "neither"},
		{"words", "hello world", "neither"},
		{"URL without a number", "https://example.invalid/about", "carries no waybill"},
		{"ftp URL", "ftp://example.invalid/" + "YD3302002603150001", "not an http"},
		{"malformed JSON", `{"waybill": `, "malformed JSON"},
		{"JSON without the field", `{"plate": "浙B12345"}`, "no waybill field"},
		{"binary noise", "\x00\x01\xff\xfe", "neither"},
	} {
		t.Run("rejects "+c.name, func(t *testing.T) {
			got, err := scanner.Extract(c.scan)
			if !errors.Is(err, scanner.ErrGarbage) || !strings.Contains(err.Error(), c.says) || !strings.HasPrefix(err.Error(), "scanner: ") {
				t.Fatalf("Extract(%q) = %q, %v; want an error saying %q", c.scan, got, err, c.says)
			}
		})
	}
}

// pipes hands the Reader one pipe per Open, until closed.
type pipes struct {
	mu   sync.Mutex
	open chan *io.PipeWriter
	down bool
}

func (p *pipes) Open() (io.ReadCloser, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		return nil, errors.New("no such device")
	}
	r, w := io.Pipe()
	p.open <- w
	return r, nil
}

func TestReader(t *testing.T) {
	p := &pipes{open: make(chan *io.PipeWriter, 10)}
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan scanner.Event, 100)
	done := make(chan struct{})
	go func() {
		scanner.NewReader(scanner.Config{Open: p.Open, MinBackoff: time.Millisecond, MaxLine: 100}).Run(ctx, func(e scanner.Event) { events <- e })
		close(done)
	}()
	defer func() { cancel(); <-done }()
	next := func() scanner.Event {
		select {
		case e := <-events:
			return e
		case <-time.After(10 * time.Second):
			t.Fatal("no event")
		}
		return scanner.Event{}
	}
	w := <-p.open
	fake := &scannertest.Scanner{W: w, Suffix: "\r"}
	fake.Scan("YD3302002603150001")
	if e := next(); e.Kind != scanner.EventScan || e.Waybill != "YD3302002603150001" {
		t.Fatalf("got %+v", e)
	}
	fake.Suffix = "\r\n"
	fake.Scan("garbage!")
	if e := next(); e.Kind != scanner.EventRejected || !errors.Is(e.Err, scanner.ErrGarbage) {
		t.Fatalf("got %+v", e)
	}
	fake.Scan(strings.Repeat("A", 150))
	if e := next(); e.Kind != scanner.EventRejected || !errors.Is(e.Err, scanner.ErrTooLong) {
		t.Fatalf("got %+v", e)
	}
	fake.Scan(`{"ydh":"YD3302002603150002"}`)
	if e := next(); e.Waybill != "YD3302002603150002" {
		t.Fatalf("got %+v", e)
	}
	// Unplugged: a fault, then recovery when it is back.
	p.mu.Lock()
	p.down = true
	p.mu.Unlock()
	w.Close()
	if e := next(); e.Kind != scanner.EventFault || !errors.Is(e.Err, scanner.ErrUnplugged) {
		t.Fatalf("got %+v", e)
	}
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
	w = <-p.open
	if e := next(); e.Kind != scanner.EventRecovered {
		t.Fatalf("got %+v", e)
	}
	(&scannertest.Scanner{W: w}).Scan("https://example.invalid/w?waybill=YD3302002603150003")
	if e := next(); e.Waybill != "YD3302002603150003" {
		t.Fatalf("got %+v", e)
	}
}

// A scanner that cannot be opened is a fault that keeps its cause, so the
// installer can tell a missing device from one hazgate may not open.
func TestReaderFaultKeepsItsCause(t *testing.T) {
	denied := &fs.PathError{Op: "open", Path: "/dev/hazgate-scanner-in1", Err: fs.ErrPermission}
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan scanner.Event, 10)
	done := make(chan struct{})
	go func() {
		scanner.NewReader(scanner.Config{
			Open:       func() (io.ReadCloser, error) { return nil, denied },
			Clock:      clock.NewFake(time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC)),
			MinBackoff: time.Second,
		}).Run(ctx, func(e scanner.Event) { events <- e })
		close(done)
	}()
	defer func() { cancel(); <-done }()
	select {
	case e := <-events:
		if e.Kind != scanner.EventFault || !errors.Is(e.Err, scanner.ErrUnplugged) || !errors.Is(e.Err, fs.ErrPermission) {
			t.Fatalf("got %v %v; want a fault that is ErrUnplugged and fs.ErrPermission", e.Kind, e.Err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no fault reported")
	}
}
