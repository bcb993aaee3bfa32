// Package simscale is a simulated weighbridge indicator on a pty, in
// continuous-output mode: the driver (device/scale) opens it by path as it
// opens the indicator's USB serial adapter, and each Send writes one
// XK3190-class frame, as the indicator does several times a second. It
// can add noise (garbage and a frame with a bad checksum before the good
// one), as a long RS-232 line beside a pump motor does.
//
// Only sim and tests import it.
package simscale

import (
	"fmt"

	"github.com/hazgate/hazgate/device/scale"
	"github.com/hazgate/hazgate/sim/simpty"
)

// Indicator is one simulated indicator at a path.
type Indicator struct {
	port *simpty.Port
}

// New creates an indicator whose pty is reachable at path (a symlink, like
// the udev name /dev/hazgate-scale-in1).
func New(path string) (*Indicator, error) {
	port, err := simpty.New(path, nil)
	if err != nil {
		return nil, fmt.Errorf("simscale: %w", err)
	}
	return &Indicator{port: port}, nil
}

// Path returns the path the driver opens.
func (i *Indicator) Path() string { return i.port.Path() }

// Noise is what a noisy line puts before a frame: bytes that start no
// frame, then a whole frame whose checksum is wrong. The driver skips both
// (two rejections) and still reads the frame after them.
var Noise = []byte("\xff\x00\r\n~?\x02+0123450FF\x03")

// Frame is the frame for kg (whole kilograms, as a weighbridge indicator
// calibrated in kg displays them).
func Frame(kg int64) ([]byte, error) {
	b, err := scale.Encode(scale.Frame{Digits: kg})
	if err != nil {
		return nil, fmt.Errorf("simscale: %w", err)
	}
	return b, nil
}

// Send writes one frame of kg, after Noise when noisy. It fails while
// unplugged.
func (i *Indicator) Send(kg int64, noisy bool) error {
	f, err := Frame(kg)
	if err != nil {
		return err
	}
	if noisy {
		f = append(append([]byte(nil), Noise...), f...)
	}
	if _, err := i.port.Write(f); err != nil {
		return fmt.Errorf("simscale: %w", err)
	}
	return nil
}

// Unplug removes the path and closes the pty.
func (i *Indicator) Unplug() error { return i.port.Unplug() }

// Plug creates a new pty under the same path.
func (i *Indicator) Plug() error { return i.port.Plug() }

// Close unplugs the indicator for good.
func (i *Indicator) Close() error { return i.port.Close() }
