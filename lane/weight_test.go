package lane_test

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/hazgate/hazgate/lane"
)

// events play one second apart from t0 (play): the vehicle arrives at t0.
func weight(kg float64, sinceSecond int) lane.WeightStable {
	return lane.WeightStable{Kg: kg, Since: t0.Add(time.Duration(sinceSecond) * time.Second)}
}

func TestWeighbridge(t *testing.T) {
	scaleCfg := lane.Config{Name: "in-1", Weighbridge: true}
	cfg := lane.Config{Name: "in-1"}
	decideOf := func(acts []lane.Action) *lane.Decide {
		for _, a := range acts {
			if d, ok := a.(lane.Decide); ok {
				return &d
			}
		}
		return nil
	}
	t.Run("without a weighbridge nothing changes", func(t *testing.T) {
		s, acts := play(t, cfg, then(deciding[:len(deciding)-1], weight(40000, 0), waybill)...)
		d := decideOf(acts)
		if d == nil || d.Evidence.GrossKg != nil || d.Evidence.Weighbridge || slices.Contains(s.Missing(), lane.MissingWeight) {
			t.Fatalf("decide %+v; want one without a weight", d)
		}
	})
	t.Run("the lane waits for the weight", func(t *testing.T) {
		s, acts := play(t, scaleCfg, deciding...)
		if s.Phase != lane.PhaseCollecting || !slices.Equal(s.Missing(), []string{lane.MissingWeight}) || decideOf(acts) != nil {
			t.Fatalf("phase %s, missing %v; want collecting, waiting for the weight", s.Phase, s.Missing())
		}
		s, acts = step(t, s, weight(40000, 1), t0.Add(time.Minute))
		d := decideOf(acts)
		if s.Phase != lane.PhaseDeciding || d == nil || d.Evidence.GrossKg == nil || *d.Evidence.GrossKg != 40000 || !d.Evidence.Weighbridge {
			t.Fatalf("phase %s, decide %+v; want deciding with 40000 kg", s.Phase, d)
		}
		if _, ok := d.Evidence.Steps["weight"]; !ok {
			t.Fatalf("steps %v; want the weight's", d.Evidence.Steps)
		}
	})
	t.Run("weighed first, then the rest", func(t *testing.T) {
		events := append(then(deciding[:1], weight(40000, 0), weight(41000, 1)), deciding[1:]...)
		s, acts := play(t, scaleCfg, events...)
		d := decideOf(acts)
		if d == nil || *d.Evidence.GrossKg != 40000 {
			t.Fatalf("phase %s, decide %+v; want the first weight, 40000 kg", s.Phase, d)
		}
	})
	for _, c := range []struct {
		name string
		w    lane.WeightStable
	}{
		{"steady since before the arrival", weight(40000, -1)},
		{"zero", weight(0, 1)},
		{"negative", weight(-20, 1)},
		{"not a number", lane.WeightStable{Kg: math.NaN(), Since: t0.Add(time.Second)}},
		{"infinite", lane.WeightStable{Kg: math.Inf(1), Since: t0.Add(time.Second)}},
	} {
		t.Run("ignores a weight "+c.name, func(t *testing.T) {
			s, _ := play(t, scaleCfg, then(deciding[:1], c.w)...)
			if s.Evidence.GrossKg != nil {
				t.Fatalf("took %v", *s.Evidence.GrossKg)
			}
		})
	}
	t.Run("no weight by the deadline decides without it", func(t *testing.T) {
		s, acts := play(t, scaleCfg, then(deciding, lane.DeadlinePassed{Gen: 1})...)
		d := decideOf(acts)
		if s.Phase != lane.PhaseDeciding || d == nil || d.Evidence.GrossKg != nil || !d.Evidence.Weighbridge || !d.Evidence.DeadlineExceeded {
			t.Fatalf("phase %s, decide %+v; want a deadline decision on a weighbridge lane without a weight", s.Phase, d)
		}
	})
	t.Run("ignored while idle and on an exit lane", func(t *testing.T) {
		s, _ := play(t, scaleCfg, weight(40000, -5))
		if s.Evidence.GrossKg != nil {
			t.Fatal("idle lane took a weight")
		}
		s, _ = play(t, lane.Config{Name: "out-1", Exit: true, Weighbridge: true}, lane.VehiclePresent{}, weight(40000, 0))
		if s.Evidence.GrossKg != nil || s.Evidence.Weighbridge || slices.Contains(s.Missing(), lane.MissingWeight) {
			t.Fatal("exit lane took a weight")
		}
	})
}
