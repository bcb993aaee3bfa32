package sim

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/store"
)

// The weighbridge scenarios decide for the reasons they are about: the
// waybill_consistency reasons and the verdict's, and the weight recorded
// with the inspection.
func TestWeighbridgeScenarios(t *testing.T) {
	for _, c := range []struct {
		file     string
		result   checks.Result
		reasons  []string // waybill_consistency's
		deadline bool     // decided at the deadline
		gross    float64  // recorded; 0: none
	}{
		{"85-weighbridge-compliant", checks.Pass, []string{}, false, 40200},
		{"86-weighbridge-overweight", checks.Fail, []string{checks.ReasonOverweight, checks.ReasonWeightMismatch}, false, 50500},
		{"87-weighbridge-mismatch", checks.Unknown, []string{checks.ReasonWeightMismatch}, false, 36000},
		{"88-weighbridge-noise", checks.Pass, []string{}, false, 40200},
		{"89-weighbridge-unstable", checks.Unknown, []string{checks.ReasonWeightUnavailable}, true, 0},
		{"90-weighbridge-unplugged", checks.Unknown, []string{checks.ReasonWeightUnavailable}, true, 0},
	} {
		t.Run(c.file, func(t *testing.T) {
			t.Parallel()
			sc, err := Load("testdata/" + c.file + ".yaml")
			if err != nil {
				t.Fatal(err)
			}
			e, rep := runEngine(t, sc, Options{})
			got := rep.Inspections[0]
			wc := got.Checks[checks.WaybillConsistency]
			if wc.Result != c.result || !slices.Equal(wc.Reasons, c.reasons) {
				t.Fatalf("waybill_consistency %s %v; want %s %v", wc.Result, wc.Reasons, c.result, c.reasons)
			}
			if (got.DecidedAfter >= 120) != c.deadline {
				t.Fatalf("decided after %vs; deadline %t", got.DecidedAfter, c.deadline)
			}
			ins := onlyInspection(t, e)
			switch g := ins.Evidence.GrossKg; {
			case !ins.Evidence.Weighbridge:
				t.Fatal("the inspection does not say the lane weighs")
			case c.gross == 0 && g != nil:
				t.Fatalf("recorded %v kg; want none", *g)
			case c.gross != 0 && (g == nil || *g != c.gross):
				t.Fatalf("recorded %v; want %v kg", g, c.gross)
			}
		})
	}
}

// A scenario without gross_kg has no weighbridge: its inspections say
// nothing of weight (no change at all for a gate without a scale).
func TestNoWeighbridgeNoWeight(t *testing.T) {
	sc, err := Load("testdata/01-compliant-tractor-trailer.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e, _ := runEngine(t, sc, Options{})
	ins := onlyInspection(t, e)
	if ins.Evidence.Weighbridge || ins.Evidence.GrossKg != nil || e.gate.Lane("in-1").Config.Scale != nil {
		t.Fatalf("evidence %+v on a lane without a scale", ins.Evidence)
	}
}

// Scenario files refuse a weight an indicator cannot show, or on an exit lane.
func TestGrossKgRefused(t *testing.T) {
	raw, err := os.ReadFile("testdata/85-weighbridge-compliant.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, from, to, want string }{
		{"negative", "gross_kg: 40200", "gross_kg: -1", "arrivals[0].gross_kg: -1 is not a weight"},
		{"seven digits", "gross_kg: 40200", "gross_kg: 1000000", "arrivals[0].gross_kg: 1e+06 is not a weight"},
		{"unknown scale fault", "name: weighed compliant tanker", "name: x\nfaults: [{at: 0s, device: in-1/scale, kind: melt}]", `faults[0].kind: "melt" is not a fault of in-1/scale`},
		{"tolerance", "name: weighed compliant tanker", "name: x\nsettings: {weight_tolerance: 2}", "settings.weight_tolerance: 2 is not in [0, 1)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := strings.Replace(string(raw), c.from, c.to, 1)
			_, err := Parse([]byte(data), "s.yaml")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v; want %q", err, c.want)
			}
		})
	}
}

// onlyInspection is the one inspection the run recorded.
func onlyInspection(t *testing.T, e *Engine) store.Inspection {
	t.Helper()
	ins, err := e.Store().ListInspections(context.Background(), store.Filter{})
	if err != nil || len(ins) != 1 {
		t.Fatalf("%d inspections, %v; want 1", len(ins), err)
	}
	return ins[0]
}
