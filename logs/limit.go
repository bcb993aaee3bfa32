package logs

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/hazgate/hazgate/clock"
)

// LimitPolicy is how many lines of one key pass in a window.
type LimitPolicy struct {
	Burst  int           // lines of one key that pass in a window
	Window time.Duration // the window, from its first line
}

// DefaultLimit lets 3 lines of one device's message through a minute.
var DefaultLimit = LimitPolicy{Burst: 3, Window: time.Minute}

// maxKeys bounds the keys remembered; older quiet ones are forgotten.
const maxKeys = 1024

// NewLimit wraps next so that a flapping device does not flood the log:
// a record with a "device" attribute (its own or the logger's, as a
// lane's device loggers carry) is keyed by its message, "lane" and
// "device"; at most p.Burst records of a key pass in p.Window, the rest
// are dropped and counted, and the first that passes after them carries
// "suppressed" (how many were dropped). Records without a device pass
// untouched: an inspection's lines are never dropped.
func NewLimit(next slog.Handler, clk clock.Clock, p LimitPolicy) slog.Handler {
	return &limit{next: next, st: &limitState{clk: clk, p: p, keys: map[string]*keyState{}}}
}

type limit struct {
	next         slog.Handler
	st           *limitState
	lane, device string // from WithAttrs
	hasD         bool   // device was given
	grouped      bool   // a group was opened: later attributes are not ours
}

type limitState struct {
	mu   sync.Mutex
	clk  clock.Clock
	p    LimitPolicy
	keys map[string]*keyState
}

type keyState struct {
	start   time.Time // of the window
	n       int       // passed in the window
	dropped int       // dropped since the last that passed
}

func (h *limit) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *limit) Handle(ctx context.Context, r slog.Record) error {
	lane, device, hasD := h.lane, h.device, h.hasD
	if !h.grouped {
		r.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "lane":
				lane = a.Value.String()
			case "device":
				device, hasD = a.Value.String(), true
			}
			return true
		})
	}
	if !hasD {
		return h.next.Handle(ctx, r)
	}
	pass, dropped := h.st.take(r.Message + "\x00" + lane + "\x00" + device)
	if !pass {
		return nil
	}
	if dropped > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int("suppressed", dropped))
	}
	return h.next.Handle(ctx, r)
}

// take reports whether a record of key passes and, if it does, how many
// of the key were dropped before it.
func (s *limitState) take(key string) (bool, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clk.Now()
	k := s.keys[key]
	if k == nil {
		if len(s.keys) >= maxKeys {
			s.forget(now)
		}
		k = &keyState{start: now}
		s.keys[key] = k
	}
	if now.Sub(k.start) >= s.p.Window || now.Before(k.start) {
		k.start, k.n = now, 0
	}
	if k.n >= s.p.Burst {
		k.dropped++
		return false, 0
	}
	k.n++
	d := k.dropped
	k.dropped = 0
	return true, d
}

// forget drops the keys whose window is over and that dropped nothing,
// or, if none is, every key.
func (s *limitState) forget(now time.Time) {
	for key, k := range s.keys {
		if now.Sub(k.start) >= s.p.Window && k.dropped == 0 {
			delete(s.keys, key)
		}
	}
	if len(s.keys) >= maxKeys {
		clear(s.keys)
	}
}

func (h *limit) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(as)
	if !h.grouped {
		for _, a := range as {
			switch a.Key {
			case "lane":
				c.lane = a.Value.String()
			case "device":
				c.device, c.hasD = a.Value.String(), true
			}
		}
	}
	return &c
}

func (h *limit) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	c.grouped = c.grouped || name != ""
	return &c
}
