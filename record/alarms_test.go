package record

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
)

// The inspection event lists the failed and the unknown checks at top
// level and the thresholds they were judged with.
func TestInspectionEventListsFailedUnknownAndThresholds(t *testing.T) {
	g, fleet, now := newGate(t)
	ev := evidenceFor(fleet[1], now)
	low := 0.2
	ev.Driver.Face = &low // identity fails
	ev.Escort = nil       // personnel_qualification cannot be judged without the escort...
	_, out, err := g.Decide(context.Background(), "in-1", ev, now.Add(21*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var wantFailed, wantUnknown []any
	for _, c := range out.Checks {
		switch c.Result {
		case checks.Fail:
			wantFailed = append(wantFailed, c.ID)
		case checks.Unknown:
			wantUnknown = append(wantUnknown, c.ID)
		}
	}
	m := pending(t, g)[0]
	failed, _ := m["failed"].([]any)
	unknown, _ := m["unknown"].([]any)
	if len(wantFailed) == 0 || !slices.Equal(failed, wantFailed) || !slices.Equal(unknown, wantUnknown) {
		t.Fatalf("failed %v unknown %v, want %v %v", m["failed"], m["unknown"], wantFailed, wantUnknown)
	}
	th, _ := m["thresholds"].(map[string]any)
	if th["face"] != 0.8 || th["registry_max_age_s"] != float64(24*3600) {
		t.Fatalf("thresholds %v", m["thresholds"])
	}
}

// An alarm's detail is its kind's text, never the error its raiser gives
// (that goes to the log), with a stable code and zh/en text.
func TestAlarmDetailIsPlainWords(t *testing.T) {
	chain := fmt.Errorf("store: commit inspection: %w", errors.New("database is locked (5) (SQLITE_BUSY)"))
	for _, tt := range []struct {
		kind, detail, code, en string
	}{
		{"decide_failed", "inspection of 浙B1 could not be recorded: " + chain.Error(), "decide_failed", "The inspection could not be recorded: the vehicle is held"},
		{"record_failed", "passage record failed: " + chain.Error(), "record_failed", "An operator's decision, a passage or an exit could not be recorded"},
		{"barrier_command_failed", "barrier up command failed: gpio: write: EIO", "barrier_command_failed", "The barrier did not take a command and may be open"},
		{"no_passage", "barrier opened for 浙B1 but nothing crossed within 30s", "no_passage", "The barrier opened but nothing crossed in time: the vehicle is held"},
		{"outbox_full", "outbox full: 10 unsent messages", "outbox_full", "The outbox is full: telemetry is being dropped; inspections, passages and alarms are kept"},
		{"something_new", "x: y: z", "something_new", "Alarm: something_new"},
	} {
		t.Run(tt.kind, func(t *testing.T) {
			g, _, now := newGate(t)
			if err := g.RaiseAlarm(context.Background(), "in-1", tt.kind, tt.detail, now); err != nil {
				t.Fatal(err)
			}
			m := pending(t, g)[0]
			text, _ := m["text"].(map[string]any)
			if m["code"] != tt.code || m["detail"] != tt.en || text["en"] != tt.en || text["zh"] == "" {
				t.Fatalf("code %v detail %q text %v", m["code"], m["detail"], text)
			}
			if strings.Contains(fmt.Sprint(m), "store:") {
				t.Fatalf("an error chain in the payload: %v", m)
			}
		})
	}
}

// An alarm that can end is raised once with its id and cleared with it;
// raising it again while it is on sends nothing.
func TestConditionAlarm(t *testing.T) {
	g, _, now := newGate(t)
	ctx := context.Background()
	c := Condition{Key: AlarmRegistryStale, Kind: AlarmRegistryStale, Code: "registry_empty", Text: Text{ZH: "无名录", EN: "No registry"}}
	id, raised, err := g.Raise(ctx, c, now)
	if err != nil || !raised {
		t.Fatal(raised, err)
	}
	if again, raised, _ := g.Raise(ctx, c, now.Add(time.Minute)); raised || again != id {
		t.Fatalf("raised again: %v %s", raised, again)
	}
	if ok, err := g.Clear(ctx, c.Key, Text{ZH: "已同步", EN: "Synced"}, now.Add(2*time.Minute)); !ok || err != nil {
		t.Fatal(ok, err)
	}
	msgs := pending(t, g)
	if len(msgs) != 2 || msgs[0]["state"] != StateRaised || msgs[0]["alarm_id"] != id || msgs[0]["id"] != id ||
		msgs[1]["state"] != StateCleared || msgs[1]["alarm_id"] != id || msgs[1]["code"] != "registry_empty" || msgs[1]["detail"] != "Synced" {
		t.Fatalf("messages %v", msgs)
	}
}

// A registry refusal keeps the uplink's detail, which names the message and
// the fields the park's office must fix.
func TestRegistryRefusedKeepsItsFields(t *testing.T) {
	g, _, now := newGate(t)
	const detail = "registry delta 3->4 refused: upsert.vehicles[0].plate: \"=1+1\" begins like a spreadsheet formula"
	if err := g.RaiseAlarm(context.Background(), "", "registry_refused", detail, now); err != nil {
		t.Fatal(err)
	}
	m := pending(t, g)[0]
	text, _ := m["text"].(map[string]any)
	if m["code"] != "registry_refused" || m["detail"] != detail || !strings.Contains(fmt.Sprint(text["en"]), "upsert.vehicles[0].plate") ||
		!strings.Contains(fmt.Sprint(text["zh"]), "upsert.vehicles[0].plate") {
		t.Fatalf("code %v detail %q text %v", m["code"], m["detail"], text)
	}
}

// A command alarm names its command whatever its detail's words start
// with: a failure in words may begin with a count.
func TestCommandAlarmNamesTheCommand(t *testing.T) {
	for _, tt := range []struct {
		kind, detail, code, en string
	}{
		{"command_failed", "cmd/lockdown: 3 lanes could not be closed", "command_failed", "Command lockdown from the park was accepted but could not be carried out"},
		{"command_failed", "cmd/release: barrier fault", "command_failed", "Command release from the park was accepted but could not be carried out"},
		{"command_refused", "cmd/release: bad_signature: the signature does not verify", "bad_signature", "Command release from the park refused (bad_signature)"},
		{"command_refused", "cmd/release: 2 fields missing", "other", "Command release from the park refused (other)"},
	} {
		t.Run(tt.detail, func(t *testing.T) {
			g, _, now := newGate(t)
			if err := g.RaiseAlarm(context.Background(), "", tt.kind, tt.detail, now); err != nil {
				t.Fatal(err)
			}
			m := pending(t, g)[0]
			text, _ := m["text"].(map[string]any)
			if m["code"] != tt.code || text["en"] != tt.en || text["zh"] == "" {
				t.Fatalf("code %v text %v", m["code"], text)
			}
		})
	}
}
