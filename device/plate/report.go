package plate

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/registry"
)

// Report is what one native push said: a plate read, a heartbeat, or
// another event of the camera's (it is alive, nothing more).
type Report struct {
	Kind ReportKind
	// Read is the plate read (Kind ReportRead). Its Plate is "" when the
	// camera saw a vehicle but read no plate: nothing is delivered.
	Read lane.PlateRead
	// VehicleType is the camera's word for the vehicle (logged).
	VehicleType string
}

// ReportKind is what a push was.
type ReportKind int

// The kinds of report.
const (
	ReportOther ReportKind = iota
	ReportRead
	ReportHeartbeat
)

// Limits on what a camera sends.
const (
	// MaxNativeBody bounds a native push, pictures included.
	MaxNativeBody = 8 << 20
	// maxPicture bounds one picture.
	maxPicture = 4 << 20
	// maxParts bounds the parts of a multipart push.
	maxParts = 8
)

var errNoRead = errors.New("no plate read")

// plateText checks a plate as the camera wrote it: "" (and the words
// cameras use for none) is no plate; a leading colour character (蓝苏A8HK52,
// as some cameras are set to write) is taken off and returned as the
// colour.
func plateText(s string) (plate, color string, err error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "", "unknown", "无车牌", "车牌", "无牌车", "none":
		return "", "", errNoRead
	}
	if !utf8.ValidString(s) {
		return "", "", errors.New("the plate is not UTF-8 text")
	}
	if r, n := utf8.DecodeRuneInString(s); utf8.RuneCountInString(s) >= 8 {
		if c, ok := registry.PlateColor(string(r)); ok {
			s, color = s[n:], c
		}
	}
	if utf8.RuneCountInString(s) > 16 {
		return "", "", fmt.Errorf("plate %q is longer than 16 characters", s)
	}
	if msg := registry.PlateProblem(s); msg != "" {
		return "", "", fmt.Errorf("plate %q: %s", s, msg)
	}
	return s, color, nil
}

// readOf is a read of plate; its colour is the camera's colour word, or
// the colour written before the plate when the word names none.
func readOf(plate, prefixColor, word string) lane.PlateRead {
	r := lane.PlateRead{Plate: plate, Confidence: 1, Color: plateColor(word)}
	if r.Color == "" {
		r.Color = prefixColor
	}
	return r
}

// plateColor is the colour a camera's word names; "" when none (unknown,
// other, a word of no GA 36 colour).
func plateColor(word string) string {
	c, _ := registry.PlateColor(word)
	return c
}

// percent reads a 0..100 confidence as 0..1.
func percent(v float64) (float64, error) {
	if !(v >= 0 && v <= 100) {
		return 0, fmt.Errorf("confidence %v is not in 0..100", v)
	}
	return v / 100, nil
}

// isJPEG says whether b starts as a JPEG does (SOI and a marker).
func isJPEG(b []byte) bool { return len(b) >= 3 && bytes.Equal(b[:3], []byte{0xff, 0xd8, 0xff}) }

// pictures is nil when there are none.
func pictures(plate, scene []byte) *checks.PlatePictures {
	if plate == nil && scene == nil {
		return nil
	}
	return &checks.PlatePictures{Plate: plate, Scene: scene}
}
