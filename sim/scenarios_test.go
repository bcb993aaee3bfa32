package sim

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/lane"
)

// The scenarios in testdata/ hold the gate to the rules of docs/design.md
// ("The check rules") and docs/checks.md: one file per rule and per reason
// code, on both sides of each boundary, plus multi-vehicle and multi-lane
// runs.

// runScenario loads and runs one scenario file as fast as possible on a
// temporary database.
func runScenario(t *testing.T, path string, opt Options) *Report {
	t.Helper()
	sc, err := Load(path)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return runParsed(t, sc, opt)
}

func runParsed(t *testing.T, sc *Scenario, opt Options) *Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := Run(ctx, sc, opt)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if len(rep.Inspections) != len(sc.Arrivals) {
		t.Fatalf("report has %d entries for %d arrivals", len(rep.Inspections), len(sc.Arrivals))
	}
	return rep
}

// runEngine runs sc to its end on an engine the test can look into
// afterwards (closed when the test ends), and reports any arrival that did
// not go as expected.
func runEngine(t *testing.T, sc *Scenario, opt Options) (*Engine, *Report) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e, err := New(ctx, sc, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	rep, err := e.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	reportFailures(t, rep)
	return e, rep
}

// describeEntry prints what the gate decided for one arrival and what was
// expected: lane, plate, verdict, failed checks, every non-passing check's
// reasons.
func describeEntry(i int, e ReportEntry) string {
	var b strings.Builder
	plate := e.Plate
	if e.Trailer != "" {
		plate += "/" + e.Trailer
	}
	if plate == "" {
		plate = "(no plate)"
	}
	fmt.Fprintf(&b, "arrivals[%d] lane %s %s: verdict %s, failed %v", i, e.Lane, plate, e.Verdict, e.Failed)
	if x := e.Expect; x != nil && (x.Waybill != "" || x.WaybillSource != "") {
		fmt.Fprintf(&b, ", waybill %q %s", e.Waybill, e.WaybillSource)
	}
	fmt.Fprintf(&b, "; expected %s", expectString(e.Expect))
	for _, id := range checks.IDs {
		c, ok := e.Checks[id]
		if !ok || c.Result == checks.Pass {
			continue
		}
		fmt.Fprintf(&b, "\n\t\t%s: %s %v", id, c.Result, c.Reasons)
	}
	return b.String()
}

func reportFailures(t *testing.T, rep *Report) {
	t.Helper()
	if rep.Failed == 0 {
		return
	}
	var lines []string
	for i, e := range rep.Inspections {
		if !e.OK {
			lines = append(lines, "\t"+describeEntry(i, e))
		}
	}
	for _, k := range rep.MissingAlarms {
		lines = append(lines, "\talarm "+k+" never raised during the run (raised: "+strings.Join(rep.Alarms, ", ")+")")
	}
	for _, p := range rep.Preclearances {
		if !p.OK {
			lines = append(lines, fmt.Sprintf("\tpre-clearance %s (%s): verdict %s, failed %v, reasons %v: %s", p.Appointment, p.Plate, p.Verdict, p.Failed, p.Reasons, p.Why))
		}
	}
	t.Errorf("%s: %d passed, %d failed:\n%s", rep.Scenario, rep.Passed, rep.Failed, strings.Join(lines, "\n"))
}

func TestScenarios(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 30 {
		t.Fatalf("want at least 30 scenarios in testdata, found %d", len(files))
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			t.Parallel()
			sc, err := Load(f)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			for i, a := range sc.Arrivals {
				if a.Expect == nil {
					t.Errorf("arrivals[%d] has no expect", i)
				} else if a.Expect.Verdict != checks.VerdictPass && a.Expect.Failed == nil {
					t.Errorf("arrivals[%d] expects %s without the exact failed set", i, a.Expect.Verdict)
				}
			}
			reportFailures(t, runParsed(t, sc, Options{}))
		})
	}
}

// outcomeKey is what must not depend on the speed: each arrival's verdict,
// failed checks and every check's result and reasons.
func outcomeKey(rep *Report) []string {
	var out []string
	for i, e := range rep.Inspections {
		s := fmt.Sprintf("%d %s %s %s failed=%v crossed=%t alarms=%v decided_after=%v", i, e.Lane, e.Plate, e.Verdict, e.Failed, e.Crossed, e.Alarms, e.DecidedAfter)
		for _, id := range checks.IDs {
			if c, ok := e.Checks[id]; ok {
				s += fmt.Sprintf(" %s=%s%v", id, c.Result, c.Reasons)
			}
		}
		out = append(out, s)
	}
	return out
}

// The serial devices and the HTTP services run in real time: their faults
// and recoveries must not make the outcome depend on the speed either.
func TestScenarioVerdictsIndependentOfSpeed(t *testing.T) {
	for _, f := range []string{"testdata/44-queue-one-lane.yaml", "testdata/45-two-lanes-parallel.yaml", "testdata/83-same-crew-again.yaml", "testdata/84-faults-on-two-lanes.yaml", "testdata/91-weighbridge-queue.yaml"} {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			fast := runScenario(t, f, Options{Speed: 0})
			paced := runScenario(t, f, Options{Speed: 2000})
			reportFailures(t, fast)
			reportFailures(t, paced)
			a, b := outcomeKey(fast), outcomeKey(paced)
			if !slices.Equal(a, b) {
				t.Errorf("outcomes differ between speed 0 and speed 2000:\nspeed 0:\n\t%s\nspeed 2000:\n\t%s",
					strings.Join(a, "\n\t"), strings.Join(b, "\n\t"))
			}
			if len(a) < 3 {
				t.Errorf("want a multi-vehicle scenario, got %d entries", len(a))
			}
		})
	}
}

func TestScenarioDemoPasses(t *testing.T) {
	sc, err := Parse(DemoYAML, "demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e, rep := runEngine(t, sc, Options{})
	if rep.Passed != len(sc.Arrivals) {
		t.Errorf("demo: %d of %d arrivals as expected", rep.Passed, len(sc.Arrivals))
	}
	// The run ends with the lanes at rest: no barrier left closing behind
	// the last vehicle (the kiosk and the retained status show the end).
	for name, l := range e.lanes {
		if b := l.gl.Runner.Snapshot().BarrierReported; b != lane.BarrierClosed {
			t.Errorf("lane %s: barrier %q at the end of the demo, want closed", name, b)
		}
	}
}
