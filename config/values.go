package config

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

var (
	gpioNameRe = regexp.MustCompile(`(?i)^gpio0*(\d{1,4})$`)
	chipRe     = regexp.MustCompile(`(?i)^gpiochip0*(\d{1,4})$`)
	lineRe     = regexp.MustCompile(`^0*(\d{1,4})$`)
	pinNameRe  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,63}$`)
)

// CanonicalPin returns the one way hazgate writes a pin, and the key that
// every spelling of the same line shares. Spaces around it are dropped;
// GPIO17, gpio17 and GPIO017 are written GPIO17; a chip given by its
// device name is written gpiochip0/17. GPIO<n> and gpiochip0/<n> are taken
// to be one line, as on the Raspberry Pi boards hazgate is installed on, so
// a pin written both ways is refused as used twice. A bare number is
// refused: it is not clear which line it means.
func CanonicalPin(s string) (name, key string, err error) {
	s = strings.TrimSpace(s)
	if m := gpioNameRe.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		return fmt.Sprintf("GPIO%d", n), fmt.Sprintf("gpiochip0/%d", n), nil
	}
	if chip, line, ok := strings.Cut(s, "/"); ok {
		chip, line = strings.TrimSpace(chip), strings.TrimSpace(line)
		lm := lineRe.FindStringSubmatch(line)
		if lm == nil || !pinNameRe.MatchString(chip) {
			return "", "", fmt.Errorf("%q is not a pin: write a line name (GPIO17) or chip/line (gpiochip0/17)", s)
		}
		n, _ := strconv.Atoi(lm[1])
		if cm := chipRe.FindStringSubmatch(chip); cm != nil {
			c, _ := strconv.Atoi(cm[1])
			chip = fmt.Sprintf("gpiochip%d", c)
		}
		name = fmt.Sprintf("%s/%d", chip, n)
		return name, strings.ToLower(name), nil
	}
	if !pinNameRe.MatchString(s) {
		return "", "", fmt.Errorf("%q is not a pin: write a line name (GPIO17) or chip/line (gpiochip0/17)", s)
	}
	return s, s, nil
}

// portKey is what two spellings of one serial device share: the cleaned
// path, or where it leads when it is a link that exists (a udev name such as
// /dev/hazgate-idcard-in1 and the /dev/ttyUSB0 it points at are one port).
func portKey(port string) string {
	p := filepath.Clean(strings.TrimSpace(port))
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}

// topicLevels splits an MQTT topic into its levels, or says what is wrong
// with it as a fixed topic (no wildcards, no empty level, no leading or
// trailing /, not a $SYS topic).
func topicLevels(t string) ([]string, error) {
	switch {
	case t == "":
		return nil, fmt.Errorf("empty")
	case strings.ContainsAny(t, "+#"):
		return nil, fmt.Errorf("%q: no wildcards (+ or #): it is a fixed topic", t)
	case strings.HasPrefix(t, "/"):
		return nil, fmt.Errorf("%q: no leading / (it makes an empty first level)", t)
	case strings.HasSuffix(t, "/"):
		return nil, fmt.Errorf("%q: no trailing /", t)
	case strings.Contains(t, "//"):
		return nil, fmt.Errorf("%q: an empty level (//)", t)
	case strings.HasPrefix(t, "$"):
		return nil, fmt.Errorf("%q: topics starting with $ belong to the broker", t)
	case strings.ContainsAny(t, " \t\r\n\x00"):
		return nil, fmt.Errorf("%q: no spaces or control characters", t)
	}
	return strings.Split(t, "/"), nil
}

// within reports whether topic a is b or lies under it, level by level.
func within(a, b []string) bool {
	if len(a) < len(b) {
		return false
	}
	for i := range b {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// checkListen says what is wrong with a listen address, or "".
func checkListen(addr string) string {
	if strings.TrimSpace(addr) == "" {
		return "missing: host:port such as :8080 or 127.0.0.1:8080"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Sprintf("%q is not host:port such as :8080 or 127.0.0.1:8080", addr)
	}
	// Port 0 lets the system choose (tests use it).
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Sprintf("%q: the port %q is not a number in 0..65535", addr, port)
	}
	if host != "" && net.ParseIP(host) == nil && !hostnameRe.MatchString(host) {
		return fmt.Sprintf("%q: %q is not an IP address or a host name", addr, host)
	}
	return ""
}

var hostnameRe = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$`)

// checkDatabase says what is wrong with the database path, or "".
func checkDatabase(p string) string {
	switch {
	case strings.TrimSpace(p) == "":
		return "missing: the SQLite file"
	case strings.TrimSpace(p) != p:
		return fmt.Sprintf("%q has spaces at its ends", p)
	case strings.HasSuffix(p, "/"):
		return fmt.Sprintf("%q is a directory: name the SQLite file in it, such as %shazgate.db", p, p)
	}
	if fi, err := os.Stat(p); err == nil && fi.IsDir() {
		return fmt.Sprintf("%q is a directory: name the SQLite file in it, such as %s", p, filepath.Join(p, "hazgate.db"))
	}
	if fi, err := os.Stat(filepath.Dir(p)); err == nil && !fi.IsDir() {
		return fmt.Sprintf("%q: %s is a file, not a directory", p, filepath.Dir(p))
	}
	return ""
}

// statError is a file's stat error in plain words.
func statError(err error) string {
	switch {
	case os.IsNotExist(err):
		return "no such file"
	case os.IsPermission(err):
		return "hazgate may not read it (permission denied)"
	}
	return "cannot be read"
}

// A board is the GPIO lines a controller's header offers, as
// firmware-config/boards writes them.
type board struct {
	pins string // in words, for the error
	has  func(canonical string) bool
}

// boards are the profiles `board:` may name.
var boards = map[string]board{
	// GPIO0-GPIO27 of the 40-pin header (gpiochip0 on a Pi 4 and a Pi 5
	// with a current kernel).
	"rpi4-rpi5": {"GPIO0 to GPIO27, or gpiochip0/0 to gpiochip0/27", func(p string) bool {
		return pinIn(p, "GPIO", 0, 27) || pinIn(p, "gpiochip0/", 0, 27)
	}},
	// Five banks of 32 lines, written chip/line (mainline device trees
	// give the lines no names).
	"rk3568": {"gpiochip0/0 to gpiochip4/31", func(p string) bool {
		for c := range 5 {
			if pinIn(p, fmt.Sprintf("gpiochip%d/", c), 0, 31) {
				return true
			}
		}
		return false
	}},
}

// pinIn reports whether p is prefix followed by a number from lo to hi.
func pinIn(p, prefix string, lo, hi int) bool {
	rest, ok := strings.CutPrefix(p, prefix)
	if !ok {
		return false
	}
	n, err := strconv.Atoi(rest)
	return err == nil && n >= lo && n <= hi && strconv.Itoa(n) == rest
}
