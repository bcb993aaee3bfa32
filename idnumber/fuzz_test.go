package idnumber

import (
	"errors"
	"testing"
)

// mod112 is the ISO 7064 MOD 11-2 rule itself, written independently of
// CheckDigit's table: with X read as 10, the 18 characters a1..a18 are a
// valid number when sum(a_i * 2^(18-i)) mod 11 == 1.
func mod112(s string) bool {
	if len(s) != 18 {
		return false
	}
	sum, w := 0, 1 // w = 2^(18-i) mod 11, from the last character back
	for i := 17; i >= 0; i-- {
		c := s[i]
		var v int
		switch {
		case c >= '0' && c <= '9':
			v = int(c - '0')
		case i == 17 && (c == 'X' || c == 'x'):
			v = 10
		default:
			return false
		}
		sum += v * w
		w = w * 2 % 11
	}
	return sum%11 == 1
}

func digits17(s string) bool {
	if len(s) != 17 {
		return false
	}
	for i := 0; i < 17; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// FuzzValidate checks Validate, Complete and Check against the MOD 11-2
// rule computed another way, on any string.
func FuzzValidate(f *testing.F) {
	for _, s := range []string{
		"11010519491231002X", "11010519491231002x", "110105194912310037", "330204199001010018",
		"1101051949123100", "1101051949A231002X", "11010519491231002Y", "990001198001010019",
		"USA990001000011", "usa990001000011", "", "X", "11010519491231002XX", "１1010519491231002X",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := Validate(s)
		if err != nil && !errors.Is(err, ErrFormat) && !errors.Is(err, ErrChecksum) {
			t.Fatalf("Validate(%q) = %v, neither ErrFormat nor ErrChecksum", s, err)
		}
		if want := mod112(s); (err == nil) != want {
			t.Fatalf("Validate(%q) = %v, but MOD 11-2 says valid=%v", s, err, want)
		}
		if errors.Is(err, ErrChecksum) {
			// Only a well-formed number can have the wrong check digit.
			if c := s[17]; !(c >= '0' && c <= '9' || c == 'X' || c == 'x') {
				t.Fatalf("Validate(%q) = ErrChecksum for a malformed number", s)
			}
		}
		if err := Check(s); (err == nil) != (IsForeignPermanent2017(s) || Validate(s) == nil) {
			t.Fatalf("Check(%q) = %v, Validate = %v, foreign 2017 = %v", s, err, Validate(s), IsForeignPermanent2017(s))
		}

		// Complete makes a valid number of any 17 digits, and of nothing else.
		first := s
		if len(first) > 17 {
			first = first[:17]
		}
		id, err := Complete(first)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("Complete(%q) = %v, not ErrFormat", first, err)
			}
			if digits17(first) {
				t.Fatalf("Complete(%q) = %v for 17 digits", first, err)
			}
			return
		}
		if !digits17(first) {
			t.Fatalf("Complete(%q) = %q, but that is not 17 digits", first, id)
		}
		if len(id) != 18 || id[:17] != first || !mod112(id) || Validate(id) != nil {
			t.Fatalf("Complete(%q) = %q, which is not the valid number", first, id)
		}
		// Every other check character is refused as the wrong one.
		for _, c := range []byte(checkChars) {
			if other := first + string(c); other != id && !errors.Is(Validate(other), ErrChecksum) {
				t.Fatalf("Validate(%q) = %v, want ErrChecksum (the check digit is %c)", other, Validate(other), id[17])
			}
		}
	})
}
