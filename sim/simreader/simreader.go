// Package simreader is a simulated GA 467 ID-card reader on a pty: the
// driver opens it by path exactly as it opens a USB serial reader, and it
// answers find, select and read with frames built from the card in its field
// (idcardtest's fake reader does the protocol).
//
// Faults are injected as on a real gate: Unplug closes the pty and removes
// the path (the udev symlink vanishes), Plug creates a new pty under the same
// path; noise sends stray bytes; silence answers nothing.
//
// Only sim and tests import it.
package simreader

import (
	"fmt"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/device/idcard"
	"github.com/hazgate/hazgate/device/idcard/idcardtest"
	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/sim/simpty"
)

// Reader is one simulated reader at a path.
type Reader struct {
	port *simpty.Port
	fake *idcardtest.Reader
}

// New creates a reader whose pty is reachable at path (a symlink, like the
// udev name /dev/hazgate-idcard-in1; any file already there is replaced).
// It starts plugged in with an empty field.
func New(path string) (*Reader, error) {
	fake := idcardtest.New()
	port, err := simpty.New(path, fake.Serve)
	if err != nil {
		return nil, fmt.Errorf("simreader: %w", err)
	}
	return &Reader{port: port, fake: fake}, nil
}

// Path returns the path the driver opens.
func (r *Reader) Path() string { return r.port.Path() }

// Fake returns the protocol fake, for finer fault injection (a status of
// choice, a failed SAM, corrupt replies, line-rate pacing).
func (r *Reader) Fake() *idcardtest.Reader { return r.fake }

// Present puts c in the reader's field.
func (r *Reader) Present(c idcard.Card) error {
	k, err := idcardtest.FromCard(c)
	if err != nil {
		return fmt.Errorf("simreader: %w", err)
	}
	r.fake.Present(k)
	return nil
}

// Remove takes the card away.
func (r *Reader) Remove() { r.fake.Remove() }

// Noise turns stray bytes on or off.
func (r *Reader) Noise(on bool) { r.fake.SetNoise(on) }

// Silence makes the reader answer nothing (on) or answer again (off).
func (r *Reader) Silence(on bool) { r.fake.SetSilent(on) }

// Plug creates a new pty under the same path (a no-op when plugged).
func (r *Reader) Plug() error { return r.port.Plug() }

// Unplug removes the path and closes the pty, as pulling the USB plug
// does: the driver's reads fail and the device node is gone.
func (r *Reader) Unplug() error { return r.port.Unplug() }

// Plugged reports whether the reader is plugged in.
func (r *Reader) Plugged() bool { return r.port.Plugged() }

// Close unplugs the reader for good.
func (r *Reader) Close() error { return r.port.Close() }

// Fault kinds that Inject knows.
const (
	FaultUnplug  = "unplug"
	FaultNoise   = "noise"
	FaultSilence = "silence"
)

// Inject starts a fault of kind now and ends it after d on clk (d <= 0:
// it lasts until ended by hand): the scenario's
// `faults: [{at, device, kind, for}]`.
func (r *Reader) Inject(clk clock.Clock, kind string, d time.Duration) error {
	var end func()
	switch kind {
	case FaultUnplug:
		if err := r.Unplug(); err != nil {
			return err
		}
		end = func() { _ = r.Plug() }
	case FaultNoise:
		r.Noise(true)
		end = func() { r.Noise(false) }
	case FaultSilence:
		r.Silence(true)
		end = func() { r.Silence(false) }
	default:
		return fmt.Errorf("simreader: unknown fault %q (unplug, noise or silence)", kind)
	}
	if d > 0 {
		clk.AfterFunc(d, end)
	}
	return nil
}

// CardFor makes the card a person presents from the lane's evidence of them
// and the registry's entry (either may be partial): a resident card valid
// from its registered date (or ten years before it expires), long-term when
// no end is known, with a synthetic photo.
func CardFor(p checks.PersonEvidence, reg registry.Person) idcard.Card {
	c := idcard.Card{
		Kind: idcard.KindResident, IDNumber: p.IDNumber, Name: p.Name,
		GenderCode: "9", NationCode: idcard.NationCode(reg.Nation), Birth: reg.Birth,
		Address: reg.Address, Authority: reg.Authority,
		ValidFrom: p.CardValidFrom, ValidUntil: p.CardValidUntil,
	}
	switch reg.Gender {
	case "男", "male", "1":
		c.GenderCode = "1"
	case "女", "female", "2":
		c.GenderCode = "2"
	}
	if c.ValidUntil.IsZero() {
		c.LongTerm = true
	}
	if c.ValidFrom.IsZero() {
		c.ValidFrom = registry.Date(2016, 1, 1)
		if !c.ValidUntil.IsZero() {
			u := c.ValidUntil.Start(time.UTC)
			c.ValidFrom = registry.Date(u.Year()-10, u.Month(), u.Day())
		}
	}
	c.Name = cut(c.Name, 15)
	c.Address = cut(c.Address, 35)
	c.Authority = cut(c.Authority, 15)
	c.IDNumber = cut(c.IDNumber, 18)
	return c
}

func cut(s string, n int) string {
	if rs := []rune(s); len(rs) > n {
		return string(rs[:n])
	}
	return s
}
