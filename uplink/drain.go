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
// read fetches the next rows in another goroutine (reading the outbox
// overlaps with publishing); this one publishes them and takes their
// PUBACKs in order, waiting for the oldest when the window is full: one
// hand-over per message, paho completing its token.
func (s *session) drain(ctx context.Context) {
	u := s.u
	// Marks of the previous connection first, so that what it delivered
	// is not sent again.
	u.marks.flush(ctx)

	// One batch waits here while read fetches the next: enough to keep
	// the window full, and a bound on what is read ahead.
	batches := make(chan []store.OutboxRow, 1)
	readCtx, stopReading := context.WithCancel(ctx)
	readDone := make(chan struct{})
	go func() { defer close(readDone); s.read(readCtx, batches) }()
	defer func() {
		stopReading()
		<-readDone
	}()

	// The oldest flight's wait is checked against the ack timeout on a
	// tick (so the connection drops within a quarter of it, at most a
	// second, after), not with a timer per message.
	tick := time.NewTicker(max(min(u.cfg.AckTimeout/4, time.Second), time.Millisecond))
	defer tick.Stop()
	window := make([]flight, 0, u.cfg.InFlight) // in seq order
	topics := map[string]string{}               // suffix -> full topic
	var rows []store.OutboxRow
	for {
		// Take the PUBACKs that came, in order.
		done := 0
		for done < len(window) && isDone(window[done].tok) {
			if err := window[done].tok.Error(); err != nil {
				s.drop(err)
				return
			}
			done++
		}
		if done > 0 {
			// A PUBACK of this client is a PUBACK on this connection
			// (one client per connection, AutoReconnect off): unless the
			// connection is gone, they are marked.
			if s.isLost() {
				return
			}
			u.marks.add(s.gen, window[0].seq, window[done-1].seq, int64(done))
			window = window[:copy(window, window[done:])]
		}
		if s.isLost() {
			return
		}
		if ctx.Err() != nil {
			s.settle(window)
			return
		}
		if len(rows) > 0 && len(window) < cap(window) {
			f, ok := s.publish(topics, &rows[0])
			if !ok {
				return
			}
			window = append(window, f)
			rows = rows[1:]
			continue
		}
		// Wait: for the oldest PUBACK, or for rows when there are none.
		var oldest <-chan struct{}
		if len(window) > 0 {
			oldest = window[0].tok.Done()
		}
		var more <-chan []store.OutboxRow
		if len(rows) == 0 {
			more = batches
		}
		select {
		case <-oldest:
		case rows = <-more:
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

// testHookSettle, when a test sets it (before the uplink runs), is called
// as a clean stop starts waiting for n messages in flight.
var testHookSettle func(n int)

// stopGrace bounds how long a clean stop waits for the PUBACKs of what is
// in flight (and the ack timeout, when shorter).
const stopGrace = 2 * time.Second

// settle waits, when the uplink stops, for the PUBACKs of the messages in
// flight (window, in seq order), at most stopGrace, and marks those that
// came, in order up to the first that did not: a restart then does not
// send them again. Nothing more is published.
func (s *session) settle(window []flight) {
	if len(window) == 0 {
		return
	}
	if testHookSettle != nil {
		testHookSettle(len(window))
	}
	grace := time.NewTimer(min(stopGrace, s.u.cfg.AckTimeout))
	defer grace.Stop()
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
		case <-grace.C:
			break wait
		}
	}
	if done > 0 && !s.isLost() {
		s.u.marks.add(s.gen, window[0].seq, window[done-1].seq, int64(done))
	}
	if done < len(window) {
		s.u.log.Info("mqtt: stopping with messages unacknowledged; they are sent again after the restart",
			"in_flight", len(window)-done)
	}
}

// publish hands one row to the connection. It reports false when the
// publish failed at once (not connected, the hand-over timed out): the
// connection is then dropped, before anything later goes out.
func (s *session) publish(topics map[string]string, r *store.OutboxRow) (flight, bool) {
	u := s.u
	qos, retain := byte(1), false
	switch r.Kind {
	case store.KindTelemetry:
		qos = 0
	case store.KindStatus:
		retain = true
	}
	topic, ok := topics[r.Topic]
	if !ok {
		topic = u.topic(r.Topic)
		topics[r.Topic] = topic
	}
	// The row is not used again: stamp may write into its payload's
	// spare capacity.
	payload := stamp(r.Payload, r.EventSeq, u.clk.Now().Sub(r.CreatedAt), u.cfg.QueuedAfter)
	tok := s.cli.Publish(topic, qos, retain, payload)
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

// read fetches the unsent rows in outbox order, from the first one (what
// the last connection did not get acknowledged) on, and hands them to the
// drain a batch at a time, until the connection drops or ctx is done. When
// there is nothing to send it waits for Kick or the next poll.
func (s *session) read(ctx context.Context, out chan<- []store.OutboxRow) {
	u := s.u
	errLog := newLogLimiter(time.Minute)
	pending := u.st.PendingOutbox
	if r, err := u.st.OutboxReader(ctx); err != nil {
		if ctx.Err() == nil {
			u.log.Error("outbox reader not prepared; reading without", "err", err)
		}
	} else {
		defer r.Close()
		pending = r.Pending
	}
	poll := time.NewTimer(u.cfg.Poll)
	defer poll.Stop()
	var cursor int64
	for {
		rows, err := pending(ctx, cursor, u.cfg.Batch)
		if err != nil && ctx.Err() == nil && errLog.ok() {
			u.log.Error("outbox read failed", "err", err)
		}
		if len(rows) > 0 {
			select {
			case out <- rows:
				cursor = rows[len(rows)-1].Seq
				continue
			case <-s.lost:
				return
			case <-ctx.Done():
				return
			}
		}
		poll.Reset(u.cfg.Poll)
		select {
		case <-u.kick:
		case <-poll.C:
		case <-s.lost:
			return
		case <-ctx.Done():
			return
		}
	}
}

// stamp adds "seq" (for events) and "queued_s" (when the message waited
// longer than after) to a stored JSON object payload. A payload that is not
// an object is sent as stored. stamp writes into payload's spare capacity
// when there is enough (the store leaves store.PayloadRoom), and allocates
// otherwise: the caller must not use payload afterwards.
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
	var out []byte
	const most = len(`,"seq":-9223372036854775808,"queued_s":}`) + 24 // 24: a float64 with 3 decimals
	if cap(p)-len(p) >= most {
		out = p[:len(p)-1] // in place: the closing brace is written again
	} else {
		out = append(make([]byte, 0, len(p)+most), p[:len(p)-1]...)
	}
	if !sep {
		out = out[:1] // "{", without the blanks inside
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

// marker writes PUBACKed seqs to the store in batches, off the path that
// waits for the acknowledgements. What one connection delivered is a
// range of seqs: every unsent row from the first it sent to the last it
// had acknowledged (drain sends them in order, from the first unsent row,
// and hands over the acknowledgements in that order, stopping at the first
// that fails). So a batch is one range per connection, and the store marks
// a range by moving its low-water mark (store.MarkSentRange); the rows'
// sent_at is written when the uplink is idle (store.StampSent).
type marker struct {
	u        *Uplink
	mu       sync.Mutex
	pending  []markRange
	wake     chan struct{}
	flushNow chan struct{} // write without gathering (flush waits)
	idle     *sync.Cond    // signalled when pending was written
	busy     bool
	stampLog *logLimiter
}

// markRange is what one connection (gen) had acknowledged: every unsent
// row from first to last, n of them.
type markRange struct {
	gen         uint64
	first, last int64
	n           int64
}

func newMarker(u *Uplink) *marker {
	m := &marker{u: u, wake: make(chan struct{}, 1), flushNow: make(chan struct{}, 1), stampLog: newLogLimiter(time.Minute)}
	m.idle = sync.NewCond(&m.mu)
	return m
}

// add records the PUBACKs of n messages on connection gen, from seq first
// to last: every unsent row in between. A connection's PUBACKs come in
// seq order.
func (m *marker) add(gen uint64, first, last, n int64) {
	m.mu.Lock()
	if k := len(m.pending) - 1; k >= 0 && m.pending[k].gen == gen {
		m.pending[k].last = last
		m.pending[k].n += n
	} else {
		m.pending = append(m.pending, markRange{gen: gen, first: first, last: last, n: n})
	}
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// markEvery is how long marks gather before they are written: one short
// transaction for many PUBACKs keeps the store's one writer free for the
// records the barrier waits for. A mark lost to a crash only means a
// duplicate with the same id.
const markEvery = 20 * time.Millisecond

// stampIdle is how long the marker waits without PUBACKs before it writes
// the sent_at of what it marked (stampRows rows to a transaction, stopping
// as soon as PUBACKs come again): bookkeeping, kept off the busy path.
const (
	stampIdle = time.Second
	stampRows = 256
)

// run writes marks until ctx is done, then writes what is left. The
// writes themselves are not cancelled: a mark gathered as the uplink stops
// is written, not lost (which would send its messages again).
func (m *marker) run(ctx context.Context) {
	wctx := context.WithoutCancel(ctx)
	gather := time.NewTimer(markEvery)
	defer gather.Stop()
	// Also at start: what an earlier run marked and did not stamp.
	idle := time.NewTimer(stampIdle)
	defer idle.Stop()
	for {
		select {
		case <-m.wake:
		case <-idle.C:
			m.stamp(ctx)
			continue
		case <-ctx.Done():
			m.write(wctx)
			return
		}
		gather.Reset(markEvery)
		select {
		case <-gather.C:
		case <-m.flushNow:
		case <-ctx.Done():
		}
		m.write(wctx)
		idle.Reset(stampIdle)
	}
}

func (m *marker) write(ctx context.Context) {
	m.mu.Lock()
	batch := m.pending
	m.pending = nil
	m.busy = len(batch) > 0
	m.mu.Unlock()
	wrote := false
	for _, r := range batch {
		if err := m.u.st.MarkSentRange(ctx, r.first, r.last); err != nil {
			// The rows stay unsent: the next connection sends them again,
			// with the same ids. A later range is still marked (the
			// store then writes its rows, as the mark cannot pass the
			// unsent ones).
			m.u.log.Error("outbox mark sent failed", "rows", r.n, "first", r.first, "last", r.last, "err", err)
			continue
		}
		m.u.acked.Add(r.n)
		wrote = true
	}
	if wrote {
		select {
		case m.u.marked <- struct{}{}:
		default:
		}
	}
	m.mu.Lock()
	m.busy = false
	m.idle.Broadcast()
	m.mu.Unlock()
}

// stamp writes the sent_at of marked rows until none is left, ctx is done,
// or PUBACKs are waiting to be marked.
func (m *marker) stamp(ctx context.Context) {
	for ctx.Err() == nil && len(m.wake) == 0 && len(m.flushNow) == 0 {
		more, err := m.u.st.StampSent(ctx, stampRows)
		if err != nil {
			if ctx.Err() == nil && m.stampLog.ok() {
				m.u.log.Warn("outbox: writing sent_at failed; retried when idle", "err", err)
			}
			return
		}
		if !more {
			return
		}
	}
}

// flush waits until every mark added so far is written (or ctx is done).
func (m *marker) flush(ctx context.Context) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for (len(m.pending) > 0 || m.busy) && ctx.Err() == nil {
		for _, c := range []chan struct{}{m.wake, m.flushNow} {
			select {
			case c <- struct{}{}:
			default:
			}
		}
		m.idle.Wait()
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
