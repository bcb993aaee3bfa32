package uplink

import (
	"context"
	"sync"
	"time"
)

type inboxKind int

const (
	inboxCommand inboxKind = iota
	inboxRegistry
	inboxPark  // a sibling gate's passage or presence view (park.go)
	inboxStray // on no topic the uplink subscribed to: logged and dropped
)

// inboxMsg is a message received on a subscription.
type inboxMsg struct {
	kind     inboxKind
	topic    string
	payload  []byte
	retained bool
}

// inbox hands received messages from paho's handlers (which must never
// block) to the uplink's own goroutine. It is bounded: when full, a message
// is dropped and counted, never waited for.
type inbox struct {
	mu      sync.Mutex
	q       []inboxMsg
	max     int
	dropped map[inboxKind]int
	wake    chan struct{}
}

func newInbox(max int) *inbox {
	return &inbox{max: max, dropped: map[inboxKind]int{}, wake: make(chan struct{}, 1)}
}

// put queues m without blocking.
func (b *inbox) put(m inboxMsg) {
	b.mu.Lock()
	if len(b.q) >= b.max {
		b.dropped[m.kind]++
	} else {
		b.q = append(b.q, m)
	}
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// take returns the queued messages and the drops since the last take.
func (b *inbox) take() ([]inboxMsg, map[inboxKind]int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	q, d := b.q, b.dropped
	b.q, b.dropped = nil, map[inboxKind]int{}
	return q, d
}

// handleInbox handles received commands and registry messages one at a time,
// in arrival order, until ctx is done.
func (u *Uplink) handleInbox(ctx context.Context) {
	for {
		select {
		case <-u.inbox.wake:
		case <-ctx.Done():
			return
		}
		u.handleBatch(ctx)
	}
}

// handleBatch handles what the inbox holds. The counts of the alarms it
// held back are stored when it is done: one write per batch, not one per
// message of a flood, and done even when ctx ends it.
func (u *Uplink) handleBatch(ctx context.Context) {
	defer u.flushSuppressed(context.WithoutCancel(ctx))
	msgs, dropped := u.inbox.take()
	if n := dropped[inboxCommand]; n > 0 {
		u.refused(ctx, "", &RefusedError{Reason: RefuseOverload, Detail: "commands arrived faster than they could be handled"}, n)
	}
	if n := dropped[inboxPark]; n > 0 {
		u.log.Error("sibling gates' passages dropped: inbox full (they come back with their presence views)", "n", n)
	}
	if dropped[inboxRegistry] > 0 {
		u.log.Error("registry messages dropped: inbox full", "n", dropped[inboxRegistry])
		u.registry.lost("inbox_full")
	}
	for i, m := range msgs {
		if ctx.Err() != nil {
			return
		}
		msgs[i] = inboxMsg{} // not held by the batch while the rest are handled (snapshot chunks)
		switch m.kind {
		case inboxStray:
			u.log.Warn("message on a topic the gate does not read: dropped", "topic", m.topic)
		case inboxCommand:
			u.handleCommand(ctx, m)
		case inboxRegistry:
			if u.registryMessageAdmitted(m) {
				u.registry.handle(ctx, m)
			}
		case inboxPark:
			u.handlePark(ctx, m)
		}
	}
}

// The registry topics (docs/uplink.md "Registry sync"): snapshot chunks
// arrive on exactly <registry topic>/snapshot and deltas on exactly
// <registry topic>/delta. Nothing else under the registry topic is read: a
// broker ACL whose wildcard reaches a subtopic of it must not let anyone
// write the registry.
const (
	registrySnapshotTopic = "snapshot"
	registryDeltaTopic    = "delta"
)

// registrySubscriptions are the exact topics the uplink subscribes to for
// the registry, with the schema each carries (made once, in New).
func (u *Uplink) registrySubscriptions() map[string]string { return u.registryTopics }

func registryTopics(base string) map[string]string {
	return map[string]string{
		base + "/" + registrySnapshotTopic: SchemaRegistrySnapshot,
		base + "/" + registryDeltaTopic:    SchemaRegistryDelta,
	}
}

// registryMessageAdmitted reports whether m arrived on one of the registry
// topics; anything else is dropped here, with a log line, before the
// registry handler sees it. (The handler refuses, with an alarm, a message
// on one of them that does not carry that topic's schema.)
func (u *Uplink) registryMessageAdmitted(m inboxMsg) bool {
	if _, ok := u.registrySubscriptions()[m.topic]; !ok {
		u.log.Warn("registry message on a topic the gate does not read: dropped", "topic", m.topic)
		return false
	}
	return true
}

// limiter lets n alarms of each kind through per period, each kind with a
// budget of its own, and counts the rest by kind. The counts are written to
// the store (flushSuppressed, after each batch of the inbox and when the
// uplink stops) so that a restart does not lose them; the next alarm of a
// kind that goes through reports them and takes them off.
type limiter struct {
	mu      sync.Mutex
	n       int
	per     time.Duration
	windows map[string]*window
	pending map[string]int // held back, not yet in the store
	since   time.Time      // the first of pending
}

type window struct {
	start time.Time
	used  int
}

func newLimiter(n int, per time.Duration) *limiter {
	return &limiter{n: n, per: per, windows: map[string]*window{}, pending: map[string]int{}}
}

// allow reports whether an alarm of kind may be raised now; when it may
// not, the n messages it stands for are counted as held back.
func (l *limiter) allow(kind string, n int, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.windows[kind]
	if w == nil {
		w = &window{start: now}
		l.windows[kind] = w
	}
	if now.Sub(w.start) >= l.per || now.Before(w.start) {
		w.start, w.used = now, 0
	}
	if w.used >= l.n {
		if len(l.pending) == 0 {
			l.since = now
		}
		l.pending[kind] += max(n, 1)
		return false
	}
	w.used++
	return true
}

// take returns kind's count not yet in the store and forgets it; give it
// back with putBack when it could not be reported.
func (l *limiter) take(kind string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.pending[kind]
	delete(l.pending, kind)
	return n
}

func (l *limiter) putBack(counts map[string]int, since time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.pending) == 0 || since.Before(l.since) {
		l.since = since
	}
	for k, n := range counts {
		if n > 0 {
			l.pending[k] += n
		}
	}
}

func (l *limiter) takeAll() (map[string]int, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p, since := l.pending, l.since
	l.pending = map[string]int{}
	return p, since
}

// flushSuppressed writes the counts of alarms held back since the last
// flush to the store; what cannot be written stays counted in memory and
// is tried again at the next flush.
func (u *Uplink) flushSuppressed(ctx context.Context) {
	counts, since := u.refusals.takeAll()
	if len(counts) == 0 {
		return
	}
	if err := u.st.AddSuppressedAlarms(ctx, counts, since); err != nil {
		u.log.Error("counts of alarms held back by the rate limit not stored", "err", err)
		u.refusals.putBack(counts, since)
	}
}
