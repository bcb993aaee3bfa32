package kiosk

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hazgate/hazgate/health"
	"github.com/hazgate/hazgate/lane"
)

func TestMaskID(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"990001198604120110", "**************0110"},
		{"99000119910722022X", "**************022X"},
		{" 990001198604120110 ", "**************0110"},
		{"12345", "*2345"},
		{"1234", "****"},
		{"", ""},
		{"证件号码一二三四五", "*****二三四五"},
	} {
		if got := MaskID(tc.in); got != tc.want {
			t.Errorf("MaskID(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// fullIDs are the test people's whole ID numbers, which no answer may hold.
var fullIDs = []string{driver1.IDNumber, escort2.IDNumber, driver3.IDNumber, escort4.IDNumber}

func TestNoWholeIDNumbers(t *testing.T) {
	h := heldHarness(t)
	op := h.client().mustLogin("op", opPassword)
	id := h.runner("in-1").Snapshot().InspectionID
	for _, path := range []string{
		"/api/v1/lanes",
		"/api/v1/inspections",
		"/api/v1/inspections?id_number=" + driver1.IDNumber,
		"/api/v1/inspections/" + id,
		"/api/v1/export?date=2026-03-15",
	} {
		a := op.do("GET", path, nil)
		if a.status != 200 {
			t.Fatalf("GET %s = %d %s", path, a.status, a.body)
		}
		for _, full := range fullIDs {
			if strings.Contains(string(a.body), full) {
				t.Errorf("GET %s shows the whole ID number %s", path, full)
			}
		}
		if !strings.Contains(string(a.body), "**************0110") {
			t.Errorf("GET %s does not show the masked driver ID", path)
		}
	}
	// The search by a whole ID number finds the inspection.
	list := op.do("GET", "/api/v1/inspections?id_number="+driver1.IDNumber, nil).json(t)["inspections"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["id"] != id {
		t.Fatalf("search by ID number: %v", list)
	}
}

func TestSearch(t *testing.T) {
	h := heldHarness(t)
	op := h.client().mustLogin("op", opPassword)
	count := func(q string) int {
		t.Helper()
		a := op.do("GET", "/api/v1/inspections?"+q, nil)
		if a.status != 200 {
			t.Fatalf("search %s = %d %s", q, a.status, a.body)
		}
		return len(a.json(t)["inspections"].([]any))
	}
	for q, want := range map[string]int{
		"":                              2,
		"plate=浙B20001":                 1,
		"plate=浙b2001挂":                 1, // the trailer, compared normalised
		"waybill=YD3302002603150202":    1,
		"verdict=reject":                1,
		"verdict=pass":                  0,
		"date=2026-03-15":               2,
		"date=2026-03-14":               0,
		"plate=浙B30002&verdict=review":  0,
		"id_number=" + escort4.IDNumber: 1,
	} {
		if got := count(q); got != want {
			t.Errorf("search %q: %d inspections, want %d", q, got, want)
		}
	}
}

func TestExportCSV(t *testing.T) {
	h := heldHarness(t)
	op := h.client().mustLogin("op", opPassword)
	in2 := h.runner("in-2").Snapshot().InspectionID
	sup := h.client().mustLogin("sup", supPassword)
	if a := sup.do("POST", "/api/v1/lanes/in-2/refuse", map[string]string{"inspection_id": in2, "reason": "=HYPERLINK(\"x\") 劝返"}); a.status != 202 {
		t.Fatalf("refuse = %d %s", a.status, a.body)
	}
	h.send("in-2")
	a := op.do("GET", "/api/v1/export?date=2026-03-15", nil)
	if a.status != 200 || !strings.HasPrefix(a.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export = %d %s", a.status, a.header)
	}
	if cd := a.header.Get("Content-Disposition"); cd != `attachment; filename="hazgate-test-gate-2026-03-15.csv"` {
		t.Fatalf("Content-Disposition %q", cd)
	}
	body := strings.TrimPrefix(string(a.body), "\uFEFF")
	if len(body) == len(a.body) {
		t.Fatal("no byte-order mark")
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || strings.Join(rows[0], ",") != strings.Join(csvHeader("zh"), ",") {
		t.Fatalf("rows %v", rows)
	}
	col := func(row []string, name string) string {
		for i, h := range csvKeys {
			if h == name {
				return row[i]
			}
		}
		t.Fatalf("no column %s", name)
		return ""
	}
	first, second := rows[1], rows[2]
	if col(first, "plate") != "浙B20001" || col(first, "verdict") != "review" || col(first, "driver_id") != "**************0110" || col(first, "unknown_checks") != "identity" {
		t.Fatalf("first row %v", first)
	}
	if col(second, "verdict") != "reject" || col(second, "failed_checks") != "tank_media" || !strings.Contains(col(second, "reasons"), "tank_media:medium_not_suitable") {
		t.Fatalf("second row %v", second)
	}
	// A typed reason that looks like a formula stays text.
	if d := col(second, "operator_decisions"); !strings.Contains(d, "refuse by sup: =HYPERLINK") {
		t.Fatalf("decisions %q", d)
	}
	if got := h.auditActions("gate"); len(got) != 1 || got[0] != "kiosk.export" {
		t.Fatalf("audit %v", got)
	}
	for _, tc := range []struct{ in, want string }{{"=1+1", "'=1+1"}, {"+86", "'+86"}, {"-x", "'-x"}, {"@a", "'@a"}, {"浙B1", "浙B1"}, {"", ""}} {
		if got := csvSafe(tc.in); got != tc.want {
			t.Errorf("csvSafe(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNotes(t *testing.T) {
	a := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		code string
		args map[string]string
		zh   string
	}{
		{lane.NoteVerdictHeld, a("verdict", "review"), "待人工审核：等待操作员处理"},
		{lane.NoteReleaseRefused, a("why", lane.WhyLockdown), "放行未执行：车道已封锁"},
		{lane.NoteRefusalNotTaken, a("why", lane.WhyReasonRequired), "拒绝未执行：必须填写原因"},
		{lane.NoteRefusalNotTaken, a("why", lane.WhyAlreadyReleased, "operator", "值班员甲"), "拒绝未执行：已由 值班员甲 放行"},
		{lane.NoteReleaseRecording, a("operator", "值班员甲"), "操作员 值班员甲 的放行正在记录"},
		{lane.NoteRefused, a("operator", "op", "reason", "无押运员"), "操作员 op 已拒绝放行：无押运员"},
		{lane.NoteSecondCard, a("role", "escort"), "第二张押运员身份证已忽略"},
		{lane.NoteUnknownRoleCard, a("role", "x"), "角色不明的身份证已忽略"},
		// An operator's name that looks like a placeholder stays as typed.
		{lane.NoteReleaseRecording, a("operator", "{reason}"), "操作员 {reason} 的放行正在记录"},
		{"something_new", nil, "something_new"},
	} {
		note := lane.NoteText(tc.code, tc.args)
		got := noteText(lane.Snapshot{Note: note, NoteCode: tc.code, NoteArgs: tc.args})
		if en := strings.ToUpper(note[:1]) + note[1:]; got.ZH != tc.zh || got.EN != en {
			t.Errorf("noteText(%s %v) = %+v, want zh %q en %q", tc.code, tc.args, got, tc.zh, en)
		}
	}
}

// sseEvent is one server-sent event.
type sseEvent struct {
	name string
	data string
}

// stream opens the event stream and returns its events as they come.
func stream(t *testing.T, c *client, ctx context.Context) <-chan sseEvent {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", c.base+"/api/v1/events", nil)
	res, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events = %d %s", res.StatusCode, res.Header)
	}
	ch := make(chan sseEvent, 100)
	go func() {
		defer close(ch)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			case line == "" && ev.name != "":
				ch <- ev
				ev = sseEvent{}
			}
		}
	}()
	return ch
}

// next waits for the next event that matches.
func next(t *testing.T, ch <-chan sseEvent, match func(sseEvent) bool) sseEvent {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatal("stream ended")
			}
			if match(ev) {
				return ev
			}
		case <-timeout:
			t.Fatal("no such event within 10 s")
		}
	}
}

func TestEventStream(t *testing.T) {
	h := heldHarness(t)
	op := h.client().mustLogin("op", opPassword)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := stream(t, op, ctx)
	next(t, ch, func(e sseEvent) bool { return e.name == "hello" })
	seen := map[string]laneView{}
	for len(seen) < 3 {
		e := next(t, ch, func(e sseEvent) bool { return e.name == "lane" })
		var v laneView
		if err := json.Unmarshal([]byte(e.data), &v); err != nil {
			t.Fatal(err)
		}
		seen[v.Lane] = v
	}
	if v := seen["in-1"]; v.Verdict != "review" || v.Decidable != "review" || v.Driver.ID != "**************0110" || v.Escort.Face != nil || !v.Escort.FaceScored {
		t.Fatalf("in-1 %+v", v)
	}
	if v := seen["in-3"]; v.Phase != lane.PhaseCollecting || !v.PlateEntry || len(v.Checks) != 7 || v.Checks[0].State != stateWaiting || v.Deadline.IsZero() {
		t.Fatalf("in-3 %+v", v)
	}
	// A change reaches the open stream.
	h.gateClk.Advance(time.Second)
	h.send("in-3", lane.PlateRead{Plate: "浙B20001", Trailer: "浙B2001挂", Confidence: 1})
	e := next(t, ch, func(e sseEvent) bool {
		return e.name == "lane" && strings.Contains(e.data, `"lane":"in-3"`) && strings.Contains(e.data, "浙B20001")
	})
	var v laneView
	json.Unmarshal([]byte(e.data), &v)
	if v.PlateEntry || v.Checks[2].ID != "inspection_validity" || v.Checks[2].State != stateReady {
		t.Fatalf("in-3 after the plate %+v", v)
	}
	// A release reaches it too.
	in1 := h.runner("in-1").Snapshot().InspectionID
	if a := op.do("POST", "/api/v1/lanes/in-1/release", map[string]string{"inspection_id": in1, "reason": "ok"}); a.status != 202 {
		t.Fatalf("release %d", a.status)
	}
	next(t, ch, func(e sseEvent) bool {
		return e.name == "lane" && strings.Contains(e.data, `"lane":"in-1"`) && strings.Contains(e.data, `"phase":"open"`)
	})
	// Signing out ends the stream.
	op.do("POST", "/api/v1/logout", map[string]string{})
	next(t, ch, func(e sseEvent) bool { return e.name == "signed_out" })
}

func TestHubNeverBlocks(t *testing.T) {
	hb := newHub(DefaultStreamsPerSession, DefaultMaxStreams)
	sub, cancel, err := hb.subscribe([32]byte{1})
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	for i := range 10000 { // nobody reads: each publish returns at once
		hb.publish(lane.Snapshot{Lane: []string{"in-1", "in-2"}[i%2], Note: string(rune('a' + i%26))})
	}
	got := sub.take()
	if len(got) != 2 || got[0].Lane != "in-1" || got[1].Lane != "in-2" || got[1].Note != string(rune('a'+9999%26)) {
		t.Fatalf("take = %+v", got)
	}
	if len(sub.take()) != 0 {
		t.Fatal("take twice")
	}
}

func TestHealth(t *testing.T) {
	h := heldHarness(t)
	op := h.client().mustLogin("op", opPassword)
	anon := h.client()
	if a := anon.do("GET", "/healthz", nil); a.status != 200 || a.json(t)["status"] != "ok" {
		t.Fatalf("healthz = %d %s", a.status, a.body)
	}
	r := op.do("GET", "/api/v1/health", nil).json(t)
	for section, want := range map[string]string{"devices": statusUnknown, "broker": statusUnknown, "outbox": statusOK, "registry": statusOK} {
		if got := r[section].(map[string]any)["status"]; got != want {
			t.Errorf("%s status %v, want %s", section, got, want)
		}
	}
	if out := r["outbox"].(map[string]any); out["depth"].(float64) < 2 {
		t.Errorf("outbox %v: want the inspections' messages", out)
	}
	if reg := r["registry"].(map[string]any); reg["version"].(float64) != 3 || reg["age_s"].(float64) != 3610 {
		t.Errorf("registry %v", reg)
	}
	if r["status"] == statusOK {
		t.Errorf("overall status ok with sources not reported")
	}
	if a := op.do("GET", "/api/v1/audit/verify", nil).json(t); a["ok"] != true {
		t.Fatalf("audit verify %v", a)
	}
	if got := testMetric(t, h, "hazgate_outbox_depth"); got == "" || got == "0" {
		t.Fatalf("outbox depth metric %q", got)
	}
	if got := testMetric(t, h, `hazgate_lane_lockdown{lane="in-1"}`); got != "0" {
		t.Fatalf("lockdown metric %q", got)
	}
}

// testMetric returns a metric's value from /metrics ("" when absent).
func testMetric(t *testing.T, h *harness, series string) string {
	t.Helper()
	a := h.client().do("GET", "/metrics", nil)
	if a.status != 200 {
		t.Fatalf("metrics = %d", a.status)
	}
	for _, line := range strings.Split(string(a.body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return ""
}

func TestHealthSources(t *testing.T) {
	h := newHarness(t, Config{}, "in-1")
	srv, err := New(Config{}, Deps{
		Lanes: h.gate.Lanes, Store: h.st, GateClock: h.gateClk,
		Broker: BrokerFunc(func() BrokerStatus { return BrokerStatus{URL: "ssl://broker:8883", LastError: "connection refused"} }),
		Devices: DevicesFunc(func() []health.Device {
			return []health.Device{{Name: "idcard-in-1", Kind: "idcard", Lane: "in-1", OK: false, State: "disconnected"}, {Name: "scanner-in-1", Kind: "scanner", Lane: "in-1", OK: true, State: "ok"}}
		}),
		Disk: DiskAt(t.TempDir()),
	})
	if err != nil {
		t.Fatal(err)
	}
	r := srv.health(context.Background())
	if r.Broker.Status != statusFault || r.Devices.Status != statusFault || r.Status != statusFault || r.Disk.Status == statusUnknown {
		t.Fatalf("health %+v", r)
	}
	if r.Lanes[0].Status != statusUnknown {
		t.Fatalf("a barrier that never reported is %s, want unknown", r.Lanes[0].Status)
	}
	h.send("in-1", lane.BarrierFeedback{State: lane.BarrierFault})
	if r := srv.health(context.Background()); !r.Lanes[0].BarrierFault || r.Lanes[0].Status != statusFault {
		t.Fatalf("barrier fault not shown: %+v", r.Lanes[0])
	}
}

func TestLaneDeviceFaults(t *testing.T) {
	h := heldHarness(t)
	op := h.client().mustLogin("op", opPassword)
	h.send("in-3", lane.DeviceFault{Device: "in-3/idcard", Fault: true, Detail: "unplugged"})
	var in3 map[string]any
	for _, l := range op.do("GET", "/api/v1/lanes", nil).json(t)["lanes"].([]any) {
		if l.(map[string]any)["lane"] == "in-3" {
			in3 = l.(map[string]any)
		}
	}
	if f := in3["faults"].([]any); len(f) != 1 || f[0] != "in-3/idcard" {
		t.Fatalf("in-3 faults %v", in3["faults"])
	}
	if got := testMetric(t, h, "hazgate_device_faults"); got != "1" {
		t.Fatalf("device faults metric %q", got)
	}
}
