package idcard

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// h decodes spaced hex.
func h(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// transactions are the requests of the protocol notes and the replies seen
// from real readers, one transaction per line.
var transactions = []struct {
	cmd   Command
	req   string
	reply string
	want  error // the status's sentinel, nil for success
}{
	{CmdSAMStatus, "AA AA AA 96 69 00 03 11 FF ED", "AA AA AA 96 69 00 04 00 00 90 94", nil},                                             // SAM status ok
	{CmdSAMStatus, "AA AA AA 96 69 00 03 11 FF ED", "AA AA AA 96 69 00 04 00 00 60 64", ErrSAMSelfTest},                                  // SAM self-test failed
	{CmdFind, "AA AA AA 96 69 00 03 20 01 22", "AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97", nil},                                      // find: found
	{CmdFind, "AA AA AA 96 69 00 03 20 01 22", "AA AA AA 96 69 00 04 00 00 80 84", ErrNoCard},                                            // find: no card
	{CmdSelect, "AA AA AA 96 69 00 03 20 02 21", "AA AA AA 96 69 00 0C 00 00 90 00 00 00 00 00 00 00 00 9C", nil},                        // select: ok
	{CmdSelect, "AA AA AA 96 69 00 03 20 02 21", "AA AA AA 96 69 00 04 00 00 81 85", ErrSelectFailed},                                    // select: failed
	{CmdRead, "AA AA AA 96 69 00 03 30 01 32", "AA AA AA 96 69 00 04 00 00 41 45", ErrReadFailed},                                        // read: failed
	{CmdResetSAM, "AA AA AA 96 69 00 03 10 FF EC", "AA AA AA 96 69 00 04 00 00 90 94", nil},                                              // reset SAM ok
	{CmdAddedAddress, "AA AA AA 96 69 00 03 30 03 30", "AA AA AA 96 69 00 04 00 00 91 95", ErrNoContent},                                 // added address: none
	{CmdSAMID, "AA AA AA 96 69 00 03 12 FF EE", "AA AA AA 96 69 00 14 00 00 90 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F 84", nil}, // SAM id
}

func TestCommandEncoding(t *testing.T) {
	for _, c := range []struct {
		cmd  Command
		want string
	}{
		{CmdResetSAM, "AA AA AA 96 69 00 03 10 FF EC"},
		{CmdSAMStatus, "AA AA AA 96 69 00 03 11 FF ED"},
		{CmdSAMID, "AA AA AA 96 69 00 03 12 FF EE"},
		{CmdFind, "AA AA AA 96 69 00 03 20 01 22"},
		{CmdSelect, "AA AA AA 96 69 00 03 20 02 21"},
		{CmdRead, "AA AA AA 96 69 00 03 30 01 32"},
		{CmdAddedAddress, "AA AA AA 96 69 00 03 30 03 30"},
		{CmdReadFP, "AA AA AA 96 69 00 03 30 10 23"},
	} {
		t.Run(c.cmd.Name, func(t *testing.T) {
			if got := c.cmd.Encode(); !bytes.Equal(got, h(c.want)) {
				t.Fatalf("Encode() = % X, want %s", got, c.want)
			}
		})
	}
}

// TestTransactions plays each transaction against a Device: the request it
// writes must be the table's, and the reply must give the table's status.
func TestTransactions(t *testing.T) {
	for _, tx := range transactions {
		t.Run(tx.cmd.Name+"/"+tx.reply[len(tx.reply)-5:], func(t *testing.T) {
			dev, script := newScripted(t)
			go script(h(tx.req), h(tx.reply))
			f, err := dev.Transact(context.Background(), tx.cmd)
			if err != nil {
				t.Fatalf("Transact: %v", err)
			}
			err = StatusErr(tx.cmd, f.SW3)
			if !errors.Is(err, tx.want) || (tx.want == nil) != (err == nil) {
				t.Fatalf("status error = %v, want %v", err, tx.want)
			}
		})
	}
}

// newScripted returns a Device on one end of a pipe and a function that, on
// the other end, expects one request and answers it.
func newScripted(t *testing.T) (*Device, func(req, reply []byte)) {
	t.Helper()
	a, b := net.Pipe()
	dev := New(a, Options{Timeout: 5 * time.Second})
	t.Cleanup(func() { dev.Close(); b.Close() })
	return dev, func(req, reply []byte) {
		got := make([]byte, len(req))
		if _, err := readFull(b, got); err != nil || !bytes.Equal(got, req) {
			t.Errorf("request = % X (%v), want % X", got, err, req)
			return
		}
		b.Write(reply)
	}
}

func readFull(c net.Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := c.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func TestScan(t *testing.T) {
	ok := h("AA AA AA 96 69 00 04 00 00 90 94")
	for _, c := range []struct {
		name     string
		in       string
		ok       bool
		consumed int
		sw3      byte
	}{
		{"clean", "AA AA AA 96 69 00 04 00 00 90 94", true, 11, 0x90},
		{"stray byte before", "00 AA AA AA 96 69 00 04 00 00 90 94", true, 12, 0x90},
		{"stray AA before", "AA AA AA AA 96 69 00 04 00 00 90 94", true, 12, 0x90},
		{"bad checksum then good", "AA AA AA 96 69 00 04 00 00 90 95 AA AA AA 96 69 00 04 00 00 90 94", true, 22, 0x90},
		{"incomplete", "AA AA AA 96 69 00 04 00 00", false, 0, 0},
		{"noise only", "01 02 03", false, 3, 0},
		{"noise ending in a partial preamble", "01 02 AA AA", false, 2, 0},
		{"impossible length", "AA AA AA 96 69 FF FF 00", false, 8, 0},
		{"stray preamble with a plausible length hides nothing", "AA AA AA 96 69 05 08 AA AA AA 96 69 00 04 00 00 90 94", true, 18, 0x90},
		{"too short length", "AA AA AA 96 69 00 02 00 02", false, 9, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := Scan(h(c.in))
			if r.OK != c.ok || r.Consumed != c.consumed || (c.ok && r.Frame.SW3 != c.sw3) {
				t.Fatalf("Scan(%s) = ok %t consumed %d sw3 %02X, want %t %d %02X", c.in, r.OK, r.Consumed, r.Frame.SW3, c.ok, c.consumed, c.sw3)
			}
		})
	}
	if f := (Frame{SW3: 0x90}).Encode(); !bytes.Equal(f, ok) {
		t.Fatalf("Frame.Encode = % X, want % X", f, ok)
	}
}

// TestReadReplyLayout checks the read reply's wire layout against the notes:
// 1295 bytes with LEN 05 08; 2321, 1809 or 1297 with fingerprints.
func TestReadReplyLayout(t *testing.T) {
	text, err := residentCard().TextBlock()
	if err != nil {
		t.Fatal(err)
	}
	photo := bytes.Repeat([]byte{0x57}, 1024)
	for _, c := range []struct {
		name   string
		fp     int
		withFP bool
		size   int
		textAt int
	}{
		{"30 01", 0, false, 1295, 14},
		{"30 10 two fingerprints", 1024, true, 2321, 16},
		{"30 10 one fingerprint", 512, true, 1809, 16},
		{"30 10 no fingerprints", 0, true, 1297, 16},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := []byte{0x01, 0x00, 0x04, 0x00}
			if c.withFP {
				data = append(data, byte(c.fp>>8), byte(c.fp))
			}
			data = append(append(append(data, text...), photo...), make([]byte, c.fp)...)
			wire := Frame{SW3: 0x90, Data: data}.Encode()
			if len(wire) != c.size || !bytes.Equal(wire[c.textAt:c.textAt+TextSize], text) {
				t.Fatalf("frame of %d bytes, want %d with the text at %d", len(wire), c.size, c.textAt)
			}
			if c.size == 1295 && (wire[5] != 0x05 || wire[6] != 0x08) {
				t.Fatalf("LEN = %02X %02X, want 05 08", wire[5], wire[6])
			}
			r := Scan(wire)
			if !r.OK {
				t.Fatal("Scan did not find the frame")
			}
			card, err := DecodeRead(r.Frame.Data)
			if err != nil {
				t.Fatal(err)
			}
			if card.IDNumber != residentCard().IDNumber || len(card.Photo) != 1024 || len(card.Fingerprints) != c.fp {
				t.Fatalf("decoded %q photo %d fp %d", card.IDNumber, len(card.Photo), len(card.Fingerprints))
			}
		})
	}
	t.Run("lengths that do not add up", func(t *testing.T) {
		data := append([]byte{0x01, 0x00, 0x04, 0x01}, text...)
		if _, err := DecodeRead(append(data, photo...)); !errors.Is(err, ErrBadReply) || !errors.Is(err, ErrProtocol) {
			t.Fatalf("err = %v, want ErrBadReply", err)
		}
	})
}

func TestStatusErrors(t *testing.T) {
	for sw3, want := range statusErrors {
		err := StatusErr(CmdRead, sw3)
		var se *StatusError
		if !errors.As(err, &se) || se.SW3 != sw3 || !errors.Is(err, want) {
			t.Fatalf("SW3 %02X: %v, want %v", sw3, err, want)
		}
		classes := 0
		for _, c := range []error{ErrDeviceFault, ErrCardFault, ErrProtocol} {
			if errors.Is(err, c) {
				classes++
			}
		}
		if classes != 1 {
			t.Fatalf("SW3 %02X is in %d classes", sw3, classes)
		}
	}
	if err := StatusErr(CmdFind, 0x55); !errors.Is(err, ErrUnknownStatus) {
		t.Fatalf("unknown SW3: %v", err)
	}
	for _, ok := range []byte{0x90, 0x9F} {
		if err := StatusErr(CmdFind, ok); err != nil {
			t.Fatalf("SW3 %02X: %v", ok, err)
		}
	}
	if !strings.HasPrefix(StatusErr(CmdSelect, 0x81).Error(), "idcard: ") {
		t.Fatal("errors are prefixed with the package")
	}
}
