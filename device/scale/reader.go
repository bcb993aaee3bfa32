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

// ErrSilent is the fault of an indicator that sends nothing for
// Config.Silence: switched off, or its output set to another mode.
var ErrSilent = errors.New("scale: indicator silent (switched off, or not in continuous output?)")

// ErrNoFrames is the fault of an indicator that sends only garbage: a wrong
// baud rate, or an output format other than continuous format 0.
var ErrNoFrames = fmt.Errorf("%w: only garbage, no frame (baud rate or output format?)", ErrGarbage)

// EventKind says what an Event is.
type EventKind int

// The kinds of Event.
const (
	// EventWeight: one good frame (Kg), reported last of what the frame
	// brought: a frame is done when its weight is reported.
	EventWeight EventKind = iota + 1
	// EventStable: the weight held within the band for the stable time
	// (Stable); reported just before the weight that completed it.
	EventStable
	// EventRejected: a bad frame or a run of noise was skipped (Err, Raw).
	EventRejected
	// EventFault: the indicator is gone (ErrUnplugged), sends only
	// garbage (ErrNoFrames) or nothing (ErrSilent); reported once per
	// episode.
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
	// Silence is how long an open indicator may send no good frame before
	// it is faulty (ErrSilent; 0: never). A real indicator in continuous
	// output sends several a second, loaded or not.
	Silence time.Duration
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
	faulted := false
	backoff := clock.Backoff{Min: r.cfg.MinBackoff, Max: r.cfg.MaxBackoff}
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
			backoff.Reset()
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
		if !backoff.Wait(ctx, r.cfg.Clock) {
			return ctx.Err()
		}
	}
}

// read parses the stream until it fails. Each good frame is a reading at
// the clock's time; a stream broken off starts the parser and the
// stabilizer afresh. The bytes are read in a goroutine of their own, so
// that an indicator that falls silent is noticed (Config.Silence) though a
// read blocks until bytes come; every report is still made here.
func (r *Reader) read(rd io.Reader, report func(Event)) error {
	var p Parser
	st := Stabilizer{For: r.cfg.StableFor, Band: r.cfg.BandKg}
	bad := 0        // rejections in a row
	faulty := false // reported ErrNoFrames or ErrSilent; a frame recovers it
	fault := func(err error) {
		if !faulty {
			faulty = true
			r.cfg.Log.Warn("scale: fault", "err", err)
			report(Event{Kind: EventFault, Err: err})
		}
	}

	// The silence timer: armed at the start and by every frame; a stale
	// firing (its generation passed) is ignored.
	silent := make(chan int, 1)
	gen := 0
	var timer clock.Timer
	arm := func() {
		if r.cfg.Silence <= 0 {
			return
		}
		if timer != nil {
			timer.Stop()
		}
		gen++
		g := gen
		timer = r.cfg.Clock.AfterFunc(r.cfg.Silence, func() {
			select {
			case silent <- g:
			default:
			}
		})
	}
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	arm()

	frame := func(f Frame) {
		bad = 0
		arm()
		if faulty {
			faulty = false
			r.cfg.Log.Info("scale: frames again")
			report(Event{Kind: EventRecovered})
		}
		// Stamped before anything is reported, and the weight reported
		// last, after the stable weight it completed: whoever waits for
		// the frame's weight may move the clock on.
		at := r.cfg.Clock.Now()
		kg := f.Value() * r.cfg.KgPerUnit
		if s, ok := st.Add(kg, at); ok {
			report(Event{Kind: EventStable, Kg: s.Kg, Stable: s})
		}
		report(Event{Kind: EventWeight, Kg: kg})
	}
	reject := func(err error, raw []byte) {
		r.cfg.Log.Debug("scale: skipped", "err", err, "raw", fmt.Sprintf("%q", raw))
		report(Event{Kind: EventRejected, Err: err, Raw: raw})
		if bad++; bad == r.cfg.MaxGarbage {
			fault(ErrNoFrames)
		}
	}

	chunks := make(chan []byte)
	failed := make(chan error, 1)
	go func() {
		for {
			buf := make([]byte, 256)
			n, err := rd.Read(buf)
			if n > 0 {
				chunks <- buf[:n] // taken before the error below: none is lost
			}
			if err != nil {
				failed <- err
				return
			}
		}
	}()
	for {
		select {
		case b := <-chunks:
			p.Feed(b, frame, reject)
		case g := <-silent:
			if g == gen {
				fault(ErrSilent)
			}
		case err := <-failed:
			return fmt.Errorf("%w: %w", ErrUnplugged, err)
		}
	}
}
