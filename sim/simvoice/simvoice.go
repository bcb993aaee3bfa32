// Package simvoice is a simulated UART voice board (SYN6288 framing) on a
// pty: the driver opens it by path as it opens the real board's USB serial
// adapter. It decodes every frame, answers as the board does (0x41 to a
// frame it takes; 0x4E or 0x4F after it to the status query), and keeps a
// transcript of what it was told to say. It can be unplugged, and made to
// keep speaking or to fall silent.
//
// It imports device/voice (the framing) and sim/simpty; only sim and tests
// import it.
package simvoice

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/hazgate/hazgate/device/voice"
	"github.com/hazgate/hazgate/sim/simpty"
)

// Board is one simulated voice board at a path.
type Board struct {
	port *simpty.Port

	mu      sync.Mutex
	said    []string
	bad     int  // frames it could not decode
	frames  int  // frames it took
	busy    bool // speaking: answers 0x4E to the status query
	busyFor time.Duration
	until   time.Time // with busyFor, when the speaking ends
	hold    bool      // speaking until Finish
	silent  bool      // takes frames, answers nothing
	changed chan struct{}
}

// New creates a board whose pty is reachable at path.
func New(path string) (*Board, error) {
	b := &Board{changed: make(chan struct{})}
	port, err := simpty.New(path, b.serve)
	if err != nil {
		return nil, fmt.Errorf("simvoice: %w", err)
	}
	b.port = port
	return b, nil
}

// Path returns the path the driver opens.
func (b *Board) Path() string { return b.port.Path() }

// Said returns the transcript: every text it was told to say, in order.
func (b *Board) Said() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.said)
}

// Frames counts the frames it took.
func (b *Board) Frames() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.frames
}

// Bad counts the frames it could not decode.
func (b *Board) Bad() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.bad
}

// Changed is closed when the board next takes a frame.
func (b *Board) Changed() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.changed
}

// SpeakFor makes every text keep the board busy for d of real time (0, the
// default: it is idle again at once).
func (b *Board) SpeakFor(d time.Duration) {
	b.mu.Lock()
	b.busyFor = d
	b.mu.Unlock()
}

// Hold makes the board speak each text until Finish.
func (b *Board) Hold(on bool) {
	b.mu.Lock()
	b.hold = on
	b.mu.Unlock()
}

// Finish ends the text being spoken.
func (b *Board) Finish() {
	b.mu.Lock()
	b.busy = false
	b.mu.Unlock()
}

// Silence makes the board take frames without answering (on) or answer
// again.
func (b *Board) Silence(on bool) {
	b.mu.Lock()
	b.silent = on
	b.mu.Unlock()
}

// Unplug removes the path and closes the pty.
func (b *Board) Unplug() error { return b.port.Unplug() }

// Plug creates a new pty under the same path.
func (b *Board) Plug() error { return b.port.Plug() }

// Close unplugs the board for good.
func (b *Board) Close() error { return b.port.Close() }

// speaking reports whether the board is busy now.
func (b *Board) speakingLocked() bool {
	if b.busy && !b.hold && b.busyFor > 0 && !time.Now().Before(b.until) {
		b.busy = false
	}
	return b.busy
}

// serve is the board's end of the pty, from a plugging to its unplugging.
func (b *Board) serve(ctx context.Context, rw io.ReadWriter) error {
	buf := make([]byte, 0, 512)
	chunk := make([]byte, 256)
	for {
		n, err := rw.Read(chunk)
		buf = append(buf, chunk[:n]...)
		for len(buf) > 0 {
			f, used, perr := voice.Parse(buf)
			if used == 0 {
				break // the rest of a frame is on its way
			}
			buf = buf[used:]
			if perr != nil {
				b.mu.Lock()
				b.bad++
				b.mu.Unlock()
				continue
			}
			if reply := b.take(f); len(reply) > 0 {
				if _, err := rw.Write(reply); err != nil {
					return err
				}
			}
		}
		if len(buf) > 4096 {
			buf = buf[:0]
		}
		if err != nil {
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

// take handles one frame and returns the reply.
func (b *Board) take(f voice.Frame) []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	defer func() {
		b.frames++
		close(b.changed)
		b.changed = make(chan struct{})
	}()
	var reply []byte
	switch f.Cmd {
	case voice.CmdSynthesize:
		text, err := voice.Decode(f.Text, f.Encoding())
		if err != nil {
			b.bad++
			return nil
		}
		b.said = append(b.said, text)
		b.busy, b.until = b.hold || b.busyFor > 0, time.Now().Add(b.busyFor)
		reply = []byte{voice.ReplyAck}
	case voice.CmdStatus:
		st := byte(voice.ReplyIdle)
		if b.speakingLocked() {
			st = voice.ReplyBusy
		}
		reply = []byte{voice.ReplyAck, st}
	case voice.CmdStop:
		b.busy = false
		reply = []byte{voice.ReplyAck}
	default:
		reply = []byte{voice.ReplyAck}
	}
	if b.silent {
		return nil
	}
	return reply
}
