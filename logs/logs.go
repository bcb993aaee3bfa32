// Package logs is hazgate's log/slog set-up: JSON under systemd (journald
// keeps one object a line), text on a terminal or anywhere else; a flapping device's
// repeated lines rate-limited (Limit); the last lines kept in memory for
// the kiosk's health page (Ring).
//
// It imports only clock; cmd/hazgate builds the logger with New and hands
// the ring to the kiosk.
package logs

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"github.com/hazgate/hazgate/clock"
)

// Options are how New builds a logger.
type Options struct {
	Level slog.Leveler
	// Getenv reads the environment (os.Getenv): under systemd
	// JOURNAL_STREAM says which stream is the journal's.
	Getenv func(string) string
	// RingSize is how many lines the ring keeps (default DefaultRingSize).
	RingSize int
	// Clock times the rate limit (default: the real clock).
	Clock clock.Clock
}

// DefaultRingSize is how many lines the health page can show.
const DefaultRingSize = 300

// ToJournal reports whether w is the journal's stream: under systemd,
// JOURNAL_STREAM names the device and inode of the stream journald reads,
// and w is that file.
func ToJournal(w io.Writer, getenv func(string) string) bool {
	return toJournal(w, getenv("JOURNAL_STREAM"))
}

// New returns the logger of a long-running command: JSON when w is the
// journal's stream (ToJournal), text otherwise; every line also in the returned ring; repeats
// from one device rate-limited before either.
func New(w io.Writer, o Options) (*slog.Logger, *Ring) {
	if o.Getenv == nil {
		o.Getenv = func(string) string { return "" }
	}
	if o.RingSize <= 0 {
		o.RingSize = DefaultRingSize
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	ho := &slog.HandlerOptions{Level: o.Level}
	var out slog.Handler
	if ToJournal(w, o.Getenv) {
		out = slog.NewJSONHandler(w, ho)
	} else {
		out = slog.NewTextHandler(w, ho)
	}
	ring := NewRing(o.RingSize, o.Level)
	return slog.New(NewLimit(Tee(out, ring), o.Clock, DefaultLimit)), ring
}

// Tee is a handler that hands each record to every one of hs that is
// enabled for its level.
func Tee(hs ...slog.Handler) slog.Handler { return tee(hs) }

type tee []slog.Handler

func (t tee) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range t {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (t tee) Handle(ctx context.Context, r slog.Record) error {
	var errs []error
	for _, h := range t {
		if h.Enabled(ctx, r.Level) {
			errs = append(errs, h.Handle(ctx, r.Clone()))
		}
	}
	return errors.Join(errs...)
}

func (t tee) WithAttrs(as []slog.Attr) slog.Handler {
	out := make(tee, len(t))
	for i, h := range t {
		out[i] = h.WithAttrs(as)
	}
	return out
}

func (t tee) WithGroup(name string) slog.Handler {
	out := make(tee, len(t))
	for i, h := range t {
		out[i] = h.WithGroup(name)
	}
	return out
}
