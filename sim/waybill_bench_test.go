package sim

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/config"
)

// BenchmarkInspectionTimeWaybillLookup: the inspection time of the demo's
// compliant vehicles with the waybill lookup on (the simulated waybill
// service answering after 2 s on the scenario's clock, well within the
// human floor; the registry's copy older than waybill.max_age, so every
// waybill is asked for) beside the same run with the lookup off. In both,
// the waybill is scanned 2 s after arrival (timings.waybill_at), while the
// people present their cards: the floor is the cards and faces, 16 s. At
// real speed (-speed 1), on the wall clock, from pulling up to the barrier
// commanded up. What the lookup adds is the difference of the two
// over_floor_ms: about nothing, since the answer is in before the last
// face. See
// docs/benchmarks.md. Run it with -benchtime 1x: each sub-run takes about
// 30 s of wall time.
func BenchmarkInspectionTimeWaybillLookup(b *testing.B) {
	var floor time.Duration
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("lookup=%t", on), func(b *testing.B) {
			sc, err := Parse(DemoYAML, "demo.yaml")
			if err != nil {
				b.Fatal(err)
			}
			var compliant []Arrival
			for _, a := range sc.Arrivals {
				if !IsExit(a.Lane) && a.Operator == nil && a.Expect != nil && a.Expect.Verdict == checks.VerdictPass {
					compliant = append(compliant, a)
				}
			}
			first := compliant[0].At
			for i := range compliant {
				compliant[i].At -= first - Offset(time.Second)
			}
			sc.Arrivals = compliant
			at := Offset(2 * time.Second)
			sc.Timings.WaybillAt = &at
			floor = sc.Timings.Floor()
			if on {
				maxAge := config.Duration(time.Second)
				sc.WaybillService = &WaybillService{Delay: Offset(2 * time.Second), MaxAge: &maxAge}
			}
			var wall time.Duration
			n := 0
			for range b.N {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
				e, err := New(ctx, sc, Options{Speed: 1})
				if err != nil {
					cancel()
					b.Fatal(err)
				}
				rep, err := e.Run(ctx)
				if err != nil {
					e.Close()
					cancel()
					b.Fatal(err)
				}
				if rep.Failed > 0 {
					b.Fatalf("%d of the demo's compliant vehicles did not pass", rep.Failed)
				}
				if on && e.waybills.svc.Asked() != len(compliant) {
					b.Fatalf("the waybill service was asked %d times for %d vehicles", e.waybills.svc.Asked(), len(compliant))
				}
				for _, x := range e.Transits() {
					wall += x.Wall
					n++
				}
				e.Close()
				cancel()
			}
			if n != len(compliant)*b.N {
				b.Fatalf("%d barrier commands for %d compliant vehicles", n, len(compliant)*b.N)
			}
			mean := wall / time.Duration(n)
			b.ReportMetric(floor.Seconds(), "floor_s")
			b.ReportMetric(mean.Seconds(), "inspection_s")
			b.ReportMetric(float64(mean)/float64(floor), "wall/floor")
			b.ReportMetric(float64((mean-floor).Microseconds())/1000, "over_floor_ms")
		})
	}
}
