package sim

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/prompt"
	"github.com/hazgate/hazgate/registry"
)

// BenchmarkInspectionTime: the two flows of issue 16 side by side, in one
// run, interleaved (each iteration runs both, each first in turn): the demo's
// compliant vehicles (entries expected to pass, with no operator step) with
// the default timings, at real speed (-speed 1) through the real drivers,
//
//   - scan: as in the demo, where the plate names two waybills valid now,
//     so the lane asks for the scan; the floor of simulated human and
//     device time before the barrier command is the driver's card, the
//     faces, the escort's card and the waybill scan: 21 s by default;
//   - plate: the same vehicles with their own waybill the only one valid
//     now naming the plate, and no scan: the waybill is found from the
//     plate and the decision comes with the last face; the floor is the
//     cards and faces: 16 s.
//
// Each is the time from pulling up onto the arrival loop to the barrier
// commanded up, on the wall clock, against its floor; plate/scan is the
// ratio of the two inspection times. The benchmark fails if the plate flow
// asked for the scan (its display showed the scan prompt) or recorded its
// waybill other than by_plate, or the scan flow other than scanned: the
// figures are of the flows they name. Also reported: each on the
// scenario's clock (exactly the floor), and the scan flow against the
// seed's 120 s target and the 15 min manual baseline. Run it with
// -benchtime 1x: each iteration takes about 65 s of wall time. See
// docs/benchmarks.md.
func BenchmarkInspectionTime(b *testing.B) {
	scan, plate := inspectionFlow(b, false), inspectionFlow(b, true)
	for range b.N {
		// In turns first, across -count runs too: neither flow always
		// has the warmer machine.
		inspectionTurn++
		flows := []*flow{scan, plate}
		if inspectionTurn%2 == 0 {
			flows = []*flow{plate, scan}
		}
		for _, f := range flows {
			f.run(b)
		}
	}
	for _, f := range []*flow{scan, plate} {
		b.ReportMetric(f.floor.Seconds(), f.name+"_floor_s")
		b.ReportMetric(f.mean().Seconds(), f.name+"_s")
		b.ReportMetric(float64(f.mean())/float64(f.floor), f.name+"/floor")
		b.ReportMetric(float64((f.mean()-f.floor).Microseconds())/1000, f.name+"_over_floor_ms")
		b.ReportMetric(float64(f.worst)/float64(f.floor), f.name+"_worst/floor")
		b.ReportMetric(float64(f.sim/time.Duration(f.n))/float64(f.floor), f.name+"_sim/floor")
	}
	b.ReportMetric(float64(plate.mean())/float64(scan.mean()), "plate/scan")
	b.ReportMetric(float64(scan.n)/float64(b.N), "vehicles/run")
	b.ReportMetric(float64(scan.mean())/float64(120*time.Second), "scan/120s_target")
	b.ReportMetric(float64(scan.mean())/float64(15*time.Minute), "scan/15min_manual")
}

// inspectionTurn counts BenchmarkInspectionTime's iterations in the
// process, to take the flows in turns first.
var inspectionTurn int

// flow is one of BenchmarkInspectionTime's flows and what its runs took.
type flow struct {
	name      string
	sc        *Scenario
	byPlate   bool
	waybills  map[string]string // the waybill each plate's vehicle must be judged on
	floor     time.Duration
	wall, sim time.Duration
	worst     time.Duration
	n         int
}

// inspectionFlow is the demo's compliant entries, the first pulling up
// after 1 s: as they are (the scan flow), or (byPlate) with each one's
// waybill the only one valid naming its plate and no scan.
func inspectionFlow(b *testing.B, byPlate bool) *flow {
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
	f := &flow{name: "scan", sc: sc, byPlate: byPlate, waybills: map[string]string{}}
	for i := range compliant {
		compliant[i].At -= first - Offset(time.Second)
		if compliant[i].Waybill == "" {
			b.Fatalf("the demo's compliant %s scans no waybill", compliant[i].Plate)
		}
		f.waybills[compliant[i].Plate] = compliant[i].Waybill
	}
	if byPlate {
		f.name = "plate"
		sc.Registry.Waybills = slices.DeleteFunc(sc.Registry.Waybills, func(w registry.Waybill) bool {
			own, ok := f.waybills[w.Vehicle]
			return ok && w.Number != own
		})
		for i := range compliant {
			compliant[i].Waybill = ""
		}
	}
	sc.Arrivals = compliant
	return f
}

// run plays the flow once at real speed and adds up its vehicles' times.
func (f *flow) run(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	e, err := New(ctx, f.sc, Options{Speed: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	t := e.timings
	f.floor = t.DriverCard.D() + t.Face.D() + t.EscortCard.D() + t.Face.D()
	if !f.byPlate {
		f.floor += t.Waybill.D()
	}
	rep, err := e.Run(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if rep.Failed > 0 {
		b.Fatalf("%s: %d of the demo's compliant vehicles did not pass", f.name, rep.Failed)
	}
	want := checks.WaybillScanned
	if f.byPlate {
		want = checks.WaybillByPlate
	}
	for _, r := range rep.Inspections {
		if r.WaybillSource != want || r.Waybill != f.waybills[r.Plate] {
			b.Fatalf("%s: %s was judged on waybill %q found %q, want %q %s", f.name, r.Plate, r.Waybill, r.WaybillSource, f.waybills[r.Plate], want)
		}
		if !f.byPlate {
			continue
		}
		ask := e.words[prompt.ScanWaybill].ZH
		for _, line := range append(rep.Lanes[r.Lane].Displayed, rep.Lanes[r.Lane].Said...) {
			if strings.HasPrefix(line, ask) {
				b.Fatalf("%s: lane %s asked for the scan (%q)", f.name, r.Lane, line)
			}
		}
	}
	tr := e.Transits()
	if len(tr) != len(rep.Inspections) || len(tr) == 0 {
		b.Fatalf("%s: %d barrier commands for %d vehicles", f.name, len(tr), len(rep.Inspections))
	}
	for _, x := range tr {
		f.wall += x.Wall
		f.sim += x.Sim
		f.worst = max(f.worst, x.Wall)
		f.n++
	}
}

func (f *flow) mean() time.Duration { return f.wall / time.Duration(f.n) }
