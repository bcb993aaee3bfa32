package checks

import (
	"strings"
	"testing"
)

// TestFillIsTheReplacer: fill gives what strings.NewReplacer gave for every
// message and subject, and for odd messages and details (braces, the
// placeholders themselves in what is put in).
func TestFillIsTheReplacer(t *testing.T) {
	msgs := []string{"", "{", "{s", "{d", "{}", "{{s}}", "{s}{d}{s}", "a{x}b{d", "{d}{", "无{s}有{d}。", "}{s}{"}
	for _, m := range messages {
		msgs = append(msgs, m[0], m[1])
	}
	subs := []string{"", "{d}", "{s}", "牵引车"}
	for _, s := range subjects {
		subs = append(subs, s[0], s[1])
	}
	for _, m := range msgs {
		for _, s := range subs {
			for _, d := range []string{"", "2.1", "{s}", "{d}{", "UN1077"} {
				want := strings.NewReplacer("{s}", s, "{d}", d).Replace(m)
				if got := fill(m, s, d); got != want {
					t.Errorf("fill(%q, %q, %q) = %q, want %q", m, s, d, got, want)
				}
			}
		}
	}
}

func BenchmarkNewReason(b *testing.B) {
	for b.Loop() {
		NewReason(ReasonClockUnsynced, "driver", "2.1")
	}
}
