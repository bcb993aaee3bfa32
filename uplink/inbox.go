package uplink

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

type inboxKind int

const (
	inboxCommand inboxKind = iota
	inboxRegistry
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
		msgs, dropped := u.inbox.take()
		if n := dropped[inboxCommand]; n > 0 {
			u.refused(ctx, "", &RefusedError{Reason: RefuseOverload, Detail: "commands arrived faster than they could be handled"}, n)
		}
		if dropped[inboxRegistry] > 0 {
			u.log.Error("registry messages dropped: inbox full", "n", dropped[inboxRegistry])
			u.registry.lost("inbox_full")
		}
		for _, m := range msgs {
			if ctx.Err() != nil {
				return
			}
			switch m.kind {
			case inboxStray:
				u.log.Warn("message on a topic the gate does not read: dropped", "topic", m.topic)
			case inboxCommand:
				u.handleCommand(ctx, m)
			case inboxRegistry:
				if u.registryMessageAdmitted(m) {
					u.registry.handle(ctx, m)
				}
			}
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
// the registry, with the schema each carries.
func (u *Uplink) registrySubscriptions() map[string]string {
	return map[string]string{
		u.cfg.RegistryTopic + "/" + registrySnapshotTopic: SchemaRegistrySnapshot,
		u.cfg.RegistryTopic + "/" + registryDeltaTopic:    SchemaRegistryDelta,
	}
}

// registryMessageAdmitted reports whether m arrived on one of the registry
// topics and carries that topic's schema; anything else is dropped here,
// with a log line, before the registry handler sees it.
func (u *Uplink) registryMessageAdmitted(m inboxMsg) bool {
	want, ok := u.registrySubscriptions()[m.topic]
	if !ok {
		u.log.Warn("registry message on a topic the gate does not read: dropped", "topic", m.topic)
		return false
	}
	var head struct {
		Schema string `json:"schema"`
	}
	if err := json.Unmarshal(m.payload, &head); err != nil || head.Schema != want {
		u.log.Warn("registry message does not carry its topic's schema: dropped", "topic", m.topic, "schema", head.Schema, "want", want)
		return false
	}
	return true
}

// limiter lets n events through per period and counts the rest.
type limiter struct {
	mu         sync.Mutex
	n          int
	per        time.Duration
	start      time.Time
	used       int
	suppressed int
}

func newLimiter(n int, per time.Duration) *limiter { return &limiter{n: n, per: per} }

// allow reports whether an event may go through now; when it may, it also
// returns how many were suppressed since the last one that went through.
func (l *limiter) allow(now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.start) >= l.per || now.Before(l.start) {
		l.start, l.used = now, 0
	}
	if l.used >= l.n {
		l.suppressed++
		return false, 0
	}
	l.used++
	s := l.suppressed
	l.suppressed = 0
	return true, s
}
