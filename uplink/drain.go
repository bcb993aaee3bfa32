package uplink

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/hazgate/hazgate/store"
)

// flight is a message handed to the connection, awaiting its PUBACK.
type flight struct {
	seq int64
	tok mqtt.Token
	at  time.Time // real time it was handed over
}

// drain sends the outbox over this session's connection until it drops or
// ctx is done. It starts from the first unsent row (everything the last
// connection did not get acknowledged), keeps at most InFlight messages
// awaiting their PUBACK, and hands the PUBACKs, in order, to the marker.
// Messages go out strictly in outbox order: a publish that fails ends the
// connection before anything after it is sent.
//
// One goroutine reads the rows, publishes them and takes their PUBACKs in
// order, waiting for the oldest when the window is full; when there is
// nothing to send it waits for Kick or the next poll.
func (s *session) drain(ctx context.Context) {
	u := s.u
	// Marks of the previous connection first, so that what it delivered
	// is not sent again.
	u.marks.flush(ctx)

	// The oldest flight's wait is checked against the ack timeout on a
	// tick (so the connection drops within a quarter of it, at most a
	// second, after), not with a timer per message.
	tick := time.NewTicker(max(min(u.cfg.AckTimeout/4, time.Second), time.Millisecond))
	defer tick.Stop()
	poll := time.NewTimer(u.cfg.Poll)
	defer poll.Stop()
	readErrs := newLogLimiter(time.Minute)
	window := make([]flight, 0, u.cfg.InFlight) // in seq order
	var rows []store.OutboxRow                  // read, not published yet
	var cursor int64                            // the last seq read
	more := true                                // rows may be waiting after cursor
	for {
		// Take the PUBACKs that came, in order.
		done, err := acked(window)
		if err != nil {
			s.drop(err)
			return
		}
		if done > 0 {
			// A PUBACK of this client is a PUBACK on this connection
			// (one client per connection, AutoReconnect off): unless the
			// connection is gone, they are marked.
			if s.isLost() {
				return
			}
			u.marks.add(window[:done])
			window = window[:copy(window, window[done:])]
		}
		if s.isLost() {
			return
		}
		if ctx.Err() != nil {
			s.stopFlush(window, rows, cursor)
			return
		}
		if len(rows) == 0 && more {
			var err error
			rows, err = u.st.PendingOutbox(ctx, cursor, u.cfg.Batch)
			if err != nil && ctx.Err() == nil && readErrs.ok() {
				u.log.Error("outbox read failed", "err", err)
			}
			more = len(rows) == u.cfg.Batch
			if len(rows) > 0 {
				cursor = rows[len(rows)-1].Seq
			}
		}
		if len(rows) > 0 && len(window) < cap(window) {
			f, ok := s.publish(&rows[0])
			if !ok {
				return
			}
			window = append(window, f)
			rows = rows[1:]
			continue
		}
		// Wait: for the oldest PUBACK, and for new rows when there are
		// none left to send.
		var oldest <-chan struct{}
		if len(window) > 0 {
			oldest = window[0].tok.Done()
		}
		var kick <-chan struct{}
		var polled <-chan time.Time
		if len(rows) == 0 {
			kick = u.kick
			poll.Reset(u.cfg.Poll)
			polled = poll.C
		}
		select {
		case <-oldest:
		case <-kick:
			more = true
		case <-polled:
			more = true
		case <-tick.C:
			if len(window) > 0 && time.Since(window[0].at) > u.cfg.AckTimeout {
				s.drop(errors.New("uplink: no PUBACK within the ack timeout"))
				return
			}
		case <-s.lost:
			return
		case <-ctx.Done():
			// The top of the loop takes the PUBACKs that came, then
			// settles the rest.
		}
	}
}

// msgSettling is logged as a clean stop starts waiting for the PUBACKs
// of what is in flight.
const msgSettling = "mqtt: stopping; waiting for the PUBACKs of the messages in flight"

// stopGrace bounds how long a clean stop waits for the PUBACKs of what is
// in flight (and the ack timeout, when shorter).
const stopGrace = 2 * time.Second

// settle waits, when the uplink stops, for the PUBACKs of the messages in
// flight (window, in seq order), at most grace, and marks those that
// came, in order up to the first that did not: a restart then does not
// send them again. Nothing more is published.
func (s *session) settle(window []flight, grace time.Duration) {
	if len(window) == 0 {
		return
	}
	grace = min(grace, s.u.cfg.AckTimeout)
	s.u.log.Info(msgSettling, "in_flight", len(window), "grace", grace)
	timer := time.NewTimer(grace)
	defer timer.Stop()
	done := 0
wait:
	for done < len(window) {
		select {
		case <-window[done].tok.Done():
			if window[done].tok.Error() != nil {
				break wait
			}
			done++
		case <-s.lost:
			break wait
		case <-timer.C:
			break wait
		}
	}
	if done > 0 && !s.isLost() {
		s.u.marks.add(window[:done])
	}
	if done < len(window) {
		s.u.log.Info("mqtt: stopping with messages unacknowledged; they are sent again after the restart",
			"in_flight", len(window)-done)
	}
}

// publish hands one row to the connection. It reports false when the
// publish failed at once (not connected, the hand-over timed out): the
// connection is then dropped, before anything later goes out.
func (s *session) publish(r *store.OutboxRow) (flight, bool) {
	u := s.u
	qos, retain := byte(1), false
	switch r.Kind {
	case store.KindTelemetry:
		qos = 0
	case store.KindStatus:
		retain = true
	}
	payload := stamp(r.Payload, r.EventSeq, u.clk.Now().Sub(r.CreatedAt), u.cfg.QueuedAfter)
	tok := s.cli.Publish(u.topic(r.Topic), qos, retain, payload)
	if isDone(tok) {
		// Done already: a failure, or a QoS 0 write.
		if err := tok.Error(); err != nil {
			s.drop(err)
			return flight{}, false
		}
	}
	u.published.Add(1)
	return flight{seq: r.Seq, tok: tok, at: time.Now()}, true
}

// isDone reports whether tok has completed, without waiting.
func isDone(tok mqtt.Token) bool {
	select {
	case <-tok.Done():
		return true
	default:
		return false
	}
}

// stamp returns a stored JSON object payload with "seq" (for events) and
// "queued_s" (when the message waited longer than after) added. A payload
// that is not an object is sent as stored.
func stamp(payload []byte, eventSeq int64, queued, after time.Duration) []byte {
	withQueued := queued > after
	if eventSeq <= 0 && !withQueued {
		return payload
	}
	p := bytes.TrimSpace(payload)
	if len(p) < 2 || p[0] != '{' || p[len(p)-1] != '}' {
		return payload
	}
	sep := len(bytes.TrimSpace(p[1:len(p)-1])) > 0
	out := make([]byte, 0, len(p)+64) // room for seq and queued_s
	if sep {
		out = append(out, p[:len(p)-1]...) // without the closing brace
	} else {
		out = append(out, '{') // without the blanks inside
	}
	if eventSeq > 0 {
		if sep {
			out = append(out, ',')
		}
		out = append(out, `"seq":`...)
		out = strconv.AppendInt(out, eventSeq, 10)
		sep = true
	}
	if withQueued {
		if sep {
			out = append(out, ',')
		}
		out = append(out, `"queued_s":`...)
		out = strconv.AppendFloat(out, queued.Seconds(), 'f', 3, 64)
	}
	return append(out, '}')
}

// marker writes the seqs of PUBACKed messages to the store (MarkSent),
// gathered for markEvery, off the path that waits for the PUBACKs: one
// transaction for many PUBACKs keeps the store's one writer free for the
// records the barrier waits for (while a backlog drains, a mark of the
// rows of 20 ms holds it a few ms). A mark lost to a crash only means a
// duplicate with the same id.
type marker struct {
	u       *Uplink
	mu      sync.Mutex
	seqs    []int64 // PUBACKed, not written yet
	wake    chan struct{}
	flushes chan chan struct{} // write now, then close the channel
}

// markEvery is how long marks gather before they are written.
const markEvery = 20 * time.Millisecond

func newMarker(u *Uplink) *marker {
	return &marker{u: u, wake: make(chan struct{}, 1), flushes: make(chan chan struct{})}
}

// add records the PUBACKs of the messages fs.
func (m *marker) add(fs []flight) {
	m.mu.Lock()
	for _, f := range fs {
		m.seqs = append(m.seqs, f.seq)
	}
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// run writes marks until ctx is done, then writes what is left. The
// writes themselves are not cancelled: a mark gathered as the uplink stops
// is written, not lost (which would send its messages again).
func (m *marker) run(ctx context.Context) {
	wctx := context.WithoutCancel(ctx)
	for {
		var flushed chan struct{}
		select {
		case <-m.wake:
			select {
			case <-time.After(markEvery):
			case flushed = <-m.flushes:
			case <-ctx.Done():
			}
		case flushed = <-m.flushes:
		case <-ctx.Done():
		}
		m.write(wctx)
		if flushed != nil {
			close(flushed)
		}
		if ctx.Err() != nil {
			return
		}
	}
}

func (m *marker) write(ctx context.Context) {
	m.mu.Lock()
	seqs := m.seqs
	m.seqs = nil
	m.mu.Unlock()
	if len(seqs) == 0 {
		return
	}
	if err := m.u.st.MarkSent(ctx, seqs...); err != nil {
		// The rows stay unsent: the next connection sends them again,
		// with the same ids.
		m.u.log.Error("outbox mark sent failed", "rows", len(seqs), "first", seqs[0], "last", seqs[len(seqs)-1], "err", err)
		return
	}
	m.u.acked.Add(int64(len(seqs)))
	select {
	case m.u.marked <- struct{}{}:
	default:
	}
}

// flush waits until every mark added so far is written (or ctx is done).
func (m *marker) flush(ctx context.Context) {
	flushed := make(chan struct{})
	select {
	case m.flushes <- flushed:
	case <-ctx.Done():
		return
	}
	select {
	case <-flushed:
	case <-ctx.Done():
	}
}

// logLimiter lets one log line through per period. It is safe for
// concurrent use.
type logLimiter struct {
	mu    sync.Mutex
	every time.Duration
	last  time.Time
}

func newLogLimiter(every time.Duration) *logLimiter { return &logLimiter{every: every} }

func (l *logLimiter) ok() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now := time.Now(); now.Sub(l.last) >= l.every {
		l.last = now
		return true
	}
	return false
}

// acked counts the messages at the head of window whose PUBACK came, in
// order; the error of the first that failed instead, if one did.
func acked(window []flight) (int, error) {
	done := 0
	for done < len(window) && isDone(window[done].tok) {
		if err := window[done].tok.Error(); err != nil {
			return done, err
		}
		done++
	}
	return done, nil
}
