package voice_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/hazgate/hazgate/device/voice"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The frames, byte for byte, as the SYN6288's datasheet and public drivers
// lay them out (docs/devices.md, "Voice board").
func TestFrames(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		enc        voice.Encoding
		want       string
	}{
		// FD, length 7 (cmd, param, 4 text bytes, xor), synthesize, GBK, 你好, xor.
		{"two characters, GBK", "你好", voice.GBK, "fd 00 07 01 01 c4 e3 ba c3 a4"},
		// The same text as GB2312 (parameter 0): the bytes are EUC-CN.
		{"a prompt, GB2312", "检查通过，请通行", voice.GB2312, "fd 00 13 01 00 bc ec b2 e9 cd a8 b9 fd a3 ac c7 eb cd a8 d0 d0 83"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := voice.SynthesizeFrame(tc.text, tc.enc)
			if err != nil {
				t.Fatal(err)
			}
			if want := unhex(t, tc.want); !bytes.Equal(got, want) {
				t.Fatalf("frame\n got % x\nwant % x", got, want)
			}
			f, n, err := voice.Parse(got)
			if err != nil || n != len(got) {
				t.Fatalf("Parse = %d, %v", n, err)
			}
			text, err := voice.Decode(f.Text, f.Encoding())
			if err != nil || text != tc.text || f.Encoding() != tc.enc {
				t.Fatalf("decoded %q (%v), %v", text, f.Encoding(), err)
			}
		})
	}
	// The status query, as every driver sends it.
	if got := voice.StatusFrame(); !bytes.Equal(got, unhex(t, "fd 00 02 21 de")) {
		t.Fatalf("status frame % x", got)
	}
}

func TestTextRefused(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		enc        voice.Encoding
	}{
		{"too long", strings.Repeat("请", voice.MaxText/2+1), voice.GBK},
		{"no GBK for it", "请通行 🚛", voice.GBK},
		{"GBK but not GB2312", "請", voice.GB2312}, // traditional: GBK has it, GB2312 does not
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := voice.SynthesizeFrame(tc.text, tc.enc); !errors.Is(err, voice.ErrText) {
				t.Fatalf("err = %v, want ErrText", err)
			}
		})
	}
	if _, err := voice.SynthesizeFrame("請", voice.GBK); err != nil {
		t.Fatalf("GBK refuses a traditional character: %v", err)
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		n       int
		bad     bool
		cmd     byte
		partial bool
	}{
		{name: "status", in: "fd 00 02 21 de", n: 5, cmd: voice.CmdStatus},
		{name: "status and the start of the next", in: "fd 00 02 21 de fd 00", n: 5, cmd: voice.CmdStatus},
		{name: "half a frame", in: "fd 00 07 01 01 c4", partial: true},
		{name: "garbage before a header", in: "00 11 fd 00 02 21 de", n: 2, bad: true},
		{name: "wrong checksum", in: "fd 00 02 21 df", n: 1, bad: true},
		{name: "length too short", in: "fd 00 01 21", n: 1, bad: true},
		{name: "length too long", in: "fd 01 00 01", n: 1, bad: true},
		{name: "status with a body", in: "fd 00 03 21 00 df", n: 1, bad: true},
		{name: "synthesize without parameter", in: "fd 00 02 01 fe", n: 1, bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, n, err := voice.Parse(unhex(t, tc.in))
			switch {
			case tc.partial:
				if n != 0 || err != nil {
					t.Fatalf("n=%d err=%v, want more bytes needed", n, err)
				}
			case tc.bad:
				if !errors.Is(err, voice.ErrFrame) || n != tc.n {
					t.Fatalf("n=%d err=%v, want ErrFrame skipping %d", n, err, tc.n)
				}
			default:
				if err != nil || n != tc.n || f.Cmd != tc.cmd {
					t.Fatalf("n=%d cmd=%#x err=%v", n, f.Cmd, err)
				}
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add(unhex(f, "fd 00 07 01 01 c4 e3 ba c3 a4"))
	f.Add(unhex(f, "fd 00 02 21 de"))
	f.Add(unhex(f, "00 fd 00 02 21 df fd"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for len(b) > 0 {
			fr, n, err := voice.Parse(b)
			if n == 0 {
				if err != nil {
					t.Fatalf("an error that skips nothing: %v", err)
				}
				return
			}
			if n < 0 || n > len(b) {
				t.Fatalf("n = %d of %d bytes", n, len(b))
			}
			if err == nil && fr.Cmd == voice.CmdSynthesize {
				// A frame read is a frame that can be written back.
				if _, err := voice.Decode(fr.Text, fr.Encoding()); err == nil && fr.Encoding() <= voice.GBK {
					if len(fr.Text) > voice.MaxText {
						t.Fatalf("a text of %d bytes parsed", len(fr.Text))
					}
				}
			}
			b = b[n:]
		}
	})
}
