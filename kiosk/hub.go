package kiosk

import (
	"errors"
	"slices"
	"sync"

	"github.com/hazgate/hazgate/lane"
)

// hub fans lane views out to the live screens. Publishing never blocks and
// never queues more than one view per lane per screen: a screen that falls
// behind gets each lane's latest view when it catches up.
//
// The screens are bounded: at most perSession streams for one session (a
// new one supersedes the session's oldest, which is told so and ends) and
// at most total in all (past it a new stream is refused).
type hub struct {
	perSession, total int

	mu        sync.Mutex
	subs      map[*subscriber]struct{}
	bySession map[[32]byte][]*subscriber // each session's streams, oldest first
	closed    bool
	closing   chan struct{} // closed by close: every stream ends
}

// subscriber is one screen's pending views.
type subscriber struct {
	session [32]byte
	mu      sync.Mutex
	pending map[string]lane.Snapshot
	order   []string      // lanes with a pending view, oldest first
	wake    chan struct{} // a token when pending may be non-empty
	// superseded is closed when a newer stream of the same session took
	// this one's place: the stream says so and ends.
	superseded chan struct{}
}

func newHub(perSession, total int) *hub {
	return &hub{perSession: perSession, total: total, subs: map[*subscriber]struct{}{},
		bySession: map[[32]byte][]*subscriber{}, closing: make(chan struct{})}
}

// errTooManyStreams: the kiosk serves as many streams as it will.
var errTooManyStreams = errors.New("kiosk: too many live streams")

// subscribe registers a screen of a session; call cancel when it goes. A
// session at its bound loses its oldest stream to this one; a kiosk at its
// total refuses it (errTooManyStreams).
func (h *hub) subscribe(session [32]byte) (sub *subscriber, cancel func(), err error) {
	sub = &subscriber{session: session, pending: map[string]lane.Snapshot{}, wake: make(chan struct{}, 1), superseded: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	mine := h.bySession[session]
	if len(mine) >= h.perSession {
		oldest := mine[0]
		h.dropLocked(oldest)
		close(oldest.superseded)
		mine = h.bySession[session]
	}
	if len(h.subs) >= h.total {
		return nil, nil, errTooManyStreams
	}
	h.subs[sub] = struct{}{}
	h.bySession[session] = append(mine, sub)
	return sub, func() {
		h.mu.Lock()
		h.dropLocked(sub)
		h.mu.Unlock()
	}, nil
}

// dropLocked forgets a subscriber (again is harmless).
func (h *hub) dropLocked(sub *subscriber) {
	if _, ok := h.subs[sub]; !ok {
		return
	}
	delete(h.subs, sub)
	mine := slices.DeleteFunc(h.bySession[sub.session], func(x *subscriber) bool { return x == sub })
	if len(mine) == 0 {
		delete(h.bySession, sub.session)
	} else {
		h.bySession[sub.session] = mine
	}
}

// streams counts the live streams, in all and of one session.
func (h *hub) streams(session [32]byte) (total, mine int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs), len(h.bySession[session])
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
