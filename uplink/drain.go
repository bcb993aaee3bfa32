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
	gen uint64
	tok mqtt.Token
	at  time.Time // real time it was handed over
}

// drain sends the outbox over this session's connection until it drops or
// ctx is done. It starts from the first unsent row (everything the last
// connection did not get acknowledged), reads on from a cursor, keeps at
// most InFlight messages awaiting their PUBACK, and hands each PUBACK to
// the marker. Messages go out strictly in outbox order: a publish that
// fails ends the connection before anything after it is sent.
func (s *session) drain(ctx context.Context) {
	u := s.u
	// Marks of the previous connection first, so that what it delivered
	// is not sent again.
	u.marks.flush(ctx)

	slots := make(chan struct{}, u.cfg.InFlight)
	flights := make(chan flight, u.cfg.InFlight)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.collect(ctx, flights, slots) }()
	defer func() {
		close(flights)
		wg.Wait()
	}()

	poll := time.NewTimer(u.cfg.Poll)
	defer poll.Stop()
	var (
		cursor int64
		rows   []store.OutboxRow
		errLog = newLogLimiter(time.Minute)
	)
	for {
		if s.isLost() || ctx.Err() != nil {
			return
		}
		if len(rows) == 0 {
			var err error
			rows, err = u.st.PendingOutbox(ctx, cursor, u.cfg.Batch)
			if err != nil && ctx.Err() == nil && errLog.ok() {
				u.log.Error("outbox read failed", "err", err)
			}
			if len(rows) == 0 {
				poll.Reset(u.cfg.Poll)
				select {
				case <-u.kick:
				case <-poll.C:
				case <-s.lost:
					return
				case <-ctx.Done():
					return
				}
				continue
			}
		}
		r := rows[0]
		select {
		case slots <- struct{}{}:
		case <-s.lost:
			return
		case <-ctx.Done():
			return
		}
		qos, retain := byte(1), false
		switch r.Kind {
		case store.KindTelemetry:
			qos = 0
		case store.KindStatus:
			retain = true
		}
		payload := stamp(r.Payload, r.EventSeq, u.clk.Now().Sub(r.CreatedAt), u.cfg.QueuedAfter)
		tok := s.cli.Publish(u.topic(r.Topic), qos, retain, payload)
		select {
		case <-tok.Done():
			// Done already: only a failure (not connected, the hand-over
			// timed out) or a QoS 0 write. A failure ends the
			// connection before anything later goes out.
			if err := tok.Error(); err != nil {
				s.drop(err)
				return
			}
		default:
		}
		u.published.Add(1)
		flights <- flight{seq: r.Seq, gen: s.gen, tok: tok, at: time.Now()}
		rows, cursor = rows[1:], r.Seq
	}
}

// collect waits for each flight's acknowledgement in order and hands the
// acknowledged seqs to the marker. An error, a lost connection or the ack
// timeout ends the connection.
func (s *session) collect(ctx context.Context, flights <-chan flight, slots <-chan struct{}) {
	u := s.u
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for f := range flights {
		timer.Reset(time.Until(f.at.Add(u.cfg.AckTimeout)))
		select {
		case <-f.tok.Done():
		case <-s.lost:
			return
		case <-ctx.Done():
			return
		case <-timer.C:
			s.drop(errors.New("uplink: no PUBACK within the ack timeout"))
			return
		}
		if err := f.tok.Error(); err != nil {
			s.drop(err)
			return
		}
		// A PUBACK of this client is a PUBACK on this connection; the
		// generation check keeps it so should that ever change.
		if f.gen != s.gen || s.isLost() {
			return
		}
		u.marks.add(f.seq)
		<-slots
	}
}

// stamp adds "seq" (for events) and "queued_s" (when the message waited
// longer than after) to a stored JSON object payload. A payload that is not
// an object is sent as stored.
func stamp(payload []byte, eventSeq int64, queued, after time.Duration) []byte {
	withQueued := queued > after
	if eventSeq <= 0 && !withQueued {
		return payload
	}
	p := bytes.TrimSpace(payload)
	if len(p) < 2 || p[0] != '{' || p[len(p)-1] != '}' {
		return payload
	}
	out := make([]byte, 0, len(p)+40)
	sep := len(bytes.TrimSpace(p[1:len(p)-1])) > 0
	if sep {
		out = append(out, p[:len(p)-1]...)
	} else {
		out = append(out, '{')
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
// waits for the acknowledgements.
type marker struct {
	u        *Uplink
	mu       sync.Mutex
	pending  []int64
	wake     chan struct{}
	flushNow chan struct{} // write without gathering (flush waits)
	idle     *sync.Cond    // signalled when pending was written
	busy     bool
}

func newMarker(u *Uplink) *marker {
	m := &marker{u: u, wake: make(chan struct{}, 1), flushNow: make(chan struct{}, 1)}
	m.idle = sync.NewCond(&m.mu)
	return m
}

func (m *marker) add(seq int64) {
	m.mu.Lock()
	m.pending = append(m.pending, seq)
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

// run writes marks until ctx is done, then writes what is left.
func (m *marker) run(ctx context.Context) {
	gather := time.NewTimer(markEvery)
	defer gather.Stop()
	for {
		select {
		case <-m.wake:
		case <-ctx.Done():
			m.write(context.WithoutCancel(ctx))
			return
		}
		gather.Reset(markEvery)
		select {
		case <-gather.C:
		case <-m.flushNow:
		case <-ctx.Done():
		}
		m.write(ctx)
	}
}

func (m *marker) write(ctx context.Context) {
	m.mu.Lock()
	batch := m.pending
	m.pending = nil
	m.busy = len(batch) > 0
	m.mu.Unlock()
	if len(batch) > 0 {
		if err := m.u.st.MarkSent(ctx, batch...); err != nil {
			// The rows stay unsent: the next connection sends them again,
			// with the same ids.
			m.u.log.Error("outbox mark sent failed", "rows", len(batch), "err", err)
		} else {
			m.u.acked.Add(int64(len(batch)))
			select {
			case m.u.marked <- struct{}{}:
			default:
			}
		}
	}
	m.mu.Lock()
	m.busy = false
	m.idle.Broadcast()
	m.mu.Unlock()
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
