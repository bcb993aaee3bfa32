package scale

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/hazgate/hazgate/clock"
)

// ErrUnplugged is reported when the indicator's stream ends or fails (the
// serial adapter was unplugged) or cannot be opened.
var ErrUnplugged = errors.New("scale: indicator unplugged")

// ErrNoFrames is the fault of an indicator that sends only garbage: a wrong
// baud rate, or an output format other than continuous format 0.
var ErrNoFrames = fmt.Errorf("%w: only garbage, no frame (baud rate or output format?)", ErrGarbage)

// EventKind says what an Event is.
type EventKind int

// The kinds of Event.
const (
	// EventWeight: one good frame (Kg).
	EventWeight EventKind = iota + 1
	// EventStable: the weight held within the band for the stable time
	// (Stable).
	EventStable
	// EventRejected: a bad frame or a run of noise was skipped (Err, Raw).
	EventRejected
	// EventFault: the indicator is gone (ErrUnplugged), or sends only
	// garbage (ErrNoFrames); reported once per episode.
	EventFault
	// EventRecovered: the indicator is back, or sends frames again.
	EventRecovered
)

func (k EventKind) String() string {
	switch k {
	case EventWeight:
		return "weight"
	case EventStable:
		return "stable"
	case EventRejected:
		return "rejected"
	case EventFault:
		return "fault"
	case EventRecovered:
		return "recovered"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is something the indicator reports.
type Event struct {
	Kind   EventKind
	Kg     float64 // EventWeight, EventStable
	Stable Stable  // EventStable
	Raw    []byte  // EventRejected: up to 32 of its bytes
	Err    error   // EventRejected, EventFault
}

// Config configures a Reader.
type Config struct {
	// Open opens the indicator's stream (serialport.Open in production, a
	// pty or pipe in tests); it is called again after every fault.
	Open func() (io.ReadCloser, error)
	// Clock stamps the readings and paces the reopening (default: the
	// real clock).
	Clock clock.Clock
	// Log (default: none).
	Log *slog.Logger
	// KgPerUnit converts the displayed weight to kg: 1 for an indicator
	// calibrated in kg (the default), 1000 for one in tonnes.
	KgPerUnit float64
	// StableFor and BandKg make a stable weight (Stabilizer; defaults 2 s
	// and 20 kg).
	StableFor time.Duration
	BandKg    float64
	// MinBackoff and MaxBackoff bound the pause before reopening
	// (defaults 500 ms and 30 s); it doubles from one to the other.
	MinBackoff, MaxBackoff time.Duration
	// MaxGarbage is how many rejections in a row, with no good frame
	// between, make the indicator faulty (ErrNoFrames; default 16).
	MaxGarbage int
}

// Defaults of Config.
const (
	DefaultStableFor = 2 * time.Second
	DefaultBandKg    = 20
)

// Reader reads one indicator and reopens it after a fault.
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
	if !(cfg.KgPerUnit > 0) {
		cfg.KgPerUnit = 1
	}
	if cfg.StableFor <= 0 {
		cfg.StableFor = DefaultStableFor
	}
	if !(cfg.BandKg >= 0) {
		cfg.BandKg = DefaultBandKg
	}
	if cfg.MaxGarbage <= 0 {
		cfg.MaxGarbage = 16
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 500 * time.Millisecond
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(30*time.Second, cfg.MinBackoff)
	}
	return &Reader{cfg: cfg}
}

// Run reads the indicator until ctx is done, calling report from its own
// goroutine. It returns ctx's error.
func (r *Reader) Run(ctx context.Context, report func(Event)) error {
	faulted, fails := false, 0
	for {
		rc, err := r.cfg.Open()
		if err != nil {
			err = fmt.Errorf("%w: open: %w", ErrUnplugged, err)
		} else {
			if faulted {
				r.cfg.Log.Info("scale: recovered")
				report(Event{Kind: EventRecovered})
				faulted = false
			}
			fails = 0
			stop := context.AfterFunc(ctx, func() { rc.Close() })
			err = r.read(rc, report)
			stop()
			rc.Close()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !faulted {
			r.cfg.Log.Warn("scale: fault", "err", err)
			report(Event{Kind: EventFault, Err: err})
			faulted = true
		}
		d := r.cfg.MinBackoff
		for i := 0; i < fails && d < r.cfg.MaxBackoff; i++ {
			d *= 2
		}
		fails++
		if !clock.Sleep(ctx, r.cfg.Clock, min(d, r.cfg.MaxBackoff)) {
			return ctx.Err()
		}
	}
}

// read parses the stream until it fails. Each good frame is a reading at
// the clock's time; a stream broken off starts the parser and the
// stabilizer afresh.
func (r *Reader) read(rd io.Reader, report func(Event)) error {
	var p Parser
	st := Stabilizer{For: r.cfg.StableFor, Band: r.cfg.BandKg}
	buf := make([]byte, 256)
	bad, garbled := 0, false // rejections in a row; reported ErrNoFrames
	frame := func(f Frame) {
		bad = 0
		if garbled {
			garbled = false
			r.cfg.Log.Info("scale: frames again")
			report(Event{Kind: EventRecovered})
		}
		// Stamped before it is reported: whoever waits for the report
		// may move the clock on.
		at := r.cfg.Clock.Now()
		kg := f.Value() * r.cfg.KgPerUnit
		report(Event{Kind: EventWeight, Kg: kg})
		if s, ok := st.Add(kg, at); ok {
			report(Event{Kind: EventStable, Kg: s.Kg, Stable: s})
		}
	}
	reject := func(err error, raw []byte) {
		r.cfg.Log.Debug("scale: skipped", "err", err, "raw", fmt.Sprintf("%q", raw))
		report(Event{Kind: EventRejected, Err: err, Raw: raw})
		if bad++; bad == r.cfg.MaxGarbage {
			garbled = true
			r.cfg.Log.Warn("scale: fault", "err", ErrNoFrames)
			report(Event{Kind: EventFault, Err: ErrNoFrames})
		}
	}
	for {
		n, err := rd.Read(buf)
		p.Feed(buf[:n], frame, reject)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrUnplugged, err)
		}
	}
}
