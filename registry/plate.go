package registry

import (
	"strings"
	"unicode"
)

// NormalizePlate folds a plate number for comparison: full-width letters and
// digits become ASCII, spaces and the middle dot that some plates print are
// dropped, and letters are upper-cased. "浙Ｂ·１２３４５" and "浙b12345" are the
// same plate.
func NormalizePlate(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII block
			r -= 0xFEE0
		}
		switch {
		case unicode.IsSpace(r), r == '·', r == '•', r == '・', r == '-':
			continue
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}
