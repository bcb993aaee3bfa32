package sim

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/record"
)

// The waybill service and appointment scenarios, beyond their verdicts: the
// reason codes, where the judged waybill came from, and what the
// inspection event carries (docs/uplink.md).
func TestWaybillAndAppointmentScenarios(t *testing.T) {
	tests := []struct {
		file    string
		check   string
		reason  string // among check's reasons ("": check passes)
		source  string // the event's waybill_lookup.source ("-": no lookup)
		decided float64
		appt    *record.AppointmentEvent
		dest    string
	}{
		// Scanned 21 s after arrival, answered 2 s later: decided at 23 s.
		{file: "waybill-only-in-service.yaml", check: checks.WaybillConsistency, source: checks.WaybillFromService, decided: 23},
		// Scanned 2 s after arrival, answered 5 s later: decided with the
		// last face, 16 s after arrival.
		{file: "waybill-lookup-during-cards.yaml", check: checks.WaybillConsistency, source: checks.WaybillFromService, decided: 16},
		// The registry holds the one waybill valid now for the plate: found
		// by plate and looked up with the plate read, decided with the last
		// face, 16 s after arrival (issue 16).
		{file: "waybill-cancelled.yaml", check: checks.WaybillConsistency, reason: checks.ReasonWaybillCancelled, source: checks.WaybillFromService, decided: 16},
		{file: "waybill-service-down-registry-copy.yaml", check: checks.WaybillConsistency, source: checks.WaybillFromRegistry, decided: 16},
		{file: "waybill-service-down-no-copy.yaml", check: checks.WaybillConsistency, reason: checks.ReasonWaybillUnavailable, source: "", decided: 21},
		{file: "waybill-service-slow-no-copy.yaml", check: checks.WaybillConsistency, reason: checks.ReasonWaybillUnavailable, source: "", decided: 24},
		{file: "appointment-required-none.yaml", check: checks.ParkRules, reason: checks.ReasonNoAppointment, source: "-", decided: 16,
			appt: &record.AppointmentEvent{Mode: checks.AppointmentsRequired}},
		{file: "appointment-optional-none.yaml", check: checks.ParkRules, source: "-", decided: 16,
			appt: &record.AppointmentEvent{Mode: checks.AppointmentsOptional}},
		{file: "appointment-required-held.yaml", check: checks.ParkRules, source: "-", decided: 16,
			appt: &record.AppointmentEvent{Mode: checks.AppointmentsRequired, Found: true, ID: "AP-0002", Company: "测试化工二厂",
				From: "2026-03-15T08:00:00+08:00", Until: "2026-03-15T12:00:00+08:00", Status: "approved"},
			dest: "测试化工二厂"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			sc, err := Load(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			e, rep := runEngine(t, sc, Options{})
			in := rep.Inspections[0]
			c := in.Checks[tt.check]
			if tt.reason == "" && c.Result != checks.Pass {
				t.Fatalf("%s = %s %v, want pass", tt.check, c.Result, c.Reasons)
			}
			if tt.reason != "" && !slices.Contains(c.Reasons, tt.reason) {
				t.Fatalf("%s = %s %v, want %s", tt.check, c.Result, c.Reasons, tt.reason)
			}
			if in.DecidedAfter != tt.decided {
				t.Errorf("decided %v s after arrival, want %v", in.DecidedAfter, tt.decided)
			}
			rows, err := e.Store().PendingOutbox(context.Background(), 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			var ev *record.InspectionEvent
			for _, r := range rows {
				if r.Topic == "events/inspection" {
					ev = new(record.InspectionEvent)
					if err := json.Unmarshal(r.Payload, ev); err != nil {
						t.Fatal(err)
					}
				}
			}
			if ev == nil {
				t.Fatal("no inspection event")
			}
			switch {
			case tt.source == "-" && ev.WaybillLookup != nil:
				t.Errorf("a waybill lookup without a service: %+v", ev.WaybillLookup)
			case tt.source != "-" && (ev.WaybillLookup == nil || ev.WaybillLookup.Source != tt.source):
				t.Errorf("waybill_lookup %+v, want source %q", ev.WaybillLookup, tt.source)
			case tt.reason == checks.ReasonWaybillUnavailable && !ev.WaybillLookup.Unavailable:
				t.Errorf("waybill_lookup %+v, want unavailable", ev.WaybillLookup)
			}
			switch {
			case tt.appt == nil && ev.Appointment != nil:
				t.Errorf("appointment %+v with appointments off", ev.Appointment)
			case tt.appt != nil && (ev.Appointment == nil || *ev.Appointment != *tt.appt):
				t.Errorf("appointment %+v, want %+v", ev.Appointment, tt.appt)
			}
			if ev.Destination != tt.dest {
				t.Errorf("destination %q, want %q", ev.Destination, tt.dest)
			}
		})
	}
}

// Mistakes in `waybill_service:` and settings.appointments are refused,
// naming the field and its line.
func TestWaybillServiceRefused(t *testing.T) {
	base, err := os.ReadFile(filepath.Join("testdata", "waybill-only-in-service.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, from, to, want string }{
		{"cancel of an unknown waybill", "waybill_service:\n", "waybill_service:\n  cancel: [YD-NONE]\n", "waybill_service.cancel[0]"},
		{"delay equal to the timeout", "  delay: 2s\n", "  delay: 3s\n", "waybill_service.delay"},
		{"zero timeout", "  delay: 2s\n", "  delay: 2s\n  timeout: 0s\n", "waybill_service.timeout"},
		{"a service waybill with a bad status", `goods: [{un: UN1077, name: 丙烯, class: "2.1", quantity_kg: 24000}]}` + "\narrivals", `goods: [{un: UN1077, name: 丙烯, class: "2.1", quantity_kg: 24000}], status: void}` + "\narrivals", "waybill_service.waybills[0].status"},
		{"an unknown appointments setting", "waybill_service:\n", "settings:\n  appointments: sometimes\nwaybill_service:\n", "settings.appointments"},
		{"an unknown key", "  delay: 2s\n", "  delay: 2s\n  latency: 1s\n", "latency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(string(base), tt.from, tt.to, 1)
			if src == string(base) {
				t.Fatalf("%q not in the base scenario", tt.from)
			}
			_, err := Parse([]byte(src), "bad.yaml")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "bad.yaml:") {
				t.Fatalf("Parse = %v, want an error naming %s and its line", err, tt.want)
			}
		})
	}
}
