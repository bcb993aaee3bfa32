package store

import (
	"context"
	"sync"
	"sync/atomic"
)

// writeQueue counts the writes waiting for the writer connection, so that
// a purge takes its next turn only when no record is waiting: a decision
// waits behind at most the one purge batch in progress when it came (the
// pool hands a freed connection to a random waiter, so without this a
// purge could win it again and again).
type writeQueue struct {
	mu      sync.Mutex
	waiting int
	idle    chan struct{} // closed while nothing waits; nil counts as closed

	// onTurn, when set (tests), is called with "wait <what>" when a write
	// starts waiting and with what once it holds the writer connection.
	onTurn atomic.Pointer[func(event string)]
}

func (q *writeQueue) turn(event string) {
	if f := q.onTurn.Load(); f != nil {
		(*f)(event)
	}
}

func (q *writeQueue) enter(what string) {
	q.turn("wait " + what)
	q.mu.Lock()
	if q.waiting == 0 {
		q.idle = make(chan struct{})
	}
	q.waiting++
	q.mu.Unlock()
}

// leave is called once the write holds the connection, or gave up.
func (q *writeQueue) leave(what string, got bool) {
	q.mu.Lock()
	q.waiting--
	if q.waiting == 0 {
		close(q.idle)
	}
	q.mu.Unlock()
	if got {
		q.turn(what)
	}
}

// yield returns once no write waits for the writer connection, or ctx ends.
func (q *writeQueue) yield(ctx context.Context) error {
	q.mu.Lock()
	idle := q.idle
	q.mu.Unlock()
	if idle == nil {
		return nil
	}
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
