package kiosk

import (
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/hazgate/hazgate/logs"
)

// The gate's last log lines are a supervisor's to read, not an operator's.
func TestLogsForSupervisors(t *testing.T) {
	ring := logs.NewRing(2, slog.LevelInfo)
	log := slog.New(ring)
	log.Info("first")
	log.Warn("device not answering", "lane", "in-1", "device", "idcard")
	log.Error("mqtt connect failed", "broker", "ssl://park:8883")
	h := newHarnessWith(t, Config{}, harnessOptions{deps: func(d *Deps) { d.Logs = ring }}, "in-1")
	h.addOperator("zhang", RoleSupervisor, supPassword)
	h.addOperator("op", RoleOperator, opPassword)

	if a := h.client().mustLogin("op", opPassword).do("GET", "/api/v1/logs", nil); a.status != 403 {
		t.Fatalf("an operator reads the log: %d %s", a.status, a.body)
	}
	a := h.client().mustLogin("zhang", supPassword).do("GET", "/api/v1/logs", nil)
	var got struct {
		Reported bool        `json:"reported"`
		Lines    []logs.Line `json:"lines"`
	}
	if err := json.Unmarshal(a.body, &got); err != nil || a.status != 200 {
		t.Fatalf("logs = %d %s (%v)", a.status, a.body, err)
	}
	if !got.Reported || len(got.Lines) != 2 || got.Lines[0].Level != "WARN" || got.Lines[1].Text != `msg="mqtt connect failed" broker=ssl://park:8883` {
		t.Fatalf("logs = %+v", got)
	}
	if a := h.client().do("GET", "/api/v1/logs", nil); a.status != 401 {
		t.Fatalf("without a session: %d", a.status)
	}
}
