package sim

import (
	"context"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
)

// BenchmarkInspectionTime: the demo's compliant vehicles (entries expected to
// pass, with no operator step), with the default timings, run at real speed
// (-speed 1) through the real drivers: the time from pulling up onto the
// arrival loop to the barrier commanded up, on the wall clock, as a ratio to
// the floor of simulated human and device time before the command (the
// driver's card, the faces, the escort's card and the waybill scan: 21 s by
// default). Also reported: the same on the scenario's clock (the simulator's
// own accounting: exactly the floor), and the wall time against the seed's
// 120 s target and the 15 min manual baseline. Run it with -benchtime 1x:
// each run takes about 35 s of wall time. See docs/benchmarks.md.
func BenchmarkInspectionTime(b *testing.B) {
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
	if len(compliant) == 0 {
		b.Fatal("the demo has no compliant entry")
	}
	first := compliant[0].At
	for i := range compliant {
		compliant[i].At -= first - Offset(time.Second) // the first pulls up after 1 s
	}
	sc.Arrivals = compliant

	var wall, simTime, worst time.Duration
	var floor time.Duration
	n := 0
	for range b.N {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		e, err := New(ctx, sc, Options{Speed: 1})
		if err != nil {
			cancel()
			b.Fatal(err)
		}
		t := e.timings
		floor = t.DriverCard.D() + t.Face.D() + t.EscortCard.D() + t.Face.D() + t.Waybill.D()
		rep, err := e.Run(ctx)
		if err != nil {
			e.Close()
			cancel()
			b.Fatal(err)
		}
		if rep.Failed > 0 {
			b.Fatalf("%d of the demo's compliant vehicles did not pass", rep.Failed)
		}
		tr := e.Transits()
		e.Close()
		cancel()
		if len(tr) != len(compliant) {
			b.Fatalf("%d barrier commands for %d compliant vehicles", len(tr), len(compliant))
		}
		for _, x := range tr {
			wall += x.Wall
			simTime += x.Sim
			worst = max(worst, x.Wall)
			n++
		}
	}
	mean := wall / time.Duration(n)
	b.ReportMetric(float64(n)/float64(b.N), "vehicles/run")
	b.ReportMetric(floor.Seconds(), "floor_s")
	b.ReportMetric(mean.Seconds(), "inspection_s")
	b.ReportMetric(float64(mean)/float64(floor), "wall/floor")
	b.ReportMetric(float64((mean-floor).Microseconds())/1000, "over_floor_ms")
	b.ReportMetric(float64(worst)/float64(floor), "worst_wall/floor")
	b.ReportMetric(float64(simTime/time.Duration(n))/float64(floor), "sim/floor")
	b.ReportMetric(float64(mean)/float64(120*time.Second), "wall/120s_target")
	b.ReportMetric(float64(mean)/float64(15*time.Minute), "wall/15min_manual")
}
