package registry

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hazgate/hazgate/idnumber"
	"github.com/hazgate/hazgate/strictyaml"
)

// MaxPlateBytes bounds a plate as the registry writes it: the longest real
// plate (a province, a letter, six characters and 挂 or 学) is about 15
// bytes of UTF-8; 32 leaves room for spaces and a middle dot.
const MaxPlateBytes = 32

// PlateProblem says what is wrong with a plate as written in the registry,
// or "" when nothing is. A plate is at most MaxPlateBytes of UTF-8 with
// something other than spaces in it, and holds no control character (NUL,
// tab, CR...), no '<' or '>' (markup), and does not start with '=', '+',
// '-' or '@' (a formula when a spreadsheet opens an export). Plates reach
// screens, CSV files and log lines: they must be inert there.
func PlateProblem(p string) string {
	switch {
	case p == "":
		return "missing"
	case len(p) > MaxPlateBytes:
		return fmt.Sprintf("%d bytes long; a plate is at most %d", len(p), MaxPlateBytes)
	case !utf8.ValidString(p):
		return "is not valid UTF-8"
	case strings.TrimFunc(p, unicode.IsSpace) == "":
		return "holds only spaces"
	case strings.ContainsAny(p[:1], "=+-@"):
		return fmt.Sprintf("%q starts with %q, which a spreadsheet reads as a formula", p, p[:1])
	}
	for _, r := range p {
		switch {
		case unicode.IsControl(r) || r == utf8.RuneError || unicode.Is(unicode.Cf, r):
			return fmt.Sprintf("%q holds a control character", p)
		case r == '<' || r == '>':
			return fmt.Sprintf("%q holds %q, which is markup, not part of a plate", p, r)
		}
	}
	return ""
}

// IDProblem says what is wrong with an ID number as written in the
// registry, or "" when nothing is: an 18-character number is 17 ASCII
// digits and a digit or X (a wrong check digit is accepted here: the
// identity check judges it at the lane, where it says so); a 2017
// foreigner's number is three capital letters and twelve digits.
func IDProblem(id string) string {
	if id == "" {
		return "missing"
	}
	for i := 0; i < len(id); i++ {
		if id[i] >= utf8.RuneSelf {
			return fmt.Sprintf("%q holds a character that is not ASCII", id)
		}
	}
	if idnumber.IsForeignPermanent2017(id) {
		return ""
	}
	if len(id) != 18 {
		return fmt.Sprintf("%q is neither 18 characters nor a 2017 foreigner's number (3 letters, 12 digits)", id)
	}
	for i := 0; i < 17; i++ {
		if id[i] < '0' || id[i] > '9' {
			return fmt.Sprintf("%q has %q at place %d; the first 17 places are digits", id, id[i], i+1)
		}
	}
	if c := id[17]; (c < '0' || c > '9') && c != 'X' && c != 'x' {
		return fmt.Sprintf("%q ends in %q; the last place is a digit or X", id, c)
	}
	return ""
}

// validityOrder says what is wrong when from is after until, or "". A date
// is read in UTC here (the park's zone is not known); between a date and an
// instant, 14 hours (the widest zone offset) are allowed either way.
func validityOrder(from, until Validity) string {
	if from.IsZero() || until.IsZero() {
		return ""
	}
	slack := time.Duration(0)
	if from.DateOnly() != until.DateOnly() {
		slack = 14 * time.Hour
	}
	if !from.Start(time.UTC).Before(until.End(time.UTC).Add(slack)) {
		return fmt.Sprintf("%s is after valid_until %s", from, until)
	}
	return ""
}

// Sync bounds (docs/uplink.md "Registry sync").
const (
	// MaxClockSkew is how far a registry's synced_at may be ahead of the
	// gate's clock: more would make the registry look fresh for ever, so
	// that registry_stale never fires.
	MaxClockSkew = 5 * time.Minute
	// MaxVersionJump is how far a new version may be ahead of the one the
	// gate holds; more needs `hazgate registry import -force`, and is
	// refused over MQTT. A version near 2^63 would stop every later update.
	MaxVersionJump = 1_000_000
	// MaxVersion is the highest version, even with -force: 2^53, the last
	// integer a JSON reader in JavaScript holds exactly; a version near
	// 2^63 would leave no room for the versions after it.
	MaxVersion = 1 << 53
)

// SyncChange is what a snapshot or delta does to the registry's meta row.
type SyncChange struct {
	Held     int64     // the version the gate holds (0: none)
	Version  int64     // the version it would hold after
	Same     bool      // a delta with version == base and nothing in it: the version stays
	SyncedAt time.Time // the new synced_at (zero: now)
	Force    bool      // the operator allows a jump over MaxVersionJump, or going back to an older version (a manual import only)
}

// CheckSync is the one check of a registry change's version and synced_at,
// for `hazgate registry import` and for MQTT snapshots and deltas alike:
// the version is positive, at most MaxVersion, and above the held one (or the same, for an
// empty delta), at most MaxVersionJump above it unless forced (a gate that
// holds none takes any), and synced_at is not later than now plus
// MaxClockSkew.
func CheckSync(c SyncChange, now time.Time) []Problem {
	var ps []Problem
	switch {
	case c.Version < 1:
		ps = append(ps, Problem{"version", fmt.Sprintf("%d is not positive", c.Version)})
	case c.Version > MaxVersion:
		ps = append(ps, Problem{"version", fmt.Sprintf("%d is above %d, the highest version", c.Version, int64(MaxVersion))})
	case c.Same && c.Version != c.Held:
		ps = append(ps, Problem{"version", fmt.Sprintf("%d is not the held version %d", c.Version, c.Held)})
	case !c.Same && c.Version <= c.Held && !c.Force:
		ps = append(ps, Problem{"version", fmt.Sprintf("%d is not above the held version %d (-force to go back to it)", c.Version, c.Held)})
	case c.Held > 0 && c.Version-c.Held > MaxVersionJump && !c.Force:
		ps = append(ps, Problem{"version", fmt.Sprintf("%d is %d above the held version %d; more than %d needs -force",
			c.Version, c.Version-c.Held, c.Held, MaxVersionJump)})
	}
	if !c.SyncedAt.IsZero() && c.SyncedAt.After(now.Add(MaxClockSkew)) {
		ps = append(ps, Problem{"synced_at", fmt.Sprintf("%s is in the future (now %s; %v of clock skew allowed)",
			c.SyncedAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), MaxClockSkew)})
	}
	return ps
}

// optionalWeight says what is wrong with an optional weight in kg (0: not
// given), or "": it is finite and positive. Written so that NaN fails.
func optionalWeight(kg float64) string {
	if kg == 0 {
		return ""
	}
	if !(kg > 0) || !strictyaml.IsFinite(kg) {
		return "is not a weight in kg (a positive number, or leave it out)"
	}
	return ""
}
