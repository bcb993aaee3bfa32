package idcard

import (
	"fmt"
	"strings"
	"unicode/utf16"

	"github.com/hazgate/hazgate/registry"
)

// TextSize is the size of the text block.
const TextSize = 256

// typeOffset is where the card-type character sits in the text block.
const typeOffset = 248

// longTerm is how a card valid for life says so in its valid-until field.
const longTerm = "长期"

// field is one fixed-width UTF-16LE field of the text block.
type field struct {
	off, size int
	key       string
}

// The date fields are parsed rather than copied.
const (
	keyBirth = "birth"
	keyFrom  = "valid_from"
	keyUntil = "valid_until"
)

// str returns the Card's string field for key (nil for the date fields).
func (c *Card) str(key string) *string {
	switch key {
	case "name":
		return &c.Name
	case "english":
		return &c.EnglishName
	case "gender":
		return &c.GenderCode
	case "nation":
		return &c.NationCode
	case "address":
		return &c.Address
	case "id":
		return &c.IDNumber
	case "authority":
		return &c.Authority
	case "pass":
		return &c.PassNumber
	case "issue":
		return &c.IssueCount
	case "nationality":
		return &c.Nationality
	case "version":
		return &c.CardVersion
	case "authcode":
		return &c.AuthorityCode
	case "renewal":
		return &c.RenewalCount
	case "country":
		return &c.CountryCode
	}
	return nil
}

// layouts are the text-block layouts of the protocol notes, by kind. The Y
// layout's English name comes in two parts (52 and 220), joined on decode.
var layouts = map[Kind][]field{
	KindResident: {{0, 30, "name"}, {30, 2, "gender"}, {32, 4, "nation"}, {36, 16, keyBirth},
		{52, 70, "address"}, {122, 36, "id"}, {158, 30, "authority"}, {188, 16, keyFrom}, {204, 16, keyUntil}},
	KindHKMOTW: {{0, 30, "name"}, {30, 2, "gender"}, {36, 16, keyBirth}, {52, 70, "address"},
		{122, 36, "id"}, {158, 30, "authority"}, {188, 16, keyFrom}, {204, 16, keyUntil},
		{220, 18, "pass"}, {238, 4, "issue"}},
	KindForeign2017: {{0, 120, "english"}, {120, 2, "gender"}, {122, 30, "id"}, {152, 6, "nationality"},
		{158, 30, "name"}, {188, 16, keyFrom}, {204, 16, keyUntil}, {220, 16, keyBirth},
		{236, 4, "version"}, {240, 8, "authcode"}},
	KindForeign2023: {{0, 30, "name"}, {30, 2, "gender"}, {32, 4, "renewal"}, {36, 16, keyBirth},
		{52, 70, "english"}, {122, 36, "id"}, {188, 16, keyFrom}, {204, 16, keyUntil},
		{242, 6, "country"}},
}

// yEnglish2 is the second part of a Y card's English name.
const yEnglish2Off, yEnglish2Size = 220, 22

var kindChars = map[rune]Kind{' ': KindResident, 0: KindResident, 'J': KindHKMOTW, 'I': KindForeign2017, 'Y': KindForeign2023}

// DecodeText decodes a 256-byte text block into a card. It fails (class
// ErrCardFault) on an unknown card type or a validity date that is not
// YYYYMMDD (or 长期 for valid-until): a card whose validity cannot be read is
// never passed on as valid for ever.
func DecodeText(b []byte) (Card, error) {
	if len(b) < TextSize {
		return Card{}, fmt.Errorf("%w: text block of %d bytes, want %d", ErrBadCardData, len(b), TextSize)
	}
	t := utf16le(b[typeOffset : typeOffset+2])
	var r rune = 0xFFFD
	if rs := []rune(t); len(rs) == 1 {
		r = rs[0]
	} else if t == "" {
		r = 0
	}
	kind, ok := kindChars[r]
	if !ok {
		return Card{}, fmt.Errorf("%w: unknown card type %q at offset %d", ErrBadCardData, t, typeOffset)
	}
	c := Card{Kind: kind, Text: append([]byte(nil), b[:TextSize]...)}
	var sBirth, sFrom, sUntil string
	for _, fl := range layouts[kind] {
		v := trim(utf16le(b[fl.off : fl.off+fl.size]))
		switch fl.key {
		case keyBirth:
			sBirth = v
		case keyFrom:
			sFrom = v
		case keyUntil:
			sUntil = v
		default:
			*c.str(fl.key) = v
		}
	}
	if kind == KindForeign2023 {
		c.EnglishName = trim(utf16le(b[52:122]) + utf16le(b[yEnglish2Off:yEnglish2Off+yEnglish2Size]))
	}
	if c.Name == "" {
		c.Name = c.EnglishName
	}
	c.Gender = GenderName(c.GenderCode)
	c.Nation = NationName(c.NationCode)
	var err error
	if c.ValidFrom, err = parseDate("valid from", sFrom); err != nil {
		return Card{}, err
	}
	if sUntil == longTerm {
		c.LongTerm = true
	} else if c.ValidUntil, err = parseDate("valid until", sUntil); err != nil {
		return Card{}, err
	}
	// A birth date that does not parse is kept as nothing: it judges nothing.
	c.Birth, _ = parseDate("birth", sBirth)
	c.checkIDNumber()
	return c, nil
}

// parseDate reads YYYYMMDD.
func parseDate(what, s string) (registry.Validity, error) {
	if len(s) != 8 {
		return registry.Validity{}, fmt.Errorf("%w: %s %q is not YYYYMMDD", ErrBadCardData, what, s)
	}
	v, err := registry.ParseValidity(s)
	if err != nil || v.IsZero() {
		return registry.Validity{}, fmt.Errorf("%w: %s %q is not YYYYMMDD", ErrBadCardData, what, s)
	}
	return v, nil
}

// utf16le decodes little-endian UTF-16.
func utf16le(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	return string(utf16.Decode(u))
}

// trim drops the space (and NUL) padding.
func trim(s string) string { return strings.Trim(s, " \x00") }

// TextBlock encodes c into a 256-byte text block in its kind's layout,
// padded with spaces: what a card of that kind holds. Readers' fakes and the
// simulator use it; it fails when a field does not fit.
func (c Card) TextBlock() ([]byte, error) {
	kind := c.Kind
	if kind == "" {
		kind = KindResident
	}
	if _, ok := layouts[kind]; !ok {
		return nil, fmt.Errorf("idcard: unknown card kind %q", kind)
	}
	b := make([]byte, TextSize)
	for i := 0; i < TextSize; i += 2 {
		b[i] = ' '
	}
	put := func(off, size int, s string) error {
		u := utf16.Encode([]rune(s))
		if 2*len(u) > size {
			return fmt.Errorf("idcard: %q does not fit %d bytes at offset %d", s, size, off)
		}
		for i, x := range u {
			b[off+2*i], b[off+2*i+1] = byte(x), byte(x>>8)
		}
		return nil
	}
	date := func(v registry.Validity) string {
		if v.IsZero() {
			return ""
		}
		return strings.ReplaceAll(v.String()[:10], "-", "")
	}
	english2 := ""
	for _, fl := range layouts[kind] {
		var v string
		switch fl.key {
		case keyBirth:
			v = date(c.Birth)
		case keyFrom:
			v = date(c.ValidFrom)
		case keyUntil:
			v = date(c.ValidUntil)
			if c.LongTerm {
				v = longTerm
			}
		default:
			v = *c.str(fl.key)
		}
		if kind == KindForeign2023 && fl.off == 52 && len(utf16.Encode([]rune(v)))*2 > fl.size {
			rs := []rune(v)
			v, english2 = string(rs[:fl.size/2]), string(rs[fl.size/2:])
		}
		if err := put(fl.off, fl.size, v); err != nil {
			return nil, err
		}
	}
	if err := put(yEnglish2Off, yEnglish2Size, english2); kind == KindForeign2023 && err != nil {
		return nil, err
	}
	if kind != KindResident {
		_ = put(typeOffset, 2, string(kindRune(kind)))
	}
	return b, nil
}

func kindRune(k Kind) rune {
	for r, kk := range kindChars {
		if kk == k && r != 0 && r != ' ' {
			return r
		}
	}
	return ' '
}
