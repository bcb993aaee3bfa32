package config

import (
	"os"
	"strings"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/lane"
)

// Waybill is the waybill service that scanned waybills are looked up in
// (docs/design.md, "Waybill lookup"). With no URL, no lookup: the
// registry's copy is judged as before.
type Waybill struct {
	URL string `yaml:"url"`
	// Timeout bounds one lookup (3s); the decision waits for it no longer.
	Timeout Duration `yaml:"timeout"`
	// MaxAge is how old the registry's copy (its last sync) or a cached
	// answer may be and still be judged without asking (15m).
	MaxAge Duration `yaml:"max_age"`
	// Token is sent as a bearer token; CAFile, CertFile and KeyFile are
	// for (mutual) TLS.
	Token    string `yaml:"token"`
	CAFile   string `yaml:"ca_file"`
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// DefaultWaybill are the waybill section's defaults.
func DefaultWaybill() Waybill {
	return Waybill{Timeout: Duration(3 * time.Second), MaxAge: Duration(15 * time.Minute)}
}

// validateWaybill checks the waybill section and checks.appointments.
func (c *Config) validateWaybill(bad func(field, format string, args ...any)) {
	switch c.Checks.Appointments {
	case "", checks.AppointmentsOff, checks.AppointmentsOptional, checks.AppointmentsRequired:
	default:
		bad("checks.appointments", "%q is not off, optional or required", c.Checks.Appointments)
	}
	w := c.Waybill
	if w.Timeout <= 0 {
		bad("waybill.timeout", "%v: must be more than 0", w.Timeout.D())
	}
	if w.MaxAge <= 0 {
		bad("waybill.max_age", "%v: must be more than 0", w.MaxAge.D())
	}
	if w.URL != "" {
		checkURL(bad, "waybill.url", w.URL, "http", "https")
		// An answer that can come only after the lane's deadline would
		// hold every vehicle whose waybill is asked for: refuse it here,
		// naming the entry lane whose deadline it does not fit.
		for i, l := range c.Lanes {
			dl := l.Deadline
			if dl == 0 {
				dl = c.Deadline
			}
			if l.Direction == lane.DirectionIn && w.Timeout > 0 && dl > 0 && w.Timeout >= dl {
				bad("waybill.timeout", "%v is not shorter than lanes[%d].deadline (%v): the lane would give up before the waybill service answers", w.Timeout.D(), i, dl.D())
				break
			}
		}
	}
	if w.Token != strings.TrimSpace(w.Token) || strings.ContainsAny(w.Token, "\r\n") {
		bad("waybill.token", "has spaces at its ends or a line break")
	}
	switch {
	case w.CertFile != "" && w.KeyFile == "":
		bad("waybill.key_file", "missing: waybill.cert_file needs its private key")
	case w.CertFile == "" && w.KeyFile != "":
		bad("waybill.cert_file", "missing: waybill.key_file needs its certificate")
	}
	for _, f := range []struct{ name, path string }{{"waybill.ca_file", w.CAFile}, {"waybill.cert_file", w.CertFile}, {"waybill.key_file", w.KeyFile}} {
		if f.path == "" {
			continue
		}
		if fi, err := os.Stat(f.path); err != nil {
			bad(f.name, "%s: %s", f.path, statError(err))
		} else if fi.IsDir() {
			bad(f.name, "%s is a directory, not a file", f.path)
		}
	}
}
