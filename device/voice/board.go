package voice

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/hazgate/hazgate/clock"
)

// ErrUnplugged: the board's port cannot be opened, or its stream ended.
var ErrUnplugged = errors.New("voice: board unplugged")

// ErrNotResponding: the board took no frame (no 0x41) within ReplyTimeout.
var ErrNotResponding = errors.New("voice: board not responding")

// EventKind says what an Event is.
type EventKind int

// The kinds of Event.
const (
	// EventSaid: the board took Text and speaks it.
	EventSaid EventKind = iota + 1
	// EventDropped: Text was not spoken (Err says why: too old by its
	// turn, the queue full, a text the board cannot take).
	EventDropped
	// EventFault: the board is gone or silent; reported once per episode.
	EventFault
	// EventRecovered: the board answers again.
	EventRecovered
)

func (k EventKind) String() string {
	switch k {
	case EventSaid:
		return "said"
	case EventDropped:
		return "dropped"
	case EventFault:
		return "fault"
	case EventRecovered:
		return "recovered"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is something the board reports.
type Event struct {
	Kind EventKind
	Text string
	Err  error
}

// ErrStale: a prompt's turn came after MaxAge; it no longer fits what
// happens at the lane. ErrQueueFull: more prompts waited than QueueMax.
var (
	ErrStale     = errors.New("voice: prompt too old by its turn")
	ErrQueueFull = errors.New("voice: too many prompts waiting")
)

// Config configures a Board.
type Config struct {
	// Open opens the board's port (serialport.Open in production, a pty
	// in the simulator); it is called again after every fault.
	Open func() (io.ReadWriteCloser, error)
	// Encoding of the text (default GBK).
	Encoding Encoding
	// Clock times replies, polls, back-off and the prompts' age (default:
	// the real clock).
	Clock clock.Clock
	Log   *slog.Logger
	// ReplyTimeout bounds the wait for the board's answer (default 1 s).
	ReplyTimeout time.Duration
	// Poll is how often the board is asked whether it still speaks
	// before the next prompt is sent (default 200 ms).
	Poll time.Duration
	// Heartbeat is how often an idle board is asked its status, so that a
	// dead board is noticed before the next vehicle (default 30 s).
	Heartbeat time.Duration
	// MaxAge: a prompt whose turn comes later than this after it was
	// queued is dropped (default 15 s).
	MaxAge time.Duration
	// QueueMax bounds the prompts waiting; past it the oldest is dropped
	// (default 8).
	QueueMax int
	// MinBackoff and MaxBackoff bound the pause before reopening (defaults
	// 500 ms and 30 s); it doubles from one to the other.
	MinBackoff, MaxBackoff time.Duration
}

type item struct {
	text string
	at   time.Time
}

// Board speaks prompts on one voice board. Say queues, Run speaks.
type Board struct {
	cfg  Config
	wake chan struct{}

	mu       sync.Mutex
	queue    []item
	speaking string // the text last sent, until the board says it is idle
	inflight bool   // a frame sent, its ack not yet read
	report   func(Event)
}

// New returns a Board; start it with Run.
func New(cfg Config) *Board {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Encoding != GB2312 {
		cfg.Encoding = GBK
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.ReplyTimeout, time.Second)
	def(&cfg.Poll, 200*time.Millisecond)
	def(&cfg.Heartbeat, 30*time.Second)
	def(&cfg.MaxAge, 15*time.Second)
	def(&cfg.MinBackoff, 500*time.Millisecond)
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(30*time.Second, cfg.MinBackoff)
	}
	if cfg.QueueMax <= 0 {
		cfg.QueueMax = 8
	}
	return &Board{cfg: cfg, wake: make(chan struct{}, 1), report: func(Event) {}}
}

// Say queues text to be spoken after what is queued before it. It never
// blocks. A text the same as the last one queued, or (nothing queued) as
// the one the board is still speaking, is not repeated.
func (b *Board) Say(text string) {
	if text == "" {
		return
	}
	b.mu.Lock()
	if n := len(b.queue); (n > 0 && b.queue[n-1].text == text) || (n == 0 && b.speaking == text) {
		b.mu.Unlock()
		return
	}
	var dropped string
	if len(b.queue) >= b.cfg.QueueMax {
		dropped = b.queue[0].text
		b.queue = b.queue[1:]
	}
	b.queue = append(b.queue, item{text: text, at: b.cfg.Clock.Now()})
	report := b.report
	b.mu.Unlock()
	if dropped != "" {
		report(Event{Kind: EventDropped, Text: dropped, Err: ErrQueueFull})
	}
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// next takes the next prompt.
func (b *Board) next() (item, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.queue) == 0 {
		return item{}, false
	}
	it := b.queue[0]
	b.queue = b.queue[1:]
	return it, true
}

func (b *Board) setSpeaking(s string) {
	b.mu.Lock()
	b.speaking = s
	b.mu.Unlock()
}

func (b *Board) setInflight(on bool) {
	b.mu.Lock()
	b.inflight = on
	b.mu.Unlock()
}

// Pending counts the prompts the board has not taken yet: queued, or sent
// and not acknowledged.
func (b *Board) Pending() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(b.queue)
	if b.inflight {
		n++
	}
	return n
}

func (b *Board) isSpeaking() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.speaking != ""
}

// Run speaks the queued prompts until ctx is done, reopening the board
// after every fault, and calls report from its own goroutine (and Say's,
// for a prompt the full queue dropped). It returns ctx's error.
func (b *Board) Run(ctx context.Context, report func(Event)) error {
	b.mu.Lock()
	b.report = report
	b.mu.Unlock()
	faulted := false
	backoff := clock.Backoff{Min: b.cfg.MinBackoff, Max: b.cfg.MaxBackoff}
	up := func() {
		if faulted {
			b.cfg.Log.Info("voice: board recovered")
			report(Event{Kind: EventRecovered})
			faulted = false
		}
		backoff.Reset()
	}
	for {
		rw, err := b.cfg.Open()
		if err != nil {
			err = fmt.Errorf("%w: open: %w", ErrUnplugged, err)
		} else {
			err = b.session(ctx, rw, up, report) // closes rw
		}
		b.setSpeaking("")
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !faulted {
			b.cfg.Log.Warn("voice: fault", "err", err)
			report(Event{Kind: EventFault, Err: err})
			faulted = true
		}
		if !backoff.Wait(ctx, b.cfg.Clock) {
			return ctx.Err()
		}
		b.dropStale(report)
	}
}

// dropStale drops the prompts that waited past MaxAge.
func (b *Board) dropStale(report func(Event)) {
	now := b.cfg.Clock.Now()
	b.mu.Lock()
	var stale []string
	keep := b.queue[:0]
	for _, it := range b.queue {
		if now.Sub(it.at) > b.cfg.MaxAge {
			stale = append(stale, it.text)
		} else {
			keep = append(keep, it)
		}
	}
	b.queue = keep
	b.mu.Unlock()
	for _, s := range stale {
		report(Event{Kind: EventDropped, Text: s, Err: ErrStale})
	}
}

// conn is one open board: its replies arrive on in, its end on done.
type conn struct {
	b    *Board
	w    io.Writer
	in   chan []byte
	done chan struct{}
	err  error // why the stream ended, once done is closed
	buf  []byte
}

// session talks to one open board until it fails or ctx ends.
func (b *Board) session(ctx context.Context, rw io.ReadWriteCloser, up func(), report func(Event)) error {
	c := &conn{b: b, w: rw, in: make(chan []byte, 16), done: make(chan struct{})}
	stop := context.AfterFunc(ctx, func() { rw.Close() })
	defer stop()
	go func() {
		defer close(c.done)
		buf := make([]byte, 64)
		for {
			n, err := rw.Read(buf)
			if n > 0 {
				select {
				case c.in <- append([]byte(nil), buf[:n]...):
				default: // nobody waits for a reply: stray bytes
				}
			}
			if err != nil {
				c.err = fmt.Errorf("%w: %w", ErrUnplugged, err)
				return
			}
		}
	}()
	defer func() { rw.Close(); <-c.done }()

	busy, err := c.status(ctx)
	if err != nil {
		return err
	}
	up()
	if !busy {
		b.setSpeaking("")
	}
	for {
		wait := b.cfg.Heartbeat
		if b.isSpeaking() {
			wait = b.cfg.Poll
		}
		tick := make(chan struct{})
		t := b.cfg.Clock.AfterFunc(wait, func() { close(tick) })
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-c.done:
			t.Stop()
			return c.err
		case <-b.wake:
			t.Stop()
		case <-tick:
			busy, err := c.status(ctx)
			if err != nil {
				return err
			}
			if busy {
				continue
			}
			b.setSpeaking("")
		}
		if err := b.speakQueued(ctx, c, report); err != nil {
			return err
		}
	}
}

// speakQueued speaks every queued prompt, each once the board is idle.
func (b *Board) speakQueued(ctx context.Context, c *conn, report func(Event)) error {
	for {
		b.dropStale(report)
		if b.isSpeaking() {
			return nil // the poll sends the next one once the board is idle
		}
		it, ok := b.next()
		if !ok {
			return nil
		}
		f, err := SynthesizeFrame(it.text, b.cfg.Encoding)
		if err != nil {
			b.cfg.Log.Warn("voice: prompt not spoken", "text", it.text, "err", err)
			report(Event{Kind: EventDropped, Text: it.text, Err: err})
			continue
		}
		b.setSpeaking(it.text) // from now: the same text is not queued again
		b.setInflight(true)
		err = c.send(ctx, f, 1)
		b.setInflight(false)
		if err != nil {
			return err
		}
		if !c.ack() {
			return fmt.Errorf("%w: no 0x41 to a synthesize frame", ErrNotResponding)
		}
		report(Event{Kind: EventSaid, Text: it.text})
		// Tell the poll to look again soon: the next prompt waits for the
		// board to finish this one.
		select {
		case b.wake <- struct{}{}:
		default:
		}
		return nil
	}
}

// status asks whether the board speaks.
func (c *conn) status(ctx context.Context) (busy bool, err error) {
	if err := c.send(ctx, StatusFrame(), 2); err != nil {
		return false, err
	}
	for i := 0; i+1 < len(c.buf); i++ {
		if c.buf[i] == ReplyAck && (c.buf[i+1] == ReplyBusy || c.buf[i+1] == ReplyIdle) {
			return c.buf[i+1] == ReplyBusy, nil
		}
	}
	return false, fmt.Errorf("%w: no status reply (got % x)", ErrNotResponding, c.buf)
}

func (c *conn) ack() bool {
	for _, x := range c.buf {
		if x == ReplyAck {
			return true
		}
	}
	return false
}

// send writes frame and gathers the reply in c.buf: until it holds want
// bytes of a reply, or ReplyTimeout passes.
func (c *conn) send(ctx context.Context, frame []byte, want int) error {
	// What came before is stale: a reply past its time, the board's own
	// "done" byte.
	for drained := false; !drained; {
		select {
		case <-c.in:
		default:
			drained = true
		}
	}
	c.buf = c.buf[:0]
	if _, err := c.w.Write(frame); err != nil {
		return fmt.Errorf("%w: write: %w", ErrUnplugged, err)
	}
	timeout := make(chan struct{})
	t := c.b.cfg.Clock.AfterFunc(c.b.cfg.ReplyTimeout, func() { close(timeout) })
	defer t.Stop()
	for {
		if replyDone(c.buf, want) {
			return nil
		}
		select {
		case p := <-c.in:
			c.buf = append(c.buf, p...)
		case <-timeout:
			return nil // the caller judges what arrived
		case <-c.done:
			return c.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// replyDone: buf holds a whole reply (an ack, and for a status its
// busy/idle byte after it).
func replyDone(buf []byte, want int) bool {
	for i, x := range buf {
		if x != ReplyAck {
			continue
		}
		if want == 1 {
			return true
		}
		if i+1 < len(buf) && (buf[i+1] == ReplyBusy || buf[i+1] == ReplyIdle) {
			return true
		}
	}
	return false
}
