package scanner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/hazgate/hazgate/clock"
)

// ErrUnplugged is reported when the scanner's stream ends or fails (the USB
// scanner was unplugged) or cannot be opened.
var ErrUnplugged = errors.New("scanner: scanner unplugged")

// ErrTooLong is reported for a line longer than Config.MaxLine; the rest of
// it is skipped.
var ErrTooLong = fmt.Errorf("%w: line too long", ErrGarbage)

// EventKind says what an Event is.
type EventKind int

// The kinds of Event.
const (
	// EventScan: a scan carried a waybill number.
	EventScan EventKind = iota + 1
	// EventRejected: a scan carried none (Err says why; Raw is the line).
	EventRejected
	// EventFault: the scanner is gone; reported once per episode.
	EventFault
	// EventRecovered: the scanner is back.
	EventRecovered
)

func (k EventKind) String() string {
	switch k {
	case EventScan:
		return "scan"
	case EventRejected:
		return "rejected"
	case EventFault:
		return "fault"
	case EventRecovered:
		return "recovered"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is something the scanner reports.
type Event struct {
	Kind    EventKind
	Waybill string // EventScan
	Raw     string // the line, EventScan and EventRejected
	Err     error  // EventRejected, EventFault
}

// Config configures a Reader.
type Config struct {
	// Open opens the scanner's stream (serialport.Open in production, a
	// pty or pipe in tests); it is called again after every fault.
	Open func() (io.ReadCloser, error)
	// Clock paces the reopening (default: the real clock).
	Clock clock.Clock
	// Log (default: none).
	Log *slog.Logger
	// MinBackoff and MaxBackoff bound the pause before reopening
	// (defaults 500 ms and 30 s); it doubles from one to the other.
	MinBackoff, MaxBackoff time.Duration
	// MaxLine is the longest line accepted (default 4096 bytes).
	MaxLine int
}

// Reader reads scans from one scanner and reopens it after a fault.
type Reader struct {
	cfg Config
}

// NewReader returns a Reader; start it with Run.
func NewReader(cfg Config) *Reader {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 500 * time.Millisecond
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(30*time.Second, cfg.MinBackoff)
	}
	if cfg.MaxLine <= 0 {
		cfg.MaxLine = 4096
	}
	return &Reader{cfg: cfg}
}

// Run reads scans until ctx is done, calling report from its own goroutine.
// It returns ctx's error.
func (r *Reader) Run(ctx context.Context, report func(Event)) error {
	faulted := false
	backoff := clock.Backoff{Min: r.cfg.MinBackoff, Max: r.cfg.MaxBackoff}
	for {
		rc, err := r.cfg.Open()
		if err != nil {
			err = fmt.Errorf("%w: open: %w", ErrUnplugged, err)
		} else {
			if faulted {
				r.cfg.Log.Info("scanner: recovered")
				report(Event{Kind: EventRecovered})
				faulted = false
			}
			backoff.Reset()
			stop := context.AfterFunc(ctx, func() { rc.Close() })
			err = r.lines(rc, report)
			stop()
			rc.Close()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !faulted {
			r.cfg.Log.Warn("scanner: fault", "err", err)
			report(Event{Kind: EventFault, Err: err})
			faulted = true
		}
		if !backoff.Wait(ctx, r.cfg.Clock) {
			return ctx.Err()
		}
	}
}

// lines splits the stream into lines at CR, LF or CR LF and reports each
// non-empty one, until the stream fails.
func (r *Reader) lines(rd io.Reader, report func(Event)) error {
	buf := make([]byte, 512)
	var line []byte
	skipping := false
	for {
		n, err := rd.Read(buf)
		for _, b := range buf[:n] {
			if b != '\r' && b != '\n' {
				if !skipping {
					line = append(line, b)
				}
				if len(line) > r.cfg.MaxLine {
					report(Event{Kind: EventRejected, Raw: string(line[:min(64, len(line))]) + "...", Err: fmt.Errorf("%w (more than %d bytes)", ErrTooLong, r.cfg.MaxLine)})
					line, skipping = line[:0], true
				}
				continue
			}
			if !skipping && len(line) > 0 {
				r.scan(string(line), report)
			}
			line, skipping = line[:0], false
		}
		if err != nil {
			return fmt.Errorf("%w: %w", ErrUnplugged, err)
		}
	}
}

// scan reports one line.
func (r *Reader) scan(raw string, report func(Event)) {
	w, err := Extract(raw)
	if err != nil {
		r.cfg.Log.Info("scanner: rejected a scan", "err", err)
		report(Event{Kind: EventRejected, Raw: raw, Err: err})
		return
	}
	report(Event{Kind: EventScan, Waybill: w, Raw: raw})
}
