package idcard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/hazgate/hazgate/clock"
)

// EventKind says what a reader Event is.
type EventKind int

// The kinds of Event.
const (
	// EventCard: a card was presented and read (once per presentation).
	EventCard EventKind = iota + 1
	// EventCardError: a card was presented but could not be read; it must
	// be taken away and presented again.
	EventCardError
	// EventFault: the reader is unusable (cannot be opened, unplugged, not
	// answering, SAM failed). Reported once per episode.
	EventFault
	// EventRecovered: the reader works again after a fault.
	EventRecovered
)

func (k EventKind) String() string {
	switch k {
	case EventCard:
		return "card"
	case EventCardError:
		return "card_error"
	case EventFault:
		return "fault"
	case EventRecovered:
		return "recovered"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is something the Reader reports.
type Event struct {
	Kind EventKind
	Card *Card // EventCard
	Err  error // EventCardError, EventFault
}

// ReaderConfig configures a Reader.
type ReaderConfig struct {
	// Open opens the reader's byte stream (serialport.Open in production, a
	// pty or pipe in tests). It is called again after every fault.
	Open func() (io.ReadWriteCloser, error)
	// Device options: clock, reply timeout, baud, log.
	Options
	// Poll is the pause between two "find card" commands (default 200 ms).
	Poll time.Duration
	// MinBackoff and MaxBackoff bound the pause before reopening a reader
	// that failed; it doubles from one to the other (defaults 500 ms, 30 s).
	MinBackoff, MaxBackoff time.Duration
	// Fingerprints reads with 30 10 instead of 30 01.
	Fingerprints bool
	// SkipAddedAddress does not ask for the added address (30 03).
	SkipAddedAddress bool
	// AbsentPolls is how many "no card" answers in a row mean the card has
	// left the field (default 2): one is enough for most readers, two rides
	// out a flicker in the RF field.
	AbsentPolls int
	// ReadAttempts is how often a card that fails to read is tried before
	// EventCardError (default 3).
	ReadAttempts int
}

// Reader polls one reader for cards, reports each card once per
// presentation, and reopens the reader after a fault with back-off on the
// clock.
type Reader struct {
	cfg ReaderConfig
	log *slog.Logger
}

// NewReader returns a Reader; start it with Run.
func NewReader(cfg ReaderConfig) *Reader {
	cfg.Options = cfg.Options.withDefaults()
	if cfg.Poll <= 0 {
		cfg.Poll = 200 * time.Millisecond
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 500 * time.Millisecond
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(30*time.Second, cfg.MinBackoff)
	}
	if cfg.AbsentPolls <= 0 {
		cfg.AbsentPolls = 2
	}
	if cfg.ReadAttempts <= 0 {
		cfg.ReadAttempts = 3
	}
	return &Reader{cfg: cfg, log: cfg.Log}
}

// Backoff returns the pause before the n-th reopening (n from 0): MinBackoff
// doubled n times, at most MaxBackoff.
func (r *Reader) Backoff(n int) time.Duration {
	d := r.cfg.MinBackoff
	for i := 0; i < n && d < r.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, r.cfg.MaxBackoff)
}

// Run reads cards until ctx is done, calling report from its own goroutine
// (report must not block for long). It returns ctx's error.
func (r *Reader) Run(ctx context.Context, report func(Event)) error {
	faulted := false
	fails := 0
	for {
		dev, err := r.open(ctx)
		if err == nil {
			if faulted {
				r.log.Info("idcard: reader recovered")
				report(Event{Kind: EventRecovered})
				faulted = false
			}
			fails = 0
			err = r.session(ctx, dev, report)
			dev.Close()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !faulted {
			r.log.Warn("idcard: reader fault", "err", err)
			report(Event{Kind: EventFault, Err: err})
			faulted = true
		} else {
			r.log.Debug("idcard: reader still in fault", "err", err, "retry", fails)
		}
		if err := r.sleep(ctx, r.Backoff(fails)); err != nil {
			return err
		}
		fails++
	}
}

// open opens the stream and checks that a reader answers on it.
func (r *Reader) open(ctx context.Context) (*Device, error) {
	rw, err := r.cfg.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: open: %w", ErrUnplugged, err)
	}
	dev := New(rw, r.cfg.Options)
	if err := r.alive(ctx, dev); err != nil {
		dev.Close()
		return nil, err
	}
	if id, err := dev.SAMID(ctx); err == nil {
		r.log.Info("idcard: reader ready", "sam_id", fmt.Sprintf("%X", id))
	} else if errors.Is(err, ErrDeviceFault) {
		dev.Close()
		return nil, err
	}
	return dev, nil
}

// alive asks for the SAM status: no answer is ErrNotResponding, a failed SAM
// its device fault. A reader that does not know the command still answers,
// so it is alive.
func (r *Reader) alive(ctx context.Context, dev *Device) error {
	err := dev.SAMStatus(ctx)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrTimeout), errors.Is(err, ErrBadFrame):
		return fmt.Errorf("%w: %v", ErrNotResponding, err)
	case errors.Is(err, ErrDeviceFault), ctx.Err() != nil:
		return err
	}
	r.log.Debug("idcard: odd SAM status answer; carrying on", "err", err)
	return nil
}

// recheck is how many polls a reader that keeps answering 9F for a card
// already read waits before reading it again to see whether it was swapped.
const recheck = 5

// session polls for cards on an open device until a device fault.
//
// A card is reported once per presentation. Most readers answer "no card"
// (80) for a card that was read until it leaves the field and comes back;
// AbsentPolls such answers in a row forget the card. A 9F after a report is
// then a new presentation, unless the reader is one that keeps answering 9F
// for a card left in the field: a re-read that gives the same card is not
// reported again (and such a reader is re-read only every few polls).
func (r *Reader) session(ctx context.Context, dev *Device, report func(Event)) error {
	absent := 0
	var last *Card     // the card reported for the present presentation
	failed := false    // the card in the field could not be read: wait for it to leave
	stayFound := false // this reader answers 9F for a card it has read
	skip := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		found, err := dev.Find(ctx)
		switch {
		case err != nil:
			if err := r.judge(ctx, dev, err); err != nil {
				return err
			}
		case !found:
			absent++
			if absent >= r.cfg.AbsentPolls {
				last, failed, skip = nil, false, 0
			}
		case failed:
			absent = 0
		case last != nil && stayFound && skip > 0:
			absent = 0
			skip--
		default:
			absent = 0
			card, err := r.readCard(ctx, dev)
			switch {
			case err != nil && errors.Is(err, ErrDeviceFault):
				return err
			case err != nil:
				r.log.Warn("idcard: card could not be read", "err", err)
				report(Event{Kind: EventCardError, Err: err})
				failed = true
			case last != nil && sameCard(card, *last):
				stayFound, skip = true, recheck
			default:
				report(Event{Kind: EventCard, Card: &card})
				last = &card
			}
		}
		if err := r.sleep(ctx, r.cfg.Poll); err != nil {
			return err
		}
	}
}

// sameCard reports whether a and b hold the same text and photo.
func sameCard(a, b Card) bool {
	return bytes.Equal(a.Text, b.Text) && bytes.Equal(a.Photo, b.Photo)
}

// judge decides whether err from a transaction is a device fault: the
// stream ended, the SAM failed, or a reply went missing and the reader does
// not answer a SAM status either. It returns nil when polling can go on.
func (r *Reader) judge(ctx context.Context, dev *Device, err error) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, ErrDeviceFault):
		return err
	case errors.Is(err, ErrTimeout), errors.Is(err, ErrBadFrame):
		return r.alive(ctx, dev)
	}
	r.log.Debug("idcard: transaction failed", "err", err)
	return nil
}

// readCard selects and reads the card in the field, trying ReadAttempts
// times. It returns the card, a device fault, or why the card cannot be read.
func (r *Reader) readCard(ctx context.Context, dev *Device) (Card, error) {
	var last error
	for attempt := 0; attempt < r.cfg.ReadAttempts; attempt++ {
		card, err := r.readOnce(ctx, dev, attempt)
		if err == nil {
			return card, nil
		}
		// A bad frame is the root cause of what follows (a card that
		// counts as read no longer selects): keep it as the reason.
		if last == nil || !errors.Is(last, ErrBadFrame) {
			last = err
		}
		if errors.Is(err, ErrBadCardData) {
			break
		}
		if err := r.judge(ctx, dev, err); err != nil {
			return Card{}, err
		}
	}
	return Card{}, last
}

// readOnce selects (on the first attempt, or when a read says so) and reads.
func (r *Reader) readOnce(ctx context.Context, dev *Device, attempt int) (Card, error) {
	if attempt == 0 || attempt == r.cfg.ReadAttempts-1 {
		if err := dev.Select(ctx); err != nil {
			return Card{}, err
		}
	}
	card, err := dev.Read(ctx, r.cfg.Fingerprints)
	if err != nil {
		return Card{}, err
	}
	if !r.cfg.SkipAddedAddress {
		switch addr, err := dev.AddedAddress(ctx); {
		case err == nil:
			card.AddedAddress = addr
		case errors.Is(err, ErrDeviceFault):
			return Card{}, err
		default:
			// Not every reader knows 30 03: the card stands without it.
			r.log.Debug("idcard: no added address", "err", err)
		}
	}
	if card.IDNumberErr != nil {
		r.log.Warn("idcard: ID number fails its check digit", "err", card.IDNumberErr)
	}
	return card, nil
}

// sleep waits d on the clock; ctx's error when ctx ended first.
func (r *Reader) sleep(ctx context.Context, d time.Duration) error {
	if !clock.Sleep(ctx, r.cfg.Clock, d) {
		return ctx.Err()
	}
	return nil
}

// ReadOne waits up to within (on the device's clock) for a card on dev and
// reads it: what `hazgate idcard read` does. It returns ErrNotResponding
// when nothing answers, and ErrNoCard (wrapped)
// when no card came in time.
func ReadOne(ctx context.Context, dev *Device, poll, within time.Duration, fingerprints bool) (Card, error) {
	r := NewReader(ReaderConfig{Options: dev.opt, Poll: poll, Fingerprints: fingerprints})
	clk := dev.opt.Clock
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	expired := make(chan struct{})
	t := clk.AfterFunc(within, func() { close(expired); cancel() })
	defer t.Stop()
	if err := r.alive(ctx, dev); err != nil {
		return Card{}, err
	}
	var lastErr error
	for {
		found, err := dev.Find(ctx)
		if err == nil && found {
			card, err := r.readCard(ctx, dev)
			select {
			case <-expired:
				return Card{}, fmt.Errorf("%w: a card was found but not read within %v", ErrNoCard, within)
			default:
			}
			return card, err
		}
		if err != nil {
			select {
			case <-expired:
			default:
				if err := r.judge(ctx, dev, err); err != nil {
					return Card{}, err
				}
				lastErr = err
			}
		}
		if err := r.sleep(ctx, r.cfg.Poll); err != nil {
			select {
			case <-expired:
				if lastErr != nil {
					return Card{}, fmt.Errorf("%w within %v (last error: %v)", ErrNoCard, within, lastErr)
				}
				return Card{}, fmt.Errorf("%w within %v", ErrNoCard, within)
			default:
				return Card{}, err
			}
		}
	}
}
