package scale_test

import (
	"testing"
	"time"

	"github.com/hazgate/hazgate/device/scale"
)

func TestStabilizer(t *testing.T) {
	t0 := time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	type reading struct {
		ms int
		kg float64
	}
	for _, c := range []struct {
		name     string
		readings []reading
		want     []scale.Stable // in order
	}{
		{"steady for 2 s, then again", []reading{{0, 30000}, {500, 30010}, {1000, 30000}, {1500, 30020}, {2000, 30000}, {3000, 30000}, {4000, 30010}},
			[]scale.Stable{{Kg: 30000, Since: at(0), At: at(2000)}, {Kg: 30010, Since: at(2000), At: at(4000)}}},
		{"wanders out of the band", []reading{{0, 30000}, {500, 30000}, {1000, 30100}, {1500, 30000}, {2000, 30000}, {2500, 30000}}, nil},
		{"settles after driving on", []reading{{0, 5000}, {500, 22000}, {1000, 31000}, {1500, 31010}, {3000, 31000}},
			[]scale.Stable{{Kg: 31000, Since: at(1000), At: at(3000)}}},
		{"a pause in the stream restarts", []reading{{0, 30000}, {2500, 30000}, {3000, 30000}}, nil},
		{"not a number restarts", []reading{{0, 30000}, {1000, nan()}, {2000, 30000}, {2500, 30000}}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := scale.Stabilizer{For: 2 * time.Second, Band: 20}
			var got []scale.Stable
			for _, r := range c.readings {
				if st, ok := s.Add(r.kg, at(r.ms)); ok {
					got = append(got, st)
				}
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %+v; want %+v", got, c.want)
			}
			for i := range got {
				if got[i].Kg != c.want[i].Kg || !got[i].Since.Equal(c.want[i].Since) || !got[i].At.Equal(c.want[i].At) {
					t.Fatalf("stable %d is %+v; want %+v", i, got[i], c.want[i])
				}
			}
		})
	}
}

func nan() float64 { z := 0.0; return z / z }
