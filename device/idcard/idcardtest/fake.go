// Package idcardtest is a fake GA 467 ID-card reader: it answers the
// protocol's commands on any io.ReadWriter (a pipe in tests, a pty in the
// simulator) with frames built from the card in its field, and can be told
// to misbehave (noise, silence, a status of choice, a failed SAM).
//
// It follows the protocol notes: find answers 9F while a card that has not
// been read is in the field and 80 otherwise (a card that was read must leave
// the field before find sees it again); select answers 90; read answers the
// text block and photo (and fingerprints for 30 10); the added address
// answers 90 with 70 bytes, or 91 when the card has none.
//
// It imports only idcard of ours; only tests and sim/simreader import it.
package idcardtest

import (
	"context"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"
	"unicode/utf16"

	"github.com/hazgate/hazgate/device/idcard"
)

// Card is what a fake card holds on the wire.
type Card struct {
	Text         []byte // 256 bytes
	Photo        []byte // 1024 bytes of WLT
	Fingerprints []byte // nil, or 512 or 1024 bytes
	AddedAddress string
}

// FromCard encodes c as a fake card (a synthetic photo when c has none).
func FromCard(c idcard.Card) (Card, error) {
	text, err := c.TextBlock()
	if err != nil {
		return Card{}, err
	}
	photo := c.Photo
	if photo == nil {
		photo = Photo(c.IDNumber)
	}
	return Card{Text: text, Photo: photo, Fingerprints: c.Fingerprints, AddedAddress: c.AddedAddress}, nil
}

// Photo returns a synthetic 1024-byte WLT photo derived from seed: the "WL"
// header and bytes that depend on seed, so different people have different
// photos.
func Photo(seed string) []byte {
	p := make([]byte, 1024)
	var h uint64 = 1469598103934665603
	for i := 0; i < len(seed); i++ {
		h = (h ^ uint64(seed[i])) * 1099511628211
	}
	rng := rand.New(rand.NewPCG(h, 0x57_4C))
	for i := range p {
		p[i] = byte(rng.Uint32())
	}
	copy(p, "WLfake")
	return p
}

// Reader is the fake reader. Change it through its methods while it serves.
type Reader struct {
	mu       sync.Mutex
	card     *Card
	halted   bool // the card in the field was read
	selected bool
	sam      byte
	status   map[uint16]byte
	silent   bool
	noise    bool
	rng      *rand.Rand
	baud     int
	reads    int
	onRead   func()
	onFind   func()
	stay     bool
	corrupt  map[uint16]bool
}

// New returns a fake reader with an empty field, a working SAM, no noise
// and no pacing.
func New() *Reader {
	return &Reader{sam: 0x90, status: map[uint16]byte{}, corrupt: map[uint16]bool{}, rng: rand.New(rand.NewPCG(1, 2))}
}

// Present puts a card in the field (replacing any card there).
func (r *Reader) Present(c Card) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.card, r.halted, r.selected = &c, false, false
}

// Remove takes the card out of the field.
func (r *Reader) Remove() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.card, r.halted, r.selected = nil, false, false
}

// SetSilent makes the reader answer nothing (on) or answer again (off).
func (r *Reader) SetSilent(on bool) { r.mu.Lock(); r.silent = on; r.mu.Unlock() }

// SetNoise makes the reader send stray bytes before its replies and between
// them (on), or not (off).
func (r *Reader) SetNoise(on bool) { r.mu.Lock(); r.noise = on; r.mu.Unlock() }

// SetSAM sets the SW3 that SAM status answers (0x90 working, 0x60 self-test
// failed...).
func (r *Reader) SetSAM(sw3 byte) { r.mu.Lock(); r.sam = sw3; r.mu.Unlock() }

// SetStatus makes every reply to c carry sw3 and no data; 0 restores the
// normal answer.
func (r *Reader) SetStatus(c idcard.Command, sw3 byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if sw3 == 0 {
		delete(r.status, c.Code())
	} else {
		r.status[c.Code()] = sw3
	}
}

// SetCorrupt makes every reply to c carry a wrong checksum (on), as a
// broken reader or a bad line would.
func (r *Reader) SetCorrupt(c idcard.Command, on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.corrupt[c.Code()] = on
}

// SetBaud paces replies at the line rate of baud, 8N1, as a UART would
// deliver them (0: as fast as the stream takes them). The request's own wire
// time is waited out before the reply starts.
func (r *Reader) SetBaud(baud int) { r.mu.Lock(); r.baud = baud; r.mu.Unlock() }

// OnRead sets a function called after each successful read reply was sent.
func (r *Reader) OnRead(f func()) { r.mu.Lock(); r.onRead = f; r.mu.Unlock() }

// OnFind sets a function called after each find card was answered.
func (r *Reader) OnFind(f func()) { r.mu.Lock(); r.onFind = f; r.mu.Unlock() }

// SetStayFound makes find keep answering 9F while a card that was read stays
// in the field, as some readers do (off: 80 until it leaves and comes back).
func (r *Reader) SetStayFound(on bool) { r.mu.Lock(); r.stay = on; r.mu.Unlock() }

// Reads returns how many read replies (30 01 / 30 10 with 90) were sent.
func (r *Reader) Reads() int { r.mu.Lock(); defer r.mu.Unlock(); return r.reads }

// Serve answers requests read from rw until rw fails or ctx is done (close
// rw to stop a Serve blocked in a read). It returns the error that ended it.
func (r *Reader) Serve(ctx context.Context, rw io.ReadWriter) error {
	buf := make([]byte, 0, 256)
	chunk := make([]byte, 256)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := rw.Read(chunk)
		buf = append(buf, chunk[:n]...)
		for {
			req, rest, ok := nextRequest(buf)
			buf = append(buf[:0], rest...)
			if !ok {
				break
			}
			if werr := r.answer(rw, req); werr != nil {
				return werr
			}
		}
		if err != nil {
			return err
		}
	}
}

// request is one parsed request: its command, or the SW3 with which a
// malformed one is answered.
type request struct {
	cmd  idcard.Command
	bad  byte // 0x10 checksum, 0x11 length
	size int
}

// nextRequest takes the first request frame out of buf.
func nextRequest(buf []byte) (request, []byte, bool) {
	for i := 0; i+7 <= len(buf); i++ {
		if buf[i] != 0xAA || buf[i+1] != 0xAA || buf[i+2] != 0xAA || buf[i+3] != 0x96 || buf[i+4] != 0x69 {
			continue
		}
		n := int(buf[i+5])<<8 | int(buf[i+6])
		if n < 3 || n > 64 {
			return request{bad: 0x11, size: 7}, buf[i+7:], true
		}
		end := i + 7 + n
		if end > len(buf) {
			return request{}, buf[i:], false
		}
		var x byte
		for _, c := range buf[i+5 : end-1] {
			x ^= c
		}
		if x != buf[end-1] {
			return request{bad: 0x10, size: end - i}, buf[end:], true
		}
		return request{cmd: idcard.Command{Cmd: buf[i+7], Para: buf[i+8]}, size: end - i}, buf[end:], true
	}
	// Keep a tail that may start a frame.
	if len(buf) > 6 {
		return request{}, buf[len(buf)-6:], false
	}
	return request{}, buf, false
}

// answer writes the reply to req (nothing when silent).
func (r *Reader) answer(w io.Writer, req request) error {
	r.mu.Lock()
	if r.silent {
		r.mu.Unlock()
		return nil
	}
	f, isRead := r.replyLocked(req)
	out := f.Encode()
	if req.bad == 0 && r.corrupt[req.cmd.Code()] {
		out[len(out)-1] ^= 0xFF
	}
	if r.noise {
		out = append(r.strayLocked(), out...)
	}
	baud, onRead, onFind := r.baud, r.onRead, r.onFind
	if isRead {
		r.reads++
	}
	r.mu.Unlock()
	if err := write(w, out, baud, req.size); err != nil {
		return err
	}
	if isRead && onRead != nil {
		onRead()
	}
	if req.bad == 0 && req.cmd.Code() == idcard.CmdFind.Code() && onFind != nil {
		onFind()
	}
	return nil
}

// replyLocked builds the reply frame; isRead is a successful card read.
func (r *Reader) replyLocked(req request) (f idcard.Frame, isRead bool) {
	if req.bad != 0 {
		return idcard.Frame{SW3: req.bad}, false
	}
	c := req.cmd
	if sw3, ok := r.status[c.Code()]; ok {
		return idcard.Frame{SW3: sw3}, false
	}
	switch c.Code() {
	case 0x10FF, 0x11FF:
		return idcard.Frame{SW3: r.sam}, false
	case 0x12FF:
		return idcard.Frame{SW3: 0x90, Data: []byte("HAZGATE-FAKE-SAM")}, false
	case 0x2001:
		if r.card == nil || (r.halted && !r.stay) {
			return idcard.Frame{SW3: 0x80}, false
		}
		return idcard.Frame{SW3: 0x9F, Data: []byte{0, 0, 0, 0}}, false
	case 0x2002:
		if r.card == nil || (r.halted && !r.stay) {
			return idcard.Frame{SW3: 0x81}, false
		}
		r.selected = true
		return idcard.Frame{SW3: 0x90, Data: make([]byte, 8)}, false
	case 0x3001, 0x3010:
		if r.card == nil || !r.selected {
			return idcard.Frame{SW3: 0x41}, false
		}
		r.halted = true
		k := r.card
		data := []byte{byte(len(k.Text) >> 8), byte(len(k.Text)), byte(len(k.Photo) >> 8), byte(len(k.Photo))}
		if c.Para == 0x10 {
			data = append(data, byte(len(k.Fingerprints)>>8), byte(len(k.Fingerprints)))
		}
		data = append(append(data, k.Text...), k.Photo...)
		if c.Para == 0x10 {
			data = append(data, k.Fingerprints...)
		}
		return idcard.Frame{SW3: 0x90, Data: data}, true
	case 0x3003:
		if r.card == nil || !r.selected {
			return idcard.Frame{SW3: 0x41}, false
		}
		if r.card.AddedAddress == "" {
			return idcard.Frame{SW3: 0x91}, false
		}
		return idcard.Frame{SW3: 0x90, Data: AddedAddress(r.card.AddedAddress)}, false
	}
	return idcard.Frame{SW3: 0x21}, false
}

// AddedAddress encodes an added address as its 70 bytes of UTF-16LE padded
// with spaces (a longer address is cut).
func AddedAddress(s string) []byte {
	b := make([]byte, 70)
	for i := 0; i < len(b); i += 2 {
		b[i] = ' '
	}
	u := utf16.Encode([]rune(s))
	for i := 0; i < len(u) && 2*i+1 < len(b); i++ {
		b[2*i], b[2*i+1] = byte(u[i]), byte(u[i]>>8)
	}
	return b
}

// strayLocked returns 1 to 3 stray bytes, sometimes the start of a preamble.
func (r *Reader) strayLocked() []byte {
	n := 1 + r.rng.IntN(3)
	out := make([]byte, n)
	for i := range out {
		out[i] = byte(r.rng.Uint32())
	}
	if r.rng.IntN(3) == 0 {
		out = append(out, 0xAA, 0xAA)
	}
	return out
}

// write sends out, paced at baud when baud > 0: the request's wire time
// first, then each piece no earlier than a UART would have delivered it.
func write(w io.Writer, out []byte, baud, reqSize int) error {
	if baud <= 0 {
		_, err := w.Write(out)
		return err
	}
	start := time.Now().Add(idcard.WireTime(reqSize, baud))
	const piece = 16
	for off := 0; off < len(out); off += piece {
		end := min(off+piece, len(out))
		due := start.Add(idcard.WireTime(end, baud))
		if end < len(out) {
			time.Sleep(time.Until(due))
		} else {
			// The last piece decides when the reply is complete: sleep
			// most of the way, then wait out the rest without the timer's
			// slack.
			time.Sleep(time.Until(due) - 300*time.Microsecond)
			for time.Now().Before(due) {
				runtime.Gosched()
			}
		}
		if _, err := w.Write(out[off:end]); err != nil {
			return err
		}
	}
	return nil
}
