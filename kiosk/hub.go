package kiosk

import (
	"sync"

	"github.com/hazgate/hazgate/lane"
)

// hub fans lane views out to the live screens. Publishing never blocks and
// never queues more than one view per lane per screen: a screen that falls
// behind gets each lane's latest view when it catches up.
type hub struct {
	mu      sync.Mutex
	subs    map[*subscriber]struct{}
	closed  bool
	closing chan struct{} // closed by close: every stream ends
}

// subscriber is one screen's pending views.
type subscriber struct {
	mu      sync.Mutex
	pending map[string]lane.Snapshot
	order   []string      // lanes with a pending view, oldest first
	wake    chan struct{} // a token when pending may be non-empty
}

func newHub() *hub {
	return &hub{subs: map[*subscriber]struct{}{}, closing: make(chan struct{})}
}

// subscribe registers a screen; call cancel when it goes.
func (h *hub) subscribe() (sub *subscriber, cancel func()) {
	sub = &subscriber{pending: map[string]lane.Snapshot{}, wake: make(chan struct{}, 1)}
	h.mu.Lock()
	h.subs[sub] = struct{}{}
	h.mu.Unlock()
	return sub, func() {
		h.mu.Lock()
		delete(h.subs, sub)
		h.mu.Unlock()
	}
}

// publish hands snap to every screen.
func (h *hub) publish(snap lane.Snapshot) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs {
		sub.put(snap)
	}
}

// close ends every stream (at shutdown).
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.closing)
	}
}

func (s *subscriber) put(snap lane.Snapshot) {
	s.mu.Lock()
	if _, ok := s.pending[snap.Lane]; !ok {
		s.order = append(s.order, snap.Lane)
	}
	s.pending[snap.Lane] = snap
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// take returns the pending views, oldest lane first, and clears them.
func (s *subscriber) take() []lane.Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]lane.Snapshot, 0, len(s.order))
	for _, name := range s.order {
		out = append(out, s.pending[name])
	}
	clear(s.pending)
	s.order = s.order[:0]
	return out
}
