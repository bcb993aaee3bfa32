package idcard

import (
	"bytes"
	"testing"
)

// FuzzFrameScan feeds the frame parser arbitrary bytes, seeded with the
// replies of the protocol notes (clean, behind noise, cut short). Whatever
// comes in, Scan must not panic, must consume within the buffer, and any
// frame it returns must re-encode to exactly the bytes it consumed last.
func FuzzFrameScan(f *testing.F) {
	for _, tx := range transactions {
		r := h(tx.reply)
		f.Add(r)
		f.Add(append([]byte{0x00, 0xAA}, r...))
		f.Add(r[:len(r)-1])
		f.Add(append(append([]byte{}, r...), r...))
	}
	text, _ := residentCard().TextBlock()
	read := Frame{SW3: 0x90, Data: append(append([]byte{0x01, 0x00, 0x04, 0x00}, text...), make([]byte, 1024)...)}.Encode()
	f.Add(read)
	f.Add(append([]byte{0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x05, 0x08}, read...))
	f.Fuzz(func(t *testing.T, in []byte) {
		buf := append([]byte(nil), in...)
		r := Scan(buf)
		if r.Consumed < 0 || r.Consumed > len(buf) {
			t.Fatalf("consumed %d of %d", r.Consumed, len(buf))
		}
		if !bytes.Equal(buf, in) {
			t.Fatal("Scan changed its input")
		}
		if !r.OK {
			return
		}
		wire := r.Frame.Encode()
		if len(wire) > r.Consumed || !bytes.Equal(buf[r.Consumed-len(wire):r.Consumed], wire) {
			t.Fatalf("frame % X does not end the consumed bytes % X", wire, buf[:r.Consumed])
		}
		// Decoding a read reply must fail cleanly, never panic.
		_, _ = DecodeRead(r.Frame.Data)
		_ = DecodeAddedAddress(r.Frame.Data)
	})
}
