// Package idcard drives Chinese resident ID-card readers that speak the GA 467
// serial protocol, over any io.ReadWriter (a serial port, a pty, a pipe).
//
// Frames start AA AA AA 96 69, then a 2-byte big-endian length that counts
// every byte after itself (so a frame is LEN+7 bytes), the command and
// parameter (request) or SW1 SW2 SW3 (reply), the data and an XOR checksum of
// every byte from the first length byte through the last data byte.
//
// Device runs one transaction at a time (find, select, read, SAM status...);
// Reader polls for cards, reports each card once per presentation, and
// reopens a reader that was unplugged. Card is what a card holds, decoded
// from the four text-block layouts (resident, J, I and Y).
//
// It imports checks, clock, idnumber and registry of ours, no other device;
// appliance, sim, sim/simreader and cmd/hazgate (`idcard read`) may import it.
package idcard

import (
	"bytes"
	"fmt"
)

// Preamble starts every frame.
var Preamble = []byte{0xAA, 0xAA, 0xAA, 0x96, 0x69}

// MaxLen is the largest LEN accepted from a reader. The largest known reply
// (text, photo and two fingerprints) has LEN 2314; anything far beyond is
// noise.
const MaxLen = 8192

// minLen is the smallest LEN of a reply: SW1 SW2 SW3 and CHK.
const minLen = 4

// Command is a request's CMD and PARA bytes.
type Command struct {
	Cmd, Para byte
	Name      string
}

// The commands of the protocol.
var (
	CmdResetSAM     = Command{0x10, 0xFF, "reset SAM"}
	CmdSAMStatus    = Command{0x11, 0xFF, "SAM status"}
	CmdSAMID        = Command{0x12, 0xFF, "read SAM id"}
	CmdFind         = Command{0x20, 0x01, "find card"}
	CmdSelect       = Command{0x20, 0x02, "select card"}
	CmdRead         = Command{0x30, 0x01, "read text and photo"}
	CmdAddedAddress = Command{0x30, 0x03, "read added address"}
	CmdReadFP       = Command{0x30, 0x10, "read text, photo and fingerprints"}
)

// Code is CMD and PARA as one number (0x2001 for find): commands compare by
// it, not by name.
func (c Command) Code() uint16 { return uint16(c.Cmd)<<8 | uint16(c.Para) }

func (c Command) String() string { return fmt.Sprintf("%s (%02X %02X)", c.Name, c.Cmd, c.Para) }

// Frame is a reply: its three status bytes and its data.
type Frame struct {
	SW1, SW2, SW3 byte
	Data          []byte
}

// Encode returns the request frame for c.
func (c Command) Encode() []byte {
	return encode(nil, []byte{c.Cmd, c.Para})
}

// Encode returns the wire bytes of the reply f (readers and fakes use it).
func (f Frame) Encode() []byte {
	body := make([]byte, 0, 3+len(f.Data))
	body = append(body, f.SW1, f.SW2, f.SW3)
	body = append(body, f.Data...)
	return encode(nil, body)
}

// encode appends preamble, LEN, body and CHK to dst.
func encode(dst, body []byte) []byte {
	n := len(body) + 1
	dst = append(dst, Preamble...)
	dst = append(dst, byte(n>>8), byte(n))
	dst = append(dst, body...)
	return append(dst, checksum(dst[len(dst)-len(body)-2:]))
}

// checksum is the XOR of b.
func checksum(b []byte) byte {
	var x byte
	for _, c := range b {
		x ^= c
	}
	return x
}

// ScanResult is what Scan found in a buffer.
type ScanResult struct {
	// Frame is valid when OK.
	Frame Frame
	OK    bool
	// Consumed is how many leading bytes of the buffer are used up: the
	// noise before the frame and the frame itself when OK, or the noise that
	// can never start a frame when not.
	Consumed int
	// Rejected counts candidate frames dropped for a checksum mismatch or an
	// impossible length.
	Rejected int
}

// Scan looks for the first valid reply frame in buf. It scans for the
// preamble, reads LEN, waits (returns !OK) until the whole frame is there,
// verifies CHK, and on any mismatch drops one byte and scans again. A later
// complete valid frame wins over an earlier candidate that is still
// incomplete, so a stray preamble in noise cannot hide a real reply. The
// returned Data aliases buf.
func Scan(buf []byte) ScanResult {
	var r ScanResult
	keep := -1 // the first candidate that may still complete
	for i := 0; i < len(buf); {
		j := bytes.Index(buf[i:], Preamble)
		if j < 0 {
			break
		}
		at := i + j
		i = at + 1
		if len(buf) < at+7 {
			if keep < 0 {
				keep = at
			}
			continue
		}
		n := int(buf[at+5])<<8 | int(buf[at+6])
		if n < minLen || n > MaxLen {
			r.Rejected++
			continue
		}
		end := at + 7 + n
		if len(buf) < end {
			if keep < 0 {
				keep = at
			}
			continue
		}
		if checksum(buf[at+5:end-1]) != buf[end-1] {
			r.Rejected++
			continue
		}
		r.OK = true
		r.Consumed = end
		r.Frame = Frame{SW1: buf[at+7], SW2: buf[at+8], SW3: buf[at+9], Data: buf[at+10 : end-1]}
		return r
	}
	switch {
	case keep >= 0:
		r.Consumed = keep
	default:
		// Keep a tail that may be the start of a preamble.
		r.Consumed = len(buf) - partialPreamble(buf)
	}
	return r
}

// partialPreamble returns the length of the longest suffix of buf that is a
// proper prefix of the preamble.
func partialPreamble(buf []byte) int {
	for k := len(Preamble) - 1; k > 0; k-- {
		if len(buf) >= k && bytes.Equal(buf[len(buf)-k:], Preamble[:k]) {
			return k
		}
	}
	return 0
}
