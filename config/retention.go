package config

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/hazgate/hazgate/strictyaml"
)

// Retention is how long the gate keeps what it stores:
//
//	retention:
//	  records: 24mo   # inspections, passages, decisions, alarms, audit entries
//	  faces: 7d       # face images (and any other picture)
//
// The old form, `retention: 168h`, set the face images' period alone; it
// is still read (records then keep their default) and Deprecated says so.
type Retention struct {
	Records Age `yaml:"records"`
	Faces   Age `yaml:"faces"`
	// Deprecated is set when the file used the old scalar form.
	Deprecated bool `yaml:"-"`
}

// DeprecatedRetention is the note logged at start for the old form.
const DeprecatedRetention = "retention: a single duration is deprecated: it sets retention.faces alone; write retention: {records: 24mo, faces: 7d}"

// UnmarshalYAML reads either form. Unknown keys in the mapping are errors.
func (r *Retention) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		var a Age
		if err := a.UnmarshalYAML(n); err != nil {
			return err
		}
		r.Faces, r.Deprecated = a, true
		return nil
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			var dst *Age
			switch k.Value {
			case "records":
				dst = &r.Records
			case "faces":
				dst = &r.Faces
			default:
				return strictyaml.ValueError(k, "unknown key %q (known: faces, records)", k.Value)
			}
			if err := dst.UnmarshalYAML(v); err != nil {
				return err
			}
		}
		return nil
	}
	return strictyaml.ValueError(n, "want {records: 24mo, faces: 7d}")
}

// MarshalYAML writes the mapping form.
func (r Retention) MarshalYAML() (any, error) {
	return map[string]string{"records": r.Records.String(), "faces": r.Faces.String()}, nil
}

// Age is a retention period: calendar months (24mo), days (7d) or a Go
// duration (168h), or a sum of them (1mo15d).
type Age struct {
	Months int
	D      time.Duration
}

var ageRe = regexp.MustCompile(`^(?:(\d{1,4})mo)?(?:(\d{1,5})d)?(.*)$`)

// ParseAge reads an Age.
func ParseAge(s string) (Age, error) {
	m := ageRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil || strings.TrimSpace(s) == "" {
		return Age{}, fmt.Errorf("%q is not a period such as 24mo, 7d or 168h", s)
	}
	var a Age
	if m[1] != "" {
		a.Months, _ = strconv.Atoi(m[1])
	}
	if m[2] != "" {
		d, _ := strconv.Atoi(m[2])
		a.D = time.Duration(d) * 24 * time.Hour
	}
	if m[3] != "" {
		d, err := time.ParseDuration(m[3])
		if err != nil {
			return Age{}, fmt.Errorf("%q is not a period such as 24mo, 7d or 168h", s)
		}
		a.D += d
	}
	return a, nil
}

// UnmarshalYAML reads an Age.
func (a *Age) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return strictyaml.ValueError(n, "want a period such as 24mo, 7d or 168h")
	}
	v, err := ParseAge(n.Value)
	if err != nil {
		return strictyaml.ValueError(n, "%v", err)
	}
	*a = v
	return nil
}

// MarshalYAML writes the period as it is read.
func (a Age) MarshalYAML() (any, error) { return a.String(), nil }

func (a Age) String() string {
	var b strings.Builder
	if a.Months != 0 {
		fmt.Fprintf(&b, "%dmo", a.Months)
	}
	d := a.D
	if days := d / (24 * time.Hour); days != 0 && d%(24*time.Hour) == 0 {
		fmt.Fprintf(&b, "%dd", days)
		d = 0
	}
	if d != 0 || b.Len() == 0 {
		b.WriteString(d.String())
	}
	return b.String()
}

// Before is the time before which what is kept this long may go.
func (a Age) Before(now time.Time) time.Time {
	return now.AddDate(0, -a.Months, 0).Add(-a.D)
}

// Positive reports whether the period is longer than nothing.
func (a Age) Positive() bool { return a.Months > 0 || (a.Months == 0 && a.D > 0) }

// Disk is the database disk's watch.
type Disk struct {
	// MinFree: below this much free space on the database's file system
	// telemetry stops being queued and a disk_low alarm is raised, until
	// it is back above (default 200MiB).
	MinFree ByteSize `yaml:"min_free"`
}

// ByteSize is a size in bytes: 200MiB, 1GiB, 500MB, 4096.
type ByteSize uint64

var sizeRe = regexp.MustCompile(`^(\d{1,15})\s*(B|KB|KiB|MB|MiB|GB|GiB)?$`)

var sizeUnits = map[string]uint64{"": 1, "B": 1, "KB": 1e3, "KiB": 1 << 10, "MB": 1e6, "MiB": 1 << 20, "GB": 1e9, "GiB": 1 << 30}

// UnmarshalYAML reads a size.
func (s *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	m := sizeRe.FindStringSubmatch(strings.TrimSpace(n.Value))
	if n.Kind != yaml.ScalarNode || m == nil {
		return strictyaml.ValueError(n, "%q is not a size such as 200MiB or 1GiB", n.Value)
	}
	v, _ := strconv.ParseUint(m[1], 10, 64)
	unit := sizeUnits[m[2]]
	if v > math.MaxUint64/unit {
		return strictyaml.ValueError(n, "%q is too large", n.Value)
	}
	*s = ByteSize(v * unit)
	return nil
}

// MarshalYAML writes the size in MiB when it is a whole number of them.
func (s ByteSize) MarshalYAML() (any, error) {
	if s%(1<<20) == 0 && s > 0 {
		return fmt.Sprintf("%dMiB", s>>20), nil
	}
	return strconv.FormatUint(uint64(s), 10), nil
}

// validateRetention adds the mistakes in the retention and disk settings.
func (c *Config) validateRetention(bad func(field, format string, args ...any)) {
	if c.Retention.Deprecated {
		if !c.Retention.Faces.Positive() {
			bad("retention", "%v: must be more than 0", c.Retention.Faces.D)
		}
	} else {
		if !c.Retention.Faces.Positive() {
			bad("retention.faces", "%v: must be more than 0", c.Retention.Faces)
		}
		if !c.Retention.Records.Positive() {
			bad("retention.records", "%v: must be more than 0", c.Retention.Records)
		}
	}
	ref := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	if c.Retention.Records.Positive() && c.Retention.Records.Before(ref).After(c.Retention.Faces.Before(ref)) {
		bad("retention.records", "%v is shorter than retention.faces (%v): a face image is kept no longer than its inspection", c.Retention.Records, c.Retention.Faces)
	}
	if c.Disk.MinFree == 0 {
		bad("disk.min_free", "0: must be more than 0 (the gate needs room to record)")
	}
}
