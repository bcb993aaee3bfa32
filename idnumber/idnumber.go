// Package idnumber checks Chinese resident ID numbers (GB 11643) with their
// ISO 7064 MOD 11-2 check digit.
//
// It imports nothing of ours; anything may import it (registry, checks and
// device/idcard do).
package idnumber

import "errors"

// ErrChecksum is returned when the 18th character is not the check digit of
// the first 17.
var ErrChecksum = errors.New("idnumber: wrong check digit")

// ErrFormat is returned when the number is not 17 digits and a check character.
var ErrFormat = errors.New("idnumber: not 17 digits and a check character")

var weights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const checkChars = "10X98765432"

// CheckDigit returns the check character for the first 17 digits of s.
func CheckDigit(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, ErrFormat
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := first17[i]
		if c < '0' || c > '9' {
			return 0, ErrFormat
		}
		sum += int(c-'0') * weights[i]
	}
	return checkChars[sum%11], nil
}

// Validate reports whether s is an 18-character ID number whose last
// character (digit or upper- or lower-case X) is its check digit.
func Validate(s string) error {
	if len(s) != 18 {
		return ErrFormat
	}
	want, err := CheckDigit(s[:17])
	if err != nil {
		return err
	}
	got := s[17]
	if got == 'x' {
		got = 'X'
	}
	if got != want {
		if got != 'X' && (got < '0' || got > '9') {
			return ErrFormat
		}
		return ErrChecksum
	}
	return nil
}

// Complete appends the check digit to 17 digits; it is how tests and the
// simulator make synthetic numbers that belong to nobody.
func Complete(first17 string) (string, error) {
	c, err := CheckDigit(first17)
	if err != nil {
		return "", err
	}
	return first17 + string(c), nil
}

// IsForeignPermanent2017 reports whether s has the form of a 2017
// foreigner's permanent residence card number: three letters (the country
// code) and twelve digits. Those numbers carry no check digit.
func IsForeignPermanent2017(s string) bool {
	if len(s) != 15 {
		return false
	}
	for i := 0; i < 15; i++ {
		c := s[i]
		if i < 3 && (c < 'A' || c > 'Z') || i >= 3 && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// Check validates an ID number of any card the gate reads: the 18-character
// resident and permit numbers by their check digit, the 15-character 2017
// foreigner's numbers by their form.
func Check(s string) error {
	if IsForeignPermanent2017(s) {
		return nil
	}
	return Validate(s)
}
