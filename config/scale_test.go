package config

import (
	"strings"
	"testing"
	"time"
)

const withScale = minimal + `    scale: {port: /dev/hazgate-scale-in1}
`

func TestScale(t *testing.T) {
	c, err := Parse([]byte(minimal), "cfg.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Lanes[0].Scale != nil || c.Params().WeightTolerance != 0.05 {
		t.Fatalf("scale %+v, tolerance %v; want no scale and 5 %%", c.Lanes[0].Scale, c.Params().WeightTolerance)
	}
	c, err = Parse([]byte(withScale+"checks: {weight_tolerance: 0.08}\n"), "cfg.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := c.Lanes[0].Scale
	if s == nil || s.Port != "/dev/hazgate-scale-in1" || s.Baud != 9600 || s.Unit != "kg" || s.StableFor.D() != 2*time.Second || s.BandKg != 20 || s.KgPerUnit() != 1 || s.Timeout.D() != 5*time.Second {
		t.Fatalf("scale %+v; want the defaults", s)
	}
	if c.Params().WeightTolerance != 0.08 {
		t.Fatalf("tolerance %v", c.Params().WeightTolerance)
	}
	c, err = Parse([]byte(strings.Replace(withScale, "{port: /dev/hazgate-scale-in1}", "{port: /dev/ttyUSB5, baud: 4800, unit: t, stable_for: 3s, band_kg: 50}", 1)), "cfg.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Lanes[0].Scale; s.Baud != 4800 || s.KgPerUnit() != 1000 || s.StableFor.D() != 3*time.Second || s.BandKg != 50 {
		t.Fatalf("scale %+v", s)
	}
}

func TestScaleErrors(t *testing.T) {
	exit := strings.Replace(withScale, "direction: in", "direction: out", 1)
	for _, c := range []struct{ name, yaml, want string }{
		{"no port", strings.Replace(withScale, "{port: /dev/hazgate-scale-in1}", "{baud: 9600}", 1), "cfg.yaml:11: lanes[0].scale.port: missing"},
		{"port of the scanner", strings.Replace(withScale, "/dev/hazgate-scale-in1", "/dev/ttyUSB1", 1), `lanes[0].scale.port: "/dev/ttyUSB1" is already lanes[0].scanner.port`},
		{"bad baud", strings.Replace(withScale, "scale-in1}\n", "scale-in1, baud: 1234}\n", 1), "lanes[0].scale.baud: 1234 is not a standard baud rate"},
		{"bad unit", strings.Replace(withScale, "scale-in1}\n", "scale-in1, unit: lb}\n", 1), `lanes[0].scale.unit: "lb" is not kg or t`},
		{"negative stable time", strings.Replace(withScale, "scale-in1}\n", "scale-in1, stable_for: -1s}\n", 1), "lanes[0].scale.stable_for: -1s is not in 0..1m"},
		{"negative timeout", strings.Replace(withScale, "scale-in1}\n", "scale-in1, timeout: -2s}\n", 1), "lanes[0].scale.timeout: -2s is negative"},
		{"negative band", strings.Replace(withScale, "scale-in1}\n", "scale-in1, band_kg: -5}\n", 1), "lanes[0].scale.band_kg: -5 is not a weight"},
		{"unknown key", strings.Replace(withScale, "scale-in1}\n", "scale-in1, units: kg}\n", 1), "lanes[0].scale.units: unknown key"},
		{"on an exit lane", exit, "lanes[0].scale: an exit lane judges nothing"},
		{"tolerance 1", withScale + "checks: {weight_tolerance: 1}\n", "cfg.yaml:12: checks.weight_tolerance: 1 is not in [0, 1)"},
		{"tolerance negative", minimal + "checks: {weight_tolerance: -0.1}\n", "checks.weight_tolerance: -0.1 is not in [0, 1)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.yaml), "cfg.yaml")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v\nwant it to contain %q", err, c.want)
			}
		})
	}
}
