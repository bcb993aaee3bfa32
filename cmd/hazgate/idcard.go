package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/hazgate/hazgate/device/idcard"
	"github.com/hazgate/hazgate/device/serialport"
)

// cmdIDCard is `hazgate idcard read`: the installer's check that a reader is
// wired and answering. It waits for a card and prints it as JSON.
func cmdIDCard(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = "usage: hazgate idcard read -port DEV [-baud N] [-timeout D] [-fingerprints]"
	if len(args) == 0 || args[0] != "read" {
		return usageError{usage}
	}
	fs := flag.NewFlagSet("idcard read", flag.ContinueOnError)
	fs.SetOutput(stderr)
	port := fs.String("port", "", "the reader's serial port, e.g. /dev/hazgate-idcard-in1")
	baud := fs.Int("baud", 115200, "line rate")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for a card")
	fp := fs.Bool("fingerprints", false, "read with fingerprints (30 10)")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{usage}
	}
	if *port == "" || fs.NArg() != 0 || *baud <= 0 || *timeout <= 0 {
		return usageError{usage}
	}
	parts := partsOf(ctx)
	done := parts.start("opening " + *port)
	p, err := serialport.Open(*port, *baud)
	done()
	if err != nil {
		return fmt.Errorf("no reader: %w", err)
	}
	dev := idcard.New(p, idcard.Options{Baud: *baud})
	defer parts.do("closing "+*port, func() { dev.Close() })
	fmt.Fprintf(stderr, "waiting up to %v for a card on %s...\n", *timeout, *port)
	done = parts.start("the ID-card reader on " + *port)
	card, err := idcard.ReadOne(ctx, dev, 200*time.Millisecond, *timeout, *fp)
	done()
	switch {
	case err == nil:
	case errors.Is(err, idcard.ErrNotResponding), errors.Is(err, idcard.ErrUnplugged):
		return fmt.Errorf("no reader answering on %s: %w", *port, err)
	case errors.Is(err, idcard.ErrNoCard):
		return fmt.Errorf("no card on %s: %w", *port, err)
	case errors.Is(err, idcard.ErrBadFrame), errors.Is(err, idcard.ErrBadReply):
		return fmt.Errorf("bad frame from %s: %w", *port, err)
	default:
		return fmt.Errorf("reading a card on %s: %w", *port, err)
	}
	out := cardJSON{Card: card, IDNumberValid: card.IDNumberErr == nil, Photo: blob(card.Photo)}
	if card.IDNumberErr != nil {
		out.IDNumberError = card.IDNumberErr.Error()
	}
	if card.Fingerprints != nil {
		b := blob(card.Fingerprints)
		out.Fingerprints = &b
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

// cardJSON is the card as `hazgate idcard read` prints it.
type cardJSON struct {
	idcard.Card
	IDNumberValid bool      `json:"id_number_valid"`
	IDNumberError string    `json:"id_number_error,omitempty"`
	Photo         blobJSON  `json:"photo"`
	Fingerprints  *blobJSON `json:"fingerprints,omitempty"`
}

// blobJSON stands for binary data: its size and SHA-256.
type blobJSON struct {
	Bytes  int    `json:"bytes"`
	SHA256 string `json:"sha256"`
}

func blob(b []byte) blobJSON {
	sum := sha256.Sum256(b)
	return blobJSON{Bytes: len(b), SHA256: hex.EncodeToString(sum[:])}
}
