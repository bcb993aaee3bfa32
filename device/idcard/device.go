package idcard

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

// Options tune a Device. The zero value works at 115200 baud on the real
// clock.
type Options struct {
	// Clock times replies out (default: the real clock).
	Clock clock.Clock
	// Timeout is how long a reply may take beyond its time on the wire
	// (default 500 ms).
	Timeout time.Duration
	// Baud is the line rate, used to allow each reply its wire time
	// (default 115200).
	Baud int
	// Log receives debug lines about noise and odd replies (default: none).
	Log *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Timeout <= 0 {
		o.Timeout = 500 * time.Millisecond
	}
	if o.Baud <= 0 {
		o.Baud = 115200
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}

// WireTime is how long n bytes take on a UART at baud, 8N1 (10 bits a byte).
func WireTime(n, baud int) time.Duration {
	return time.Duration(int64(n) * 10 * int64(time.Second) / int64(baud))
}

// maxReply is the longest reply a command can get.
func maxReply(c Command) int {
	switch c {
	case CmdRead:
		return 1297
	case CmdReadFP:
		return 2321
	case CmdAddedAddress:
		return 96
	}
	return 64
}

// Device is one GA 467 reader on a byte stream. It runs one transaction at a
// time; its methods are safe to call from several goroutines.
type Device struct {
	rw  io.ReadWriter
	opt Options

	chunks chan []byte
	dead   chan struct{} // closed when the pump stops; perr is then set
	perr   error
	stop   chan struct{}
	once   sync.Once

	mu  sync.Mutex // one transaction at a time
	buf []byte
}

// New returns a Device on rw and starts reading from it. Close stops it (and
// closes rw when it is an io.Closer).
func New(rw io.ReadWriter, opt Options) *Device {
	d := &Device{
		rw:     rw,
		opt:    opt.withDefaults(),
		chunks: make(chan []byte, 64),
		dead:   make(chan struct{}),
		stop:   make(chan struct{}),
	}
	// Not joined: pump ends when the stream fails or, after Close, when
	// the closed stream's Read returns (a serial port, pty or pipe does at
	// once). Close does not wait for it: a stream that is no io.Closer
	// ends only when its other side does.
	go d.pump()
	return d
}

// pump moves bytes from the stream to the transactions until the stream
// fails or the device is closed.
func (d *Device) pump() {
	defer close(d.dead)
	for {
		b := make([]byte, 2048)
		n, err := d.rw.Read(b)
		if n > 0 {
			select {
			case d.chunks <- b[:n]:
			case <-d.stop:
				d.perr = ErrClosed
				return
			}
		}
		if err != nil {
			select {
			case <-d.stop:
				d.perr = ErrClosed
			default:
				// A stream that ends or fails is a reader that is gone: a
				// serial port hides its timeouts, a pty or pipe ends only
				// when its other side does.
				d.perr = fmt.Errorf("%w: %w", ErrUnplugged, err)
			}
			return
		}
	}
}

// Close stops the device and closes the stream when it can be closed.
func (d *Device) Close() error {
	var err error
	d.once.Do(func() {
		close(d.stop)
		if c, ok := d.rw.(io.Closer); ok {
			err = c.Close()
		}
	})
	return err
}

// Transact sends c and returns the reader's reply frame. The reply must come
// within the Timeout plus its wire time; stray bytes and frames with a bad
// checksum on the way are skipped. It fails with ErrTimeout (nothing valid
// came), ErrBadFrame (only frames with a bad checksum came), ErrUnplugged or
// ErrClosed (the stream ended), or ctx's error. It does not judge SW3.
func (d *Device) Transact(ctx context.Context, c Command) (Frame, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.discardStale()
	select {
	case <-d.dead:
		return Frame{}, d.perr
	default:
	}
	if _, err := d.rw.Write(c.Encode()); err != nil {
		select {
		case <-d.stop:
			return Frame{}, ErrClosed
		default:
		}
		return Frame{}, fmt.Errorf("%w: write %v: %w", ErrUnplugged, c, err)
	}
	wait := d.opt.Timeout + 2*WireTime(maxReply(c)+10, d.opt.Baud)
	expired := make(chan struct{})
	t := d.opt.Clock.AfterFunc(wait, func() { close(expired) })
	defer t.Stop()
	rejected := false
	for {
		r := Scan(d.buf)
		if r.Rejected > 0 {
			rejected = true
		}
		if r.OK {
			f := r.Frame
			f.Data = append([]byte(nil), f.Data...)
			d.buf = append(d.buf[:0], d.buf[r.Consumed:]...)
			if rejected {
				d.opt.Log.Debug("idcard: skipped a bad frame before the reply", "command", c.String())
			}
			return f, nil
		}
		if r.Consumed > 0 {
			d.opt.Log.Debug("idcard: skipped stray bytes", "command", c.String(), "bytes", r.Consumed)
			d.buf = append(d.buf[:0], d.buf[r.Consumed:]...)
		}
		select {
		case b := <-d.chunks:
			d.buf = append(d.buf, b...)
		case <-expired:
			if rejected {
				return Frame{}, fmt.Errorf("%w: no valid reply to %v in %v (checksum or length mismatch)", ErrBadFrame, c, wait)
			}
			return Frame{}, fmt.Errorf("%w: %v unanswered after %v", ErrTimeout, c, wait)
		case <-d.dead:
			// Use what arrived before the stream ended.
			if len(d.chunks) > 0 {
				continue
			}
			return Frame{}, d.perr
		case <-ctx.Done():
			return Frame{}, ctx.Err()
		}
	}
}

// discardStale drops bytes that arrived outside a transaction (a late reply,
// noise).
func (d *Device) discardStale() {
	d.buf = d.buf[:0]
	for {
		select {
		case <-d.chunks:
		default:
			return
		}
	}
}

// command runs c and judges its SW3 (90 or 9F is success).
func (d *Device) command(ctx context.Context, c Command) (Frame, error) {
	f, err := d.Transact(ctx, c)
	if err != nil {
		return f, err
	}
	return f, StatusErr(c, f.SW3)
}

// SAMStatus asks for the SAM's status; nil when it is ready.
func (d *Device) SAMStatus(ctx context.Context) error {
	_, err := d.command(ctx, CmdSAMStatus)
	return err
}

// ResetSAM resets the SAM.
func (d *Device) ResetSAM(ctx context.Context) error {
	_, err := d.command(ctx, CmdResetSAM)
	return err
}

// SAMID returns the SAM's id as the reader sent it (16 bytes, kept raw).
func (d *Device) SAMID(ctx context.Context) ([]byte, error) {
	f, err := d.command(ctx, CmdSAMID)
	return f.Data, err
}

// Find reports whether a card is in the field (SW3 9F) or not (80).
func (d *Device) Find(ctx context.Context) (bool, error) {
	f, err := d.Transact(ctx, CmdFind)
	switch {
	case err != nil:
		return false, err
	case f.SW3 == 0x9F:
		return true, nil
	case f.SW3 == 0x80:
		return false, nil
	}
	return false, StatusErr(CmdFind, f.SW3)
}

// Select selects the card that Find found.
func (d *Device) Select(ctx context.Context) error {
	_, err := d.command(ctx, CmdSelect)
	return err
}

// Read reads the selected card's text and photo (30 01), or with
// fingerprints (30 10) too.
func (d *Device) Read(ctx context.Context, fingerprints bool) (Card, error) {
	c := CmdRead
	if fingerprints {
		c = CmdReadFP
	}
	f, err := d.command(ctx, c)
	if err != nil {
		return Card{}, err
	}
	return DecodeRead(f.Data)
}

// AddedAddress reads the added (new) address; "" when the card has none
// (SW3 91).
func (d *Device) AddedAddress(ctx context.Context) (string, error) {
	f, err := d.command(ctx, CmdAddedAddress)
	if errors.Is(err, ErrNoContent) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return DecodeAddedAddress(f.Data), nil
}

// addedAddressSize is the added address's size in bytes.
const addedAddressSize = 70

// DecodeAddedAddress decodes the data of a 30 03 reply.
func DecodeAddedAddress(data []byte) string {
	if len(data) > addedAddressSize {
		data = data[:addedAddressSize]
	}
	return trim(utf16le(data[:len(data)&^1]))
}

// DecodeRead decodes the data of a 30 01 or 30 10 reply (after SW3): the
// text, photo and, with fingerprints, fingerprint lengths (big-endian), then
// the blocks. Every length comes from the header; a header whose lengths do
// not add up to the data is ErrBadReply.
func DecodeRead(data []byte) (Card, error) {
	be := func(i int) int { return int(data[i])<<8 | int(data[i+1]) }
	if len(data) < 4 {
		return Card{}, fmt.Errorf("%w: read reply of %d bytes", ErrBadReply, len(data))
	}
	t, p, fp, hdr := be(0), be(2), 0, 4
	switch {
	case hdr+t+p == len(data):
	case len(data) >= 6 && 6+t+p+be(4) == len(data):
		fp, hdr = be(4), 6
	default:
		return Card{}, fmt.Errorf("%w: lengths text %d, photo %d do not fit %d bytes of data", ErrBadReply, t, p, len(data))
	}
	if t < TextSize {
		return Card{}, fmt.Errorf("%w: text block of %d bytes, want %d", ErrBadReply, t, TextSize)
	}
	c, err := DecodeText(data[hdr : hdr+t])
	if err != nil {
		return Card{}, err
	}
	c.Photo = append([]byte(nil), data[hdr+t:hdr+t+p]...)
	if fp > 0 {
		c.Fingerprints = append([]byte(nil), data[hdr+t+p:hdr+t+p+fp]...)
	}
	return c, nil
}
