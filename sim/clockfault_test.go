package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/record"
	"github.com/hazgate/hazgate/store"
)

// A scenario with the clock unsynced gives review with clock_unsynced on
// every date check; once synced, the same tanker passes; the alarm was
// raised and cleared.
func TestClockUnsyncedScenario(t *testing.T) {
	sc, err := Load("testdata/95-clock-unsynced.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e, rep := runEngine(t, sc, Options{})
	first, second := rep.Inspections[0], rep.Inspections[1]
	if first.Verdict != checks.VerdictReview || len(first.Failed) != 0 {
		t.Fatalf("first: %s", describeEntry(0, first))
	}
	for _, id := range []string{checks.VehicleDocuments, checks.PersonnelQualification, checks.InspectionValidity, checks.WaybillConsistency, checks.Identity} {
		c := first.Checks[id]
		if c.Result != checks.Unknown || !slices.Equal(c.Reasons, []string{checks.ReasonClockUnsynced}) {
			t.Errorf("first: %s %s %v, want unknown [clock_unsynced]", id, c.Result, c.Reasons)
		}
	}
	if c := first.Checks[checks.TankMedia]; c.Result != checks.Pass {
		t.Errorf("first: tank_media %s, want pass (it reads no date)", c.Result)
	}
	if second.Verdict != checks.VerdictPass {
		t.Fatalf("second: %s", describeEntry(1, second))
	}
	ctx := context.Background()
	rows, err := e.Store().PendingOutbox(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var states, synced []string
	for _, r := range rows {
		if r.Kind == store.KindInspection {
			var ev struct {
				ClockSynced *bool `json:"clock_synced"`
			}
			if err := json.Unmarshal(r.Payload, &ev); err != nil || ev.ClockSynced == nil {
				t.Fatalf("inspection event without clock_synced: %s", r.Payload)
			}
			synced = append(synced, fmt.Sprint(*ev.ClockSynced))
		}
		if r.Kind == store.KindAlarm && strings.Contains(string(r.Payload), `"kind":"`+record.AlarmClockUnsynced+`"`) {
			switch {
			case strings.Contains(string(r.Payload), `"state":"raised"`):
				states = append(states, "raised")
			case strings.Contains(string(r.Payload), `"state":"cleared"`):
				states = append(states, "cleared")
			}
		}
	}
	if !slices.Equal(synced, []string{"false", "true"}) {
		t.Fatalf("inspection events' clock_synced %v, want false then true", synced)
	}
	if !slices.Equal(states, []string{"raised", "cleared"}) {
		t.Fatalf("clock_unsynced alarm %v, want raised then cleared", states)
	}
	if s := e.Gate().ClockMonitor.State(); !s.Synced || s.Source != clock.SourceSim {
		t.Fatalf("clock at the end %+v", s)
	}
}

// Without a clock fault the simulated clock is synchronised.
func TestSimClockSyncedByDefault(t *testing.T) {
	sc, err := Load("testdata/01-compliant-tractor-trailer.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e, rep := runEngine(t, sc, Options{})
	if rep.Inspections[0].Verdict != checks.VerdictPass || !e.Gate().ClockMonitor.Synced() {
		t.Fatalf("verdict %s, synced %v", rep.Inspections[0].Verdict, e.Gate().ClockMonitor.Synced())
	}
	active, err := e.Store().ActiveAlarms(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range active {
		if a.Kind == record.AlarmClockUnsynced {
			t.Fatal("clock_unsynced raised on a synchronised simulated clock")
		}
	}
}

func TestClockFaultValidation(t *testing.T) {
	raw, err := os.ReadFile("testdata/95-clock-unsynced.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ fault, want string }{
		{"{at: 0s, device: clock, kind: late}", `faults[0].kind: "late" is not a fault of clock (unsynced)`},
		{"{at: 0s, device: in-1/clock, kind: unsynced}", `faults[0].device: "in-1/clock" is not`},
		{"{device: clock, kind: unsynced}", "faults[0].at: missing"},
	} {
		data := strings.Replace(string(raw), "{at: 0s, device: clock, kind: unsynced, for: 2m}", tc.fault, 1)
		_, err := Parse([]byte(data), "clock.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.fault, err, tc.want)
		}
	}
}
