// Package scanner reads the gate's serial QR/barcode scanner: one line per
// scan (ended by CR, LF or CR LF), from which it extracts the waybill number.
// A scan may be the bare number, a URL that carries it (as a query parameter
// or the last path segment), or JSON ({"waybill": ...}, {"ydh": ...}).
//
// It imports only clock of ours; appliance and sim may import it.
package scanner

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode"
)

// ErrGarbage is returned for a scan that carries no waybill number.
var ErrGarbage = errors.New("scanner: no waybill number in the scan")

// numberRe is what a waybill number looks like: letters, digits, - and _,
// 6 to 40 of them, starting with a letter or digit.
var numberRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{5,39}$`)

// keys are the names under which URLs and JSON carry the number, in order
// of preference (compared without case, - and _).
var keys = []string{"waybill", "waybillno", "waybillnumber", "ydh", "yundanhao", "ydbh", "billno", "number", "no", "code", "id"}

// Extract returns the waybill number carried by one scan, or an error
// wrapping ErrGarbage that says what the scan was.
func Extract(scan string) (string, error) {
	s := strings.TrimFunc(scan, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r == '\ufeff' })
	s = stripAIM(s)
	switch {
	case s == "":
		return "", fmt.Errorf("%w: empty scan", ErrGarbage)
	case strings.HasPrefix(s, "{"):
		return fromJSON(s)
	case strings.Contains(s, "://"):
		return fromURL(s)
	}
	if numberRe.MatchString(s) {
		return s, nil
	}
	return "", fmt.Errorf("%w: %s is neither a waybill number, a URL carrying one, nor JSON with one", ErrGarbage, quote(s))
}

// stripAIM drops a symbology identifier (]Q1, ]C0...) that some scanners
// put before the data.
func stripAIM(s string) string {
	if len(s) > 3 && s[0] == ']' && unicode.IsLetter(rune(s[1])) {
		return s[3:]
	}
	return s
}

func normKey(k string) string {
	return strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(k))
}

func fromURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%w: %s is not an http(s) URL", ErrGarbage, quote(s))
	}
	q := map[string]string{}
	for k, v := range u.Query() {
		if len(v) > 0 {
			q[normKey(k)] = v[0]
		}
	}
	for _, k := range keys {
		if v, ok := q[k]; ok && numberRe.MatchString(v) {
			return v, nil
		}
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	if last := segs[len(segs)-1]; numberRe.MatchString(last) && strings.ContainsAny(last, "0123456789") {
		return last, nil
	}
	return "", fmt.Errorf("%w: URL %s carries no waybill number (query waybill=, ydh=... or last path segment)", ErrGarbage, quote(s))
}

func fromJSON(s string) (string, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return "", fmt.Errorf("%w: malformed JSON %s: %v", ErrGarbage, quote(s), err)
	}
	if v, ok := findKey(obj); ok {
		return v, nil
	}
	for _, nest := range []string{"data", "waybill", "result"} {
		if inner, ok := obj[nest].(map[string]any); ok {
			if v, ok := findKey(inner); ok {
				return v, nil
			}
		}
	}
	return "", fmt.Errorf("%w: JSON %s has no waybill field (waybill, ydh, ...)", ErrGarbage, quote(s))
}

func findKey(obj map[string]any) (string, bool) {
	norm := map[string]any{}
	for k, v := range obj {
		norm[normKey(k)] = v
	}
	for _, k := range keys {
		var s string
		switch v := norm[k].(type) {
		case string:
			s = strings.TrimSpace(v)
		case json.Number:
			s = v.String()
		default:
			continue
		}
		if numberRe.MatchString(s) {
			return s, true
		}
	}
	return "", false
}

// quote shows a scan in an error, cut to a readable length.
func quote(s string) string {
	if rs := []rune(s); len(rs) > 80 {
		s = string(rs[:80]) + "..."
	}
	return fmt.Sprintf("%q", s)
}
