package config

import (
	"strings"
	"testing"
	"time"
)

func TestPreclearanceSection(t *testing.T) {
	c, err := Parse([]byte(minimal), "minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p := c.Preclearance; p.Off || p.Lead.D() != 2*time.Hour || p.Recheck.D() != 15*time.Minute {
		t.Fatalf("defaults: %+v", p)
	}
	for _, tc := range []struct {
		name, yaml, err string
	}{
		{"set", "preclearance:\n  lead: 4h\n  recheck: 5m\n", ""},
		{"off", "preclearance:\n  off: true\n", ""},
		{"negative lead", "preclearance:\n  lead: -1h\n", "preclearance.lead"},
		{"recheck too often", "preclearance:\n  recheck: 10s\n", "preclearance.recheck"},
		{"unknown key", "preclearance:\n  every: 1m\n", "every"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(minimal+tc.yaml), "p.yaml")
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tc.name == "set" && (c.Preclearance.Lead.D() != 4*time.Hour || c.Preclearance.Recheck.D() != 5*time.Minute) {
					t.Fatalf("%+v", c.Preclearance)
				}
				if tc.name == "off" && !c.Preclearance.Off {
					t.Fatal("not off")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err %v, want one naming %s", err, tc.err)
			}
		})
	}
}
