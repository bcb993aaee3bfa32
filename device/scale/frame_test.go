package scale_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/hazgate/hazgate/device/scale"
)

// frames from the wire, one per line. The first three are frames that
// people reading XK3190-A9 indicators logged in public code (docs/devices.md,
// "Weighbridge"): between STX and ETX, "+003290013" and "+00326001C" (3290
// and 3260 kg) and "+00000001B" (an empty platform). The others are
// written from the manuals' layout.
var goodFrames = []struct {
	name   string
	wire   string
	value  float64
	digits int64
	dec    int
}{
	{"logged 3290 kg", "\x02+003290013\x03", 3290, 3290, 0},
	{"logged 3260 kg", "\x02+00326001C\x03", 3260, 3260, 0},
	{"logged empty platform", "\x02+00000001B\x03", 0, 0, 0},
	{"negative after zeroing", "\x02-00012001E\x03", -120, -120, 0},
	{"two decimals (tonnes)", "\x02+049120217\x03", 491.20, 49120, 2},
	{"full six digits", "\x02+12345601C\x03", 123456, 123456, 0},
}

func TestDecode(t *testing.T) {
	for _, c := range goodFrames {
		t.Run(c.name, func(t *testing.T) {
			f, err := scale.Decode([]byte(c.wire))
			if err != nil || f.Digits != c.digits || f.Decimals != c.dec || f.Value() != c.value {
				t.Fatalf("Decode(%q) = %+v (%v), %v; want %d/%d = %v", c.wire, f, f.Value(), err, c.digits, c.dec, c.value)
			}
			again, err := scale.Encode(f)
			if err != nil || string(again) != c.wire {
				t.Fatalf("Encode(%+v) = %q, %v; want %q", f, again, err, c.wire)
			}
		})
	}
	for _, c := range []struct {
		name, wire string
		want       error
	}{
		{"bad checksum", "\x02+003290014\x03", scale.ErrChecksum},
		{"lower-case checksum", "\x02+00326001c\x03", scale.ErrChecksum},
		{"no ETX", "\x02+003290013\x04", scale.ErrMalformed},
		{"sign missing", "\x02 003290013\x03", scale.ErrMalformed},
		{"letter in the weight", "\x02+0032O0013\x03", scale.ErrMalformed},
		{"five decimals", "\x02+003290513\x03", scale.ErrMalformed},
		{"short", "\x02+0032900\x03", scale.ErrMalformed},
		{"A12 format", "WG004.139kg3D", scale.ErrMalformed},
	} {
		t.Run("rejects "+c.name, func(t *testing.T) {
			f, err := scale.Decode([]byte(c.wire))
			if !errors.Is(err, c.want) || !errors.Is(err, scale.ErrGarbage) {
				t.Fatalf("Decode(%q) = %+v, %v; want %v", c.wire, f, err, c.want)
			}
		})
	}
	if _, err := scale.Encode(scale.Frame{Digits: 1000000}); err == nil {
		t.Fatal("Encode took seven digits")
	}
}

// feed runs the parser over chunks and returns the frames and rejections.
func feed(chunks ...string) (frames []scale.Frame, rejects []error) {
	var p scale.Parser
	for _, c := range chunks {
		p.Feed([]byte(c), func(f scale.Frame) { frames = append(frames, f) }, func(err error, raw []byte) {
			if len(raw) > 32 {
				panic(fmt.Sprintf("raw of %d bytes", len(raw)))
			}
			rejects = append(rejects, err)
		})
	}
	return frames, rejects
}

func TestParser(t *testing.T) {
	a, b := goodFrames[0].wire, goodFrames[1].wire
	for _, c := range []struct {
		name    string
		chunks  []string
		frames  []int64
		rejects []error
	}{
		{"back to back", []string{a + b + a}, []int64{3290, 3260, 3290}, nil},
		{"byte by byte", splitBytes(a + b), []int64{3290, 3260}, nil},
		{"noise between", []string{a, "\r\n\xff garbage", b}, []int64{3290, 3260}, []error{scale.ErrNoise}},
		{"noise split over reads", []string{"xx", "yy", b}, []int64{3260}, []error{scale.ErrNoise}},
		{"half frame at the start", []string{a[5:] + b}, []int64{3260}, []error{scale.ErrNoise}},
		{"half frame cut by the next", []string{a[:7] + b}, []int64{3260}, []error{scale.ErrMalformed}},
		{"bad checksum then good", []string{"\x02+003290014\x03" + b}, []int64{3260}, []error{scale.ErrChecksum}},
		{"lone STXs", []string{"\x02\x02\x02" + a}, []int64{3290}, []error{scale.ErrMalformed, scale.ErrMalformed, scale.ErrMalformed}},
		{"a frame not yet whole", []string{a + b[:6]}, []int64{3290}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			frames, rejects := feed(c.chunks...)
			var got []int64
			for _, f := range frames {
				got = append(got, f.Digits)
			}
			if fmt.Sprint(got) != fmt.Sprint(c.frames) {
				t.Fatalf("frames %v; want %v", got, c.frames)
			}
			if len(rejects) != len(c.rejects) {
				t.Fatalf("rejections %v; want %v", rejects, c.rejects)
			}
			for i := range rejects {
				if !errors.Is(rejects[i], c.rejects[i]) {
					t.Fatalf("rejection %d is %v; want %v", i, rejects[i], c.rejects[i])
				}
			}
		})
	}
}

func splitBytes(s string) []string {
	var out []string
	for i := range len(s) {
		out = append(out, s[i:i+1])
	}
	return out
}

// FuzzParser feeds the parser arbitrary bytes, in two reads, seeded with
// the frames above. It must not panic; every frame it takes re-encodes to
// bytes that were in the input, and a good frame after the input is
// always found.
func FuzzParser(f *testing.F) {
	for _, c := range goodFrames {
		f.Add([]byte(c.wire), 3)
		f.Add([]byte("noise"+c.wire+"\x02+0032"), 7)
	}
	f.Add([]byte("\x02\x02\x02\x03\x03"), 1)
	f.Fuzz(func(t *testing.T, data []byte, cut int) {
		if cut < 0 || cut > len(data) {
			cut = len(data) / 2
		}
		var p scale.Parser
		var frames []scale.Frame
		take := func(fr scale.Frame) { frames = append(frames, fr) }
		drop := func(err error, raw []byte) {
			if !errors.Is(err, scale.ErrGarbage) || len(raw) > 32 {
				t.Fatalf("rejection %v with %d bytes", err, len(raw))
			}
		}
		p.Feed(data[:cut], take, drop)
		p.Feed(data[cut:], take, drop)
		for _, fr := range frames {
			wire, err := scale.Encode(fr)
			if err != nil || !bytes.Contains(data, wire) {
				t.Fatalf("took %+v (%q, %v), which is not in the input", fr, wire, err)
			}
		}
		// A good frame after whatever came is found: at worst the input
		// ended inside a frame, which the next STX shows was cut short.
		n := len(frames)
		p.Feed([]byte(goodFrames[0].wire), take, drop)
		if len(frames) == n || frames[len(frames)-1].Digits != 3290 {
			t.Fatalf("after %q, a good frame was not found (%+v)", data, frames[n:])
		}
	})
}
