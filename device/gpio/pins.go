// Package gpio drives the gate's loop detectors and barrier relays on
// periph.io pins: a Loop is a debounced loop-detector input, a Barrier the
// relays (pulse or level) with optional limit-switch feedback.
//
// Pins are found by name through periph's registry (Lookup("GPIO17")) or by
// chip and line ("gpiochip0/17") where the kernel gives lines no names. On the
// gate, periph's character-device driver (periph.io/x/host/v3/gpioioctl)
// provides them; call Init once first. Tests and the simulator register
// periph's gpiotest pins by name instead.
//
// Known trap: on the character device, WaitForEdge(-1) returns at once; the
// drivers here always wait with a bounded timeout, in a loop.
//
// It imports only clock and lane of ours (the barrier is a lane.Barrier and
// reports lane's barrier states); appliance and sim may import it.
package gpio

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"periph.io/x/conn/v3/driver/driverreg"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3/gpioioctl"
)

// ErrNoPin is returned by Lookup for a pin that does not exist.
var ErrNoPin = errors.New("gpio: no such pin")

// Init loads periph's GPIO character-device driver, which registers every
// named line of /dev/gpiochip*. Only cmd/ calls it.
func Init() error {
	if _, err := driverreg.Init(); err != nil {
		return fmt.Errorf("gpio: %w", err)
	}
	if len(gpioioctl.Chips) == 0 {
		return fmt.Errorf("gpio: no /dev/gpiochip* found (is this the gate controller, and may this user open them?)")
	}
	return nil
}

// chipLine finds line n of a chip given by name (gpiochip0) or label
// (pinctrl-rp1); a variable so tests can stand in for the kernel.
var chipLine = func(chip string, n int) (gpio.PinIO, error) {
	for _, c := range gpioioctl.Chips {
		if c.Name() == chip || c.Label() == chip || c.Path() == chip {
			if l := c.ByNumber(n); l != nil {
				return l, nil
			}
			return nil, fmt.Errorf("%w: %s has %d lines, no line %d", ErrNoPin, chip, c.LineCount(), n)
		}
	}
	return nil, fmt.Errorf("%w: no GPIO chip %q", ErrNoPin, chip)
}

// Lookup returns the pin called name: a name periph knows ("GPIO17", or an
// alias), or "CHIP/LINE" ("gpiochip0/17", "pinctrl-rp1/17").
func Lookup(name string) (gpio.PinIO, error) {
	if chip, line, ok := strings.Cut(name, "/"); ok && !strings.HasPrefix(name, "/") {
		n, err := strconv.Atoi(line)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%w: %q: the line after / must be a number", ErrNoPin, name)
		}
		return chipLine(chip, n)
	}
	if p := gpioreg.ByName(name); p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("%w: %q (names are the kernel's line names such as GPIO17; use chip/line such as gpiochip0/17 for unnamed lines)", ErrNoPin, name)
}

// level returns the electrical level for a logical "active" on a pin.
func level(active, activeLow bool) gpio.Level {
	return gpio.Level(active != activeLow)
}

// active reads a logical "active" from an electrical level.
func active(l gpio.Level, activeLow bool) bool {
	return bool(l) != activeLow
}

// ParsePull reads a configuration's pull ("up", "down", "none", or "" for
// leaving the line as the board sets it).
func ParsePull(s string) (gpio.Pull, error) {
	switch s {
	case "":
		return gpio.PullNoChange, nil
	case "up":
		return gpio.PullUp, nil
	case "down":
		return gpio.PullDown, nil
	case "none":
		return gpio.Float, nil
	}
	return gpio.PullNoChange, fmt.Errorf("gpio: pull %q is not up, down or none", s)
}
