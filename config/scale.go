package config

import (
	"time"

	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/strictyaml"
)

// Scale is a lane's weighbridge: its indicator's serial port in
// continuous-output mode (device/scale, docs/devices.md "Weighbridge").
type Scale struct {
	Port string `yaml:"port"`
	Baud int    `yaml:"baud"` // default 9600
	// Unit is what the indicator displays: kg (the default) or t.
	Unit string `yaml:"unit"`
	// StableFor is how long the weight must hold within BandKg to be
	// taken (defaults 2s and 20 kg).
	StableFor Duration `yaml:"stable_for"`
	BandKg    float64  `yaml:"band_kg"`
	// Timeout is how long the indicator may send no frame before it is in
	// fault (default 5s): in continuous output it sends several a second.
	Timeout Duration `yaml:"timeout"`
}

// Scale defaults.
const (
	DefaultScaleBaud      = 9600
	DefaultScaleStableFor = 2 * time.Second
	DefaultScaleBandKg    = 20
	DefaultScaleTimeout   = 5 * time.Second
)

// KgPerUnit converts the indicator's displayed weight to kg.
func (s *Scale) KgPerUnit() float64 {
	if s != nil && s.Unit == "t" {
		return 1000
	}
	return 1
}

// serial is the scale's port as the other serial devices' (nil: no scale),
// so that one port is never given to two devices.
func (s *Scale) serial() *Serial {
	if s == nil {
		return nil
	}
	return &Serial{Port: s.Port, Baud: s.Baud}
}

func (s *Scale) applyDefaults() {
	if s == nil {
		return
	}
	if s.Baud == 0 {
		s.Baud = DefaultScaleBaud
	}
	if s.Unit == "" {
		s.Unit = "kg"
	}
	if s.StableFor == 0 {
		s.StableFor = Duration(DefaultScaleStableFor)
	}
	if s.BandKg == 0 {
		s.BandKg = DefaultScaleBandKg
	}
	if s.Timeout == 0 {
		s.Timeout = Duration(DefaultScaleTimeout)
	}
}

// validate checks the scale of a lane in direction dir, under field f.
// The port's clash with another device's is checked with the others'.
func (s *Scale) validate(bad func(string, string, ...any), f string, dir lane.Direction) {
	if s == nil {
		return
	}
	if dir == lane.DirectionOut {
		bad(f, "an exit lane judges nothing, so it weighs nothing: leave scale out")
	}
	if s.Port == "" {
		bad(f+".port", "missing: the indicator's serial port (or leave scale out)")
	}
	if s.Baud != 0 && !validBaud(s.Baud) {
		bad(f+".baud", "%d is not a standard baud rate", s.Baud)
	}
	switch s.Unit {
	case "", "kg", "t":
	default:
		bad(f+".unit", "%q is not kg or t (what the indicator displays)", s.Unit)
	}
	if s.StableFor < 0 || s.StableFor > Duration(time.Minute) {
		bad(f+".stable_for", "%v is not in 0..1m (0 for the default, 2s)", s.StableFor.D())
	}
	if s.Timeout < 0 {
		bad(f+".timeout", "%v is negative (leave it out or 0 for the default, 5s)", s.Timeout.D())
	}
	if !(s.BandKg >= 0) || !strictyaml.IsFinite(s.BandKg) {
		bad(f+".band_kg", "%v is not a weight in kg (0 for the default, 20)", s.BandKg)
	}
}
