package registry

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hazgate/hazgate/strictyaml"
	"go.yaml.in/yaml/v3"
)

// Validity is a date or an instant from the registry. A date-only value is
// valid from the start of that day and through the end of that day in the
// park's time zone; a timestamp with an offset is an instant.
type Validity struct {
	t        time.Time
	dateOnly bool
	set      bool
}

// Date makes a date-only Validity.
func Date(y int, m time.Month, d int) Validity {
	return Validity{t: time.Date(y, m, d, 0, 0, 0, 0, time.UTC), dateOnly: true, set: true}
}

// Instant makes a Validity that is one instant.
func Instant(t time.Time) Validity { return Validity{t: t, set: true} }

var instantLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05Z07:00", "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05 -07:00", "2006-01-02T15:04Z07:00"}

// ParseValidity reads "2027-01-31" or an RFC 3339 timestamp with an offset.
// The words 长期 and "long-term" (a card valid for life) give a zero value.
func ParseValidity(s string) (Validity, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "":
		return Validity{}, nil
	case "长期", "long-term", "longterm":
		return Validity{}, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return Validity{t: t, dateOnly: true, set: true}, nil
	}
	if t, err := time.Parse("20060102", s); err == nil {
		return Validity{t: t, dateOnly: true, set: true}, nil
	}
	for _, l := range instantLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return Validity{t: t, set: true}, nil
		}
	}
	return Validity{}, fmt.Errorf("%q is neither a date (2006-01-02) nor a timestamp with an offset (2006-01-02T15:04:05+08:00)", s)
}

// IsZero reports whether no value was given.
func (v Validity) IsZero() bool { return !v.set }

// DateOnly reports whether v is a calendar date rather than an instant.
func (v Validity) DateOnly() bool { return v.dateOnly }

// Start is the first instant of v: the start of the day in loc for a date.
func (v Validity) Start(loc *time.Location) time.Time {
	if v.dateOnly {
		return time.Date(v.t.Year(), v.t.Month(), v.t.Day(), 0, 0, 0, 0, loc)
	}
	return v.t
}

// End is the first instant after v: the start of the next day in loc for a
// date, the instant itself plus a nanosecond otherwise.
func (v Validity) End(loc *time.Location) time.Time {
	if v.dateOnly {
		return time.Date(v.t.Year(), v.t.Month(), v.t.Day()+1, 0, 0, 0, 0, loc)
	}
	return v.t.Add(time.Nanosecond)
}

// ValidUntil reports whether now is not after v (inclusive of its whole day).
// A zero value never expires.
func (v Validity) ValidUntil(now time.Time, loc *time.Location) bool {
	return !v.set || now.Before(v.End(loc))
}

// ValidFrom reports whether now is at or after the start of v. A zero value is
// always started.
func (v Validity) ValidFrom(now time.Time, loc *time.Location) bool {
	return !v.set || !now.Before(v.Start(loc))
}

func (v Validity) String() string {
	switch {
	case !v.set:
		return ""
	case v.dateOnly:
		return v.t.Format("2006-01-02")
	default:
		return v.t.Format(time.RFC3339)
	}
}

// UnmarshalYAML accepts YAML dates, timestamps and strings.
func (v *Validity) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return strictyaml.ValueError(n, "want a date or a timestamp")
	}
	p, err := ParseValidity(n.Value)
	if err != nil {
		return strictyaml.ValueError(n, "%v", err)
	}
	*v = p
	return nil
}

// MarshalYAML writes the canonical string.
func (v Validity) MarshalYAML() (any, error) { return v.String(), nil }

// UnmarshalJSON accepts a string (or null).
func (v *Validity) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*v = Validity{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a date string: %w", err)
	}
	p, err := ParseValidity(s)
	if err != nil {
		return err
	}
	*v = p
	return nil
}

// MarshalJSON writes the canonical string, or null when unset.
func (v Validity) MarshalJSON() ([]byte, error) {
	if !v.set {
		return []byte("null"), nil
	}
	return json.Marshal(v.String())
}
