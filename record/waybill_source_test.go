package record

import (
	"context"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
)

// The inspection payload says how the waybill was found, and names the
// plate's waybill only when a scan named another.
func TestInspectionPayloadWaybillSource(t *testing.T) {
	for _, c := range []struct {
		source, byPlate string
		wantByPlate     any
	}{
		{checks.WaybillScanned, "", nil},
		{checks.WaybillByPlate, "<same>", nil},
		{checks.WaybillScanned, "YD3302002603159999", "YD3302002603159999"},
	} {
		g, fleet, now := newGate(t)
		ev := evidenceFor(fleet[0], now)
		ev.WaybillSource, ev.WaybillByPlate = c.source, c.byPlate
		if c.byPlate == "<same>" {
			ev.WaybillByPlate = ev.Waybill
		}
		if _, _, err := g.Decide(context.Background(), "in-1", ev, now.Add(16*time.Second)); err != nil {
			t.Fatal(err)
		}
		m := pending(t, g)[0]
		if m["waybill_source"] != c.source || m["waybill_by_plate"] != c.wantByPlate {
			t.Errorf("%+v: payload waybill_source %v waybill_by_plate %v", c, m["waybill_source"], m["waybill_by_plate"])
		}
	}
}
