package sim

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
)

// A scan far longer than a line the scanner's driver accepts (and than the
// pty's buffer) is refused by the driver; the run goes on, and the vehicle,
// whose waybill never arrived, goes to review at its deadline.
func TestOverlongScanEndsInReview(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a whole scenario")
	}
	data, err := os.ReadFile("testdata/01-compliant-tractor-trailer.yaml")
	if err != nil {
		t.Fatal(err)
	}
	huge := strings.Repeat("W", 100000)
	text := strings.Replace(string(data), `waybill: "YD3302002603150101"`, `waybill: "`+huge+`"`, 1)
	text = strings.Replace(text, "expect: {verdict: pass}", "expect: {verdict: review}", 1)
	if !strings.Contains(text, huge) || !strings.Contains(text, "verdict: review") {
		t.Fatal("testdata/01 no longer has the waybill or expectation this test replaces")
	}
	sc, err := Parse([]byte(text), "huge-waybill.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var progress strings.Builder
	rep, err := Run(ctx, sc, Options{Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Inspections) != 1 || rep.Inspections[0].Verdict != checks.VerdictReview {
		t.Fatalf("report %+v", rep.Inspections)
	}
	if !strings.Contains(progress.String(), "rejected a scan") {
		t.Fatalf("progress does not say the scan was rejected:\n%s", progress.String())
	}
}
