package config

import (
	"strings"
	"testing"
	"time"
)

func TestRetention(t *testing.T) {
	tests := []struct {
		name       string
		yaml       string
		records    Age
		faces      Age
		deprecated bool
		minFree    ByteSize
	}{
		{"defaults", minimal, Age{Months: 24}, Age{D: 7 * 24 * time.Hour}, false, 200 << 20},
		{"the old key sets the faces alone", minimal + "retention: 72h\n", Age{Months: 24}, Age{D: 72 * time.Hour}, true, 200 << 20},
		{"both", minimal + "retention: {records: 36mo, faces: 14d}\n", Age{Months: 36}, Age{D: 14 * 24 * time.Hour}, false, 200 << 20},
		{"one of them", minimal + "retention:\n  faces: 1d12h\n", Age{Months: 24}, Age{D: 36 * time.Hour}, false, 200 << 20},
		{"disk", minimal + "disk: {min_free: 1GiB}\n", Age{Months: 24}, Age{D: 7 * 24 * time.Hour}, false, 1 << 30},
		{"disk in MB", minimal + "disk: {min_free: 500MB}\n", Age{Months: 24}, Age{D: 7 * 24 * time.Hour}, false, 500e6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml), "cfg.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if c.Retention.Records != tt.records || c.Retention.Faces != tt.faces || c.Retention.Deprecated != tt.deprecated || c.Disk.MinFree != tt.minFree {
				t.Fatalf("got %+v %+v", c.Retention, c.Disk)
			}
		})
	}
}

func TestRetentionRefused(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unknown key", minimal + "retention: {records: 24mo, photos: 7d}\n", `cfg.yaml:11`},
		{"bad period", minimal + "retention: {records: two years}\n", `"two years" is not a period such as 24mo, 7d or 168h`},
		{"zero", minimal + "retention: {faces: 0d}\n", `cfg.yaml:11: retention.faces: 0s: must be more than 0`},
		{"records shorter than faces", minimal + "retention: {records: 3d, faces: 7d}\n", `retention.records: 3d is shorter than retention.faces (7d)`},
		{"old key negative", minimal + "retention: -1h\n", `retention: -1h0m0s: must be more than 0`},
		{"bad size", minimal + "disk: {min_free: lots}\n", `"lots" is not a size such as 200MiB`},
		{"size overflow", minimal + "disk: {min_free: 999999999999999GiB}\n", `"999999999999999GiB" is too large`},
		{"zero size", minimal + "disk: {min_free: 0}\n", `disk.min_free: 0: must be more than 0`},
		{"unknown disk key", minimal + "disk: {max_used: 1GiB}\n", `disk.max_used: unknown key`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), "cfg.yaml")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestAge(t *testing.T) {
	now := time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		in     string
		before time.Time
		out    string
	}{
		{"24mo", time.Date(2024, 3, 31, 12, 0, 0, 0, time.UTC), "24mo"},
		{"7d", time.Date(2026, 3, 24, 12, 0, 0, 0, time.UTC), "7d"},
		{"168h", time.Date(2026, 3, 24, 12, 0, 0, 0, time.UTC), "7d"},
		{"1mo1d", time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC), "1mo1d"},
		{"90m", time.Date(2026, 3, 31, 10, 30, 0, 0, time.UTC), "1h30m0s"},
	} {
		a, err := ParseAge(tt.in)
		if err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		if got := a.Before(now); !got.Equal(tt.before) || a.String() != tt.out {
			t.Errorf("%s: Before = %v, String = %q; want %v, %q", tt.in, got, a.String(), tt.before, tt.out)
		}
	}
}
