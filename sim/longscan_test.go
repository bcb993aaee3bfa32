package sim

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/device/idcard"
)

// compliant01 is testdata/01 (one compliant tractor and trailer) with
// replacements made, each of which must have been found.
func compliant01(t *testing.T, name string, replace ...string) *Scenario {
	t.Helper()
	data, err := os.ReadFile("testdata/01-compliant-tractor-trailer.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for i := 0; i < len(replace); i += 2 {
		if !strings.Contains(text, replace[i]) {
			t.Fatalf("testdata/01 no longer has %q, which this test replaces", replace[i])
		}
		text = strings.Replace(text, replace[i], replace[i+1], 1)
	}
	sc, err := Parse([]byte(text), name)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// A scan far longer than a line the scanner's driver accepts (and than the
// pty's buffer) is refused by the driver; the run goes on, and the vehicle,
// whose waybill never arrived (and is not found from its plate), goes to review at its deadline. The report
// (its table and its JSON) names the rejection and why, in plain words.
func TestOverlongScanEndsInReview(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a whole scenario")
	}
	huge := strings.Repeat("W", 100000)
	sc := compliant01(t, "huge-waybill.yaml",
		`waybill: "YD3302002603150101"`, `waybill: "`+huge+`"`,
		// Its registry waybill cancelled: none is found from the plate, so
		// the lane waits for the scan.
		`{number: "YD3302002603150101", `, `{number: "YD3302002603150101", status: cancelled, `,
		"expect: {verdict: pass}", "expect: {verdict: review}")
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
	const said = "in-1/scanner rejected a scan: line too long (more than 4096 bytes)"
	if !strings.Contains(progress.String(), said) {
		t.Fatalf("progress does not say %q:\n%s", said, progress.String())
	}
	got := rep.Inspections[0].Rejected
	if len(got) != 1 || got[0].Device != "in-1/scanner" || got[0].What != "scan" || got[0].Reason != "line too long (more than 4096 bytes)" {
		t.Fatalf("rejected = %+v", got)
	}
	if got[0].At <= 5 || got[0].At >= rep.Inspections[0].At+rep.Inspections[0].DecidedAfter {
		t.Fatalf("rejected at %vs: not between the arrival and the verdict (%+v)", got[0].At, rep.Inspections[0])
	}
	var table strings.Builder
	rep.WriteTable(&table)
	if !strings.Contains(table.String(), "rejected: "+said) {
		t.Fatalf("the verdict table does not say %q:\n%s", said, table.String())
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var js struct {
		Inspections []struct {
			Rejected []map[string]any `json:"rejected"`
		} `json:"inspections"`
	}
	if err := json.Unmarshal(b, &js); err != nil {
		t.Fatal(err)
	}
	if r := js.Inspections[0].Rejected; len(r) != 1 || r[0]["device"] != "in-1/scanner" || r[0]["what"] != "scan" || r[0]["reason"] != "line too long (more than 4096 bytes)" {
		t.Fatalf("JSON report's rejected = %v", r)
	}
}

// A plate read that the gate's plate endpoint refuses (longer than a plate
// can be) never reaches the lane: the vehicle, whose plate was never read,
// goes to review, and the report says why.
func TestRefusedPlateIsInTheReport(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a whole scenario")
	}
	sc := compliant01(t, "long-plate.yaml",
		"plate: 浙B20001\n", "plate: 浙B20001XXXXXXXXXXXXX\n",
		"expect: {verdict: pass}", "expect: {verdict: review}")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := Run(ctx, sc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Inspections) != 1 || rep.Inspections[0].Verdict != checks.VerdictReview {
		t.Fatalf("report %+v", rep.Inspections)
	}
	got := rep.Inspections[0].Rejected
	if len(got) != 1 || got[0].Device != "in-1/plate_camera" || got[0].What != "plate" || !strings.Contains(got[0].Reason, "at most 16 characters") || strings.Contains(got[0].Reason, "plate: ") {
		t.Fatalf("rejected = %+v", got)
	}
	if s := got[0].String(); s != "in-1/plate_camera had its read refused: "+got[0].Reason {
		t.Fatalf("String() = %q", s)
	}
}

// A card the escort's reader cannot read (status 41, the card moved away,
// on every read) is presented again, up to maxCardTries times; each failure
// is in the report, and the vehicle, its escort unread, goes to review.
func TestUnreadableCardIsInTheReport(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a whole scenario")
	}
	sc := compliant01(t, "unreadable-card.yaml", "expect: {verdict: pass}", "expect: {verdict: review}")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e, err := New(ctx, sc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e.lanes["in-1"].readers[1].sim.Fake().SetStatus(idcard.CmdRead, 0x41)
	rep, err := e.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Inspections) != 1 || rep.Inspections[0].Verdict != checks.VerdictReview {
		t.Fatalf("report %+v", rep.Inspections)
	}
	got := rep.Inspections[0].Rejected
	if len(got) != maxCardTries {
		t.Fatalf("rejected = %+v, want %d cards", got, maxCardTries)
	}
	for _, r := range got {
		if r.Device != "in-1/escort_idcard" || r.What != "card" || !strings.HasPrefix(r.Reason, "read failed (card moved away)") {
			t.Fatalf("rejected = %+v", got)
		}
	}
	if s := got[0].String(); !strings.HasPrefix(s, "in-1/escort_idcard could not read a card: read failed (card moved away)") {
		t.Fatalf("String() = %q", s)
	}
}
