package kiosk

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
)

// The export's headers are in the language asked for (Chinese by default),
// and it carries each case's outcome and the operator who decided it.
func TestExportLanguageAndOutcome(t *testing.T) {
	if len(csvKeys) != len(csvColumns) {
		t.Fatalf("%d column keys, %d headers", len(csvKeys), len(csvColumns))
	}
	h := newHarness(t, Config{}, "in-1", "in-2")
	h.addOperator("sup", RoleSupervisor, supPassword)
	sup := h.client().mustLogin("sup", supPassword)
	h.arrive("in-1", reviewVehicle)
	h.arrive("in-2", rejectVehicle)
	released, refused := h.runner("in-1").Snapshot().InspectionID, h.runner("in-2").Snapshot().InspectionID
	for lane, action := range map[string]string{"in-1": "release", "in-2": "refuse"} {
		id := h.runner(lane).Snapshot().InspectionID
		if a := sup.do(http.MethodPost, "/api/v1/lanes/"+lane+"/"+action, map[string]string{"inspection_id": id, "reason": "核验"}); a.status != http.StatusAccepted {
			t.Fatalf("%s on %s: %d %s", action, lane, a.status, a.body)
		}
		h.send(lane)
	}
	read := func(query string) [][]string {
		t.Helper()
		a := sup.do(http.MethodGet, "/api/v1/export?date=2026-03-15"+query, nil)
		if a.status != http.StatusOK {
			t.Fatalf("export%s = %d %s", query, a.status, a.body)
		}
		rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(a.body), "\uFEFF"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	for _, tt := range []struct{ query, first, outcome string }{
		{"", "检查编号", "处理结果"},
		{"&lang=zh", "检查编号", "处理结果"},
		{"&lang=en", "Inspection ID", "Outcome"},
	} {
		rows := read(tt.query)
		if len(rows) != 3 || rows[0][0] != tt.first || rows[0][17] != tt.outcome {
			t.Fatalf("export%s header %q", tt.query, rows[0])
		}
		got := map[string][2]string{}
		for _, r := range rows[1:] {
			got[r[0]] = [2]string{r[17], r[18]}
		}
		if got[released] != [2]string{"released", "sup"} || got[refused] != [2]string{"refused", "sup"} {
			t.Fatalf("export%s outcomes %v", tt.query, got)
		}
	}
	if a := sup.do(http.MethodGet, "/api/v1/export?date=2026-03-15&lang=fr", nil); a.status != http.StatusBadRequest {
		t.Fatalf("lang=fr: %d, want 400", a.status)
	}
}
