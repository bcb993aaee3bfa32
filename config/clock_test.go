package config

import (
	"strings"
	"testing"
	"time"
)

func TestClockSection(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	for _, tc := range []struct {
		name    string
		yaml    string
		want    string    // substring of the error; "" = valid
		trusted time.Time // when valid
		sync    string
		jump    time.Duration
	}{
		{name: "defaults", yaml: "", sync: "kernel", jump: 2 * time.Minute},
		{name: "a date is the start of its day in the park's zone", yaml: "clock: {trusted_after: 2026-01-01}\n",
			trusted: time.Date(2026, 1, 1, 0, 0, 0, 0, cst), sync: "kernel", jump: 2 * time.Minute},
		{name: "a timestamp is that instant", yaml: "clock: {trusted_after: '2026-01-01T00:00:00Z', max_backward_jump: 5m}\n",
			trusted: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), sync: "kernel", jump: 5 * time.Minute},
		{name: "sync none with a floor", yaml: "clock: {sync: none, trusted_after: 2026-06-01}\n",
			trusted: time.Date(2026, 6, 1, 0, 0, 0, 0, cst), sync: "none", jump: 2 * time.Minute},
		{name: "jump alarm off", yaml: "clock: {max_backward_jump: 0s}\n", sync: "kernel"},
		{name: "sync none needs a floor", yaml: "clock: {sync: none}\n", want: "clock.trusted_after: missing"},
		{name: "unknown sync", yaml: "clock: {sync: ntp}\n", want: `cfg.yaml:11: clock.sync: "ntp" is not kernel or none`},
		{name: "bad date", yaml: "clock: {trusted_after: next year}\n", want: `clock.trusted_after: "next year" is not a date`},
		{name: "negative jump", yaml: "clock: {max_backward_jump: -1m}\n", want: "clock.max_backward_jump: -1m0s is negative"},
		{name: "zero check interval", yaml: "clock: {check_every: 0s}\n", want: "clock.check_every: 0s: must be more than 0"},
		{name: "unknown key", yaml: "clock: {synced: false}\n", want: "clock.synced: unknown key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(minimal+tc.yaml), "cfg.yaml")
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Clock.TrustedAfterTime(cst)
			if err != nil || !got.Equal(tc.trusted) {
				t.Fatalf("trusted after %v (%v), want %v", got, err, tc.trusted)
			}
			if c.Clock.Sync != tc.sync || c.Clock.MaxBackwardJump.D() != tc.jump {
				t.Fatalf("clock %+v", c.Clock)
			}
		})
	}
}
