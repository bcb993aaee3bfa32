package uplink

import (
	"context"
	"time"

	"github.com/hazgate/hazgate/store"
)

// DefaultStopFlush is how long, by default, a stopping uplink keeps
// sending the outbox (Config.StopFlush): with the retained "offline"
// (offlineWait) and the store's close it stays within the 5 s that
// `hazgate run` has after SIGTERM.
const DefaultStopFlush = 3 * time.Second

// offlineWait bounds the publish of the retained "offline" of a clean stop.
const offlineWait = time.Second

// The log lines of a stop, one for each step.
const (
	msgFlushing = "mqtt: stopping; sending what the outbox holds first"
	msgFlushed  = "outbox flushed: nothing left to send"
	msgKept     = "outbox not empty at the stop: the rest is sent after the restart"
)

// stopFlush, when the uplink stops while connected, goes on sending the
// outbox for at most StopFlush: the rows read and not yet published (rows,
// up to cursor), then every row still pending, at most InFlight awaiting
// their PUBACK at once; then it settles the window (settle) with the time
// left. Whatever does not go out in time stays in the outbox, unsent, and
// goes out after the restart with the same id.
func (s *session) stopFlush(window []flight, rows []store.OutboxRow, cursor int64) {
	u := s.u
	bound := u.cfg.StopFlush
	if bound < 0 {
		s.settle(window, stopGrace)
		return
	}
	deadline := time.Now().Add(bound)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if pending, _, err := u.st.OutboxStats(ctx); err == nil && pending > 0 {
		u.log.Info(msgFlushing, "pending", pending, "bound", bound)
	}
	more := true
	for ctx.Err() == nil && !s.isLost() {
		done, err := acked(window)
		if err != nil {
			s.drop(err)
			return
		}
		if done > 0 {
			u.marks.add(window[:done])
			window = window[:copy(window, window[done:])]
		}
		if len(rows) == 0 && more {
			var err error
			rows, err = u.st.PendingOutbox(ctx, cursor, u.cfg.Batch)
			if err != nil {
				break
			}
			more = len(rows) == u.cfg.Batch
			if len(rows) > 0 {
				cursor = rows[len(rows)-1].Seq
			}
		}
		if len(rows) == 0 {
			break // all published: what is left is the PUBACKs
		}
		if len(window) < cap(window) {
			f, ok := s.publish(&rows[0])
			if !ok {
				return
			}
			window = append(window, f)
			rows = rows[1:]
			continue
		}
		select {
		case <-window[0].tok.Done():
		case <-s.lost:
		case <-ctx.Done():
		}
	}
	if s.isLost() {
		return
	}
	s.settle(window, time.Until(deadline))
}

// logOutboxAtStop says, as Run returns (every PUBACK written), whether the
// outbox was flushed or how much of it waits for the restart.
func (u *Uplink) logOutboxAtStop() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	depth, oldest, err := u.st.OutboxStats(ctx)
	switch {
	case err != nil:
		u.log.Warn("outbox not looked at after the stop", "err", err)
	case depth == 0:
		u.log.Info(msgFlushed)
	default:
		u.log.Info(msgKept, "unsent", depth, "oldest", oldest.In(u.cfg.Location).Format(time.RFC3339))
	}
}
