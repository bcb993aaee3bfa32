// Package scale reads a weighbridge's scale indicator in continuous-output
// mode: XK3190-class frames (Yaohua XK3190-A9 and its kin, "tF=0"), 12
// bytes each, sent over and over, over any io.Reader (a serial port through
// device/serialport on the gate, a pty in the simulator).
//
//	byte  1     STX 0x02
//	byte  2     sign, '+' or '-'
//	bytes 3-8   the displayed weight, six ASCII digits, most significant first
//	byte  9     the number of decimal places, '0'..'4' (counted from the right)
//	bytes 10-11 the XOR of bytes 2-9, high then low nibble, each as an
//	            upper-case hex digit ('0'..'9' is +0x30, 'A'..'F' is +0x37)
//	byte  12    ETX 0x03
//
// docs/devices.md ("Weighbridge") gives the public sources. Half frames,
// noise between frames and frames with a bad checksum are skipped and
// counted, never taken; a stable weight (Stabilizer) is what the lane gets.
//
// It imports only clock of ours; gate, appliance and sim import it.
package scale

import (
	"errors"
	"fmt"
	"math"
)

// Frame bytes.
const (
	STX      = 0x02
	ETX      = 0x03
	FrameLen = 12
)

// MaxDecimals is the most decimal places a frame may give.
const MaxDecimals = 4

// ErrGarbage is the error of everything the parser skips.
var ErrGarbage = errors.New("scale: not a weight frame")

// Kinds of garbage.
var (
	// ErrChecksum: a whole frame whose checksum does not match.
	ErrChecksum = fmt.Errorf("%w: checksum mismatch", ErrGarbage)
	// ErrMalformed: STX then bytes that are not a frame (a half frame, a
	// frame of another format, a sign or a digit out of place).
	ErrMalformed = fmt.Errorf("%w: malformed frame", ErrGarbage)
	// ErrNoise: bytes between frames that do not start one.
	ErrNoise = fmt.Errorf("%w: noise between frames", ErrGarbage)
)

// Frame is one decoded frame: the displayed weight Digits/10^Decimals, in
// the indicator's unit.
type Frame struct {
	Digits   int64 // signed: -999999..999999
	Decimals int   // 0..MaxDecimals
}

// Value is the displayed weight in the indicator's unit.
func (f Frame) Value() float64 { return float64(f.Digits) / math.Pow10(f.Decimals) }

// Checksum is the XOR of b, as the frame's two hex digits.
func Checksum(b []byte) [2]byte {
	var x byte
	for _, c := range b {
		x ^= c
	}
	return [2]byte{hexDigit(x >> 4), hexDigit(x & 0x0f)}
}

func hexDigit(n byte) byte {
	if n <= 9 {
		return n + 0x30
	}
	return n + 0x37
}

// Encode returns f's 12 bytes. Digits beyond six places and decimals out of
// range are an error: the indicator cannot display them.
func Encode(f Frame) ([]byte, error) {
	d := f.Digits
	sign := byte('+')
	if d < 0 {
		sign, d = '-', -d
	}
	if d > 999999 || f.Decimals < 0 || f.Decimals > MaxDecimals {
		return nil, fmt.Errorf("scale: %d with %d decimals does not fit a frame", f.Digits, f.Decimals)
	}
	b := make([]byte, 0, FrameLen)
	b = append(b, STX, sign)
	b = fmt.Appendf(b, "%06d", d)
	b = append(b, byte('0'+f.Decimals))
	cs := Checksum(b[1:9])
	return append(b, cs[0], cs[1], ETX), nil
}

// Decode reads one whole frame (exactly FrameLen bytes).
func Decode(b []byte) (Frame, error) {
	if len(b) != FrameLen || b[0] != STX || b[FrameLen-1] != ETX {
		return Frame{}, ErrMalformed
	}
	var f Frame
	switch b[1] {
	case '+', '-':
	default:
		return Frame{}, fmt.Errorf("%w (sign %q)", ErrMalformed, b[1])
	}
	for _, c := range b[2:8] {
		if c < '0' || c > '9' {
			return Frame{}, fmt.Errorf("%w (digit %q)", ErrMalformed, c)
		}
		f.Digits = f.Digits*10 + int64(c-'0')
	}
	if c := b[8]; c < '0' || c > '0'+MaxDecimals {
		return Frame{}, fmt.Errorf("%w (decimals %q)", ErrMalformed, c)
	}
	f.Decimals = int(b[8] - '0')
	if b[1] == '-' {
		f.Digits = -f.Digits
	}
	if cs := Checksum(b[1:9]); cs[0] != b[9] || cs[1] != b[10] {
		return Frame{}, fmt.Errorf("%w (sent %q, computed %q)", ErrChecksum, b[9:11], cs[:])
	}
	return f, nil
}

// Parser splits a byte stream into frames. It keeps at most one frame's
// bytes between calls, so noise cannot make it grow.
type Parser struct {
	buf     []byte
	noise   int    // bytes of the current run of noise
	noiseAt []byte // its first bytes (up to maxRaw)
}

// maxRaw bounds the bytes of garbage quoted in a rejection.
const maxRaw = 32

// Feed takes the next bytes of the stream and calls frame for each whole
// frame and reject once for each bad frame and each run of noise (with up
// to 32 of its bytes). A bad frame is skipped up to the next STX: a good
// frame that started inside it is still found.
func (p *Parser) Feed(data []byte, frame func(Frame), reject func(err error, raw []byte)) {
	p.buf = append(p.buf, data...)
	for len(p.buf) > 0 {
		if p.buf[0] != STX {
			i := indexSTX(p.buf)
			if i < 0 {
				i = len(p.buf)
			}
			p.noise += i
			if n := min(i, maxRaw-len(p.noiseAt)); n > 0 {
				p.noiseAt = append(p.noiseAt, p.buf[:n]...)
			}
			p.buf = p.buf[i:]
			continue // a run that reaches the end of data may go on in the next read
		}
		if p.noise > 0 {
			reject(fmt.Errorf("%w (%d bytes)", ErrNoise, p.noise), p.noiseAt)
			p.noise, p.noiseAt = 0, nil
		}
		if len(p.buf) < FrameLen {
			// A frame that is not whole yet, unless another STX shows
			// this one was cut short.
			if j := indexSTX(p.buf[1:]); j >= 0 {
				reject(ErrMalformed, clip(p.buf[:j+1]))
				p.buf = p.buf[j+1:]
				continue
			}
			break
		}
		f, err := Decode(p.buf[:FrameLen])
		if err != nil {
			// Everything up to the next STX goes with it: no frame
			// starts before one.
			reject(err, clip(p.buf[:FrameLen]))
			j := indexSTX(p.buf[1:])
			if j < 0 {
				p.buf = p.buf[:0]
				break
			}
			p.buf = p.buf[j+1:]
			continue
		}
		frame(f)
		p.buf = p.buf[FrameLen:]
	}
	p.buf = append([]byte(nil), p.buf...) // do not pin a large read's array
}

// Reset drops a partial frame (the stream was broken off).
func (p *Parser) Reset() { p.buf, p.noise, p.noiseAt = nil, 0, nil }

func indexSTX(b []byte) int {
	for i, c := range b {
		if c == STX {
			return i
		}
	}
	return -1
}

func clip(b []byte) []byte { return append([]byte(nil), b[:min(len(b), maxRaw)]...) }
