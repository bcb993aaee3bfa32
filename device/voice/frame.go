// Package voice drives the common UART text-to-speech boards (SYN6288 and
// the boards that copy its framing) over any io.ReadWriter: a serial port
// in production (device/serialport), a pty in the simulator.
//
// A frame to the board is 0xFD, a two-byte big-endian length (of what
// follows it: the command, its parameter and text, the checksum), the
// command, for "synthesize" (0x01) a parameter byte whose low three bits
// are the text's encoding (0 GB2312, 1 GBK, 2 BIG5, 3 Unicode) and whose
// upper bits pick a background music (0: none), the text, and the XOR of
// every byte before it. The board answers every frame it takes with 0x41;
// to the status query (0x21) it answers 0x41 then 0x4E while it speaks or
// 0x4F when idle. docs/devices.md says where this was read.
//
// The Board speaks prompts in order, one at a time, from a queue that never
// blocks its caller: a board that is unplugged or does not answer is a
// fault (reported once), is reopened with back-off, and meanwhile the
// prompts that are too old to matter are dropped. Nothing the lane waits on
// passes through it.
//
// It imports clock of ours.
package voice

import (
	"bytes"
	"errors"
	"fmt"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// The framing's bytes.
const (
	Header        = 0xFD
	CmdSynthesize = 0x01
	CmdStop       = 0x02
	CmdStatus     = 0x21
	ReplyAck      = 0x41 // the board took the frame
	ReplyBusy     = 0x4E // to a status query: speaking
	ReplyIdle     = 0x4F // to a status query: idle
)

// MaxText is the longest text a synthesize frame carries, in encoded
// bytes (the SYN6288's limit).
const MaxText = 200

// Encoding is the text's encoding, the low bits of the synthesize frame's
// parameter.
type Encoding byte

// The encodings hazgate sends.
const (
	GB2312 Encoding = 0
	GBK    Encoding = 1
)

func (e Encoding) String() string {
	switch e {
	case GB2312:
		return "gb2312"
	case GBK:
		return "gbk"
	}
	return fmt.Sprintf("Encoding(%d)", byte(e))
}

// ParseEncoding reads "gbk" or "gb2312".
func ParseEncoding(s string) (Encoding, error) {
	switch s {
	case "gbk", "GBK":
		return GBK, nil
	case "gb2312", "GB2312":
		return GB2312, nil
	}
	return 0, fmt.Errorf("voice: %q is not gbk or gb2312", s)
}

// ErrFrame is a frame that is not one: a wrong header, length or checksum.
var ErrFrame = errors.New("voice: malformed frame")

// ErrText is a text the board cannot be sent: a character its encoding
// lacks, or longer than MaxText bytes.
var ErrText = errors.New("voice: text cannot be spoken")

// Encode encodes text for the board. GB2312 boards take the EUC-CN bytes,
// which are GBK's for every GB2312 character; a character outside GB2312
// is refused for them.
func Encode(text string, enc Encoding) ([]byte, error) {
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("%w: %q has a character %s cannot encode", ErrText, text, enc)
	}
	if enc == GB2312 {
		for i := 0; i < len(b); i++ {
			if b[i] < 0x80 {
				continue
			}
			// EUC-CN: rows A1..F7, cells A1..FE.
			if i+1 >= len(b) || b[i] < 0xA1 || b[i] > 0xF7 || b[i+1] < 0xA1 || b[i+1] == 0xFF {
				return nil, fmt.Errorf("%w: %q has a character outside GB2312", ErrText, text)
			}
			i++
		}
	}
	if len(b) > MaxText {
		return nil, fmt.Errorf("%w: %d bytes encoded, the board takes at most %d", ErrText, len(b), MaxText)
	}
	return b, nil
}

// Decode decodes text the board was sent (the simulator's transcript).
func Decode(b []byte, enc Encoding) (string, error) {
	if enc != GB2312 && enc != GBK {
		return "", fmt.Errorf("%w: encoding %d is not one hazgate decodes", ErrFrame, byte(enc))
	}
	s, err := simplifiedchinese.GBK.NewDecoder().Bytes(b)
	if err != nil {
		return "", fmt.Errorf("%w: text: %w", ErrFrame, err)
	}
	return string(s), nil
}

// frame builds a frame of cmd with body (the parameter and text).
func frame(cmd byte, body []byte) []byte {
	n := len(body) + 2 // cmd, body, xor
	out := make([]byte, 0, n+3)
	out = append(out, Header, byte(n>>8), byte(n), cmd)
	out = append(out, body...)
	var x byte
	for _, c := range out {
		x ^= c
	}
	return append(out, x)
}

// SynthesizeFrame is the frame that speaks text.
func SynthesizeFrame(text string, enc Encoding) ([]byte, error) {
	b, err := Encode(text, enc)
	if err != nil {
		return nil, err
	}
	return frame(CmdSynthesize, append([]byte{byte(enc)}, b...)), nil
}

// StatusFrame is the status query: FD 00 02 21 DE.
func StatusFrame() []byte { return frame(CmdStatus, nil) }

// Frame is one frame decoded.
type Frame struct {
	Cmd   byte
	Param byte   // the synthesize frame's parameter (0 for others)
	Text  []byte // the synthesize frame's text, encoded
}

// Encoding is the synthesize frame's text encoding.
func (f Frame) Encoding() Encoding { return Encoding(f.Param & 0x07) }

// maxFrame bounds a frame's length field: a synthesize frame of MaxText.
const maxFrame = MaxText + 3

// Parse reads the first frame in b. It returns the frame, the bytes it
// took, and an error wrapping ErrFrame for a frame that is not one (n then
// says how many bytes to skip: up to the next header). n is 0 when b holds
// only the start of a frame: more bytes are needed.
func Parse(b []byte) (f Frame, n int, err error) {
	if len(b) == 0 {
		return Frame{}, 0, nil
	}
	if b[0] != Header {
		skip := bytes.IndexByte(b, Header)
		if skip < 0 {
			skip = len(b)
		}
		return Frame{}, skip, fmt.Errorf("%w: %d bytes before a header", ErrFrame, skip)
	}
	if len(b) < 3 {
		return Frame{}, 0, nil
	}
	length := int(b[1])<<8 | int(b[2])
	if length < 2 || length > maxFrame {
		return Frame{}, 1, fmt.Errorf("%w: length %d", ErrFrame, length)
	}
	if len(b) < 3+length {
		return Frame{}, 0, nil
	}
	raw := b[:3+length]
	var x byte
	for _, c := range raw[:len(raw)-1] {
		x ^= c
	}
	if x != raw[len(raw)-1] {
		return Frame{}, 1, fmt.Errorf("%w: checksum %#02x, want %#02x", ErrFrame, raw[len(raw)-1], x)
	}
	f.Cmd = raw[3]
	body := raw[4 : len(raw)-1]
	if f.Cmd == CmdSynthesize {
		if len(body) < 1 {
			return Frame{}, 1, fmt.Errorf("%w: synthesize without its parameter", ErrFrame)
		}
		f.Param, f.Text = body[0], bytes.Clone(body[1:])
	} else if len(body) > 0 {
		return Frame{}, 1, fmt.Errorf("%w: command %#02x carries %d bytes", ErrFrame, f.Cmd, len(body))
	}
	return f, len(raw), nil
}
