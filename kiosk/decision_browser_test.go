package kiosk

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hazgate/hazgate/lane"
)

const refuseReason = "罐体不适装丙烯，通知承运人"

// TestBrowserDecisions releases one held vehicle and refuses another at the
// kiosk, then checks that the lanes, the history (filtered by outcome) and
// each inspection's page show who decided what and why, and that a second
// decision on either is refused with 409 in words. With
// HAZGATE_SCREENSHOTS=1 it writes the lanes, history and inspection
// screenshots of docs/kiosk.md.
func TestBrowserDecisions(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test is not run with -short")
	}
	b := newBrowser(t)
	h := newHarness(t, Config{Gate: "演示园区 1号门"}, "in-1", "in-2", "in-3")
	h.addOperator("主管乙", RoleSupervisor, supPassword)

	b.do("sign in",
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(h.http.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("login-name")),
		chromedp.SetValue(chromedp.ID("login-name"), "主管乙"),
		chromedp.SendKeys(chromedp.ID("login-password"), supPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#lane-in-1")),
		chromedp.WaitVisible(chromedp.CSS("#conn.live")))

	h.arrive("in-1", reviewVehicle)
	h.arrive("in-2", rejectVehicle)
	b.do("held on screen",
		chromedp.WaitVisible(chromedp.CSS("#lane-in-1 .verdict.verdict-review")),
		chromedp.WaitVisible(chromedp.CSS("#lane-in-2 .verdict.verdict-reject")))
	released, refused := h.runner("in-1").Snapshot().InspectionID, h.runner("in-2").Snapshot().InspectionID

	b.do("release in-1",
		chromedp.SetValue(chromedp.CSS("#lane-in-1 textarea.decision-reason"), releaseReason),
		chromedp.Click(chromedp.CSS("#lane-in-1 button.release")),
		chromedp.WaitVisible(chromedp.CSS("#lane-in-1 .phase-open")))
	b.do("refuse in-2",
		chromedp.SetValue(chromedp.CSS("#lane-in-2 textarea.decision-reason"), refuseReason),
		chromedp.Click(chromedp.CSS("#lane-in-2 button.refuse")),
		chromedp.WaitVisible(chromedp.CSS("#lane-in-2 .lane-decision.decision-refuse")))
	h.send("in-1")
	h.send("in-2")

	// The lanes: each says who decided what and why; the refused one has
	// no buttons left, and its status line says it was refused.
	b.waitTrue("release shown on in-1", `document.querySelector('#lane-in-1 .lane-decision.decision-release')?.textContent === `+
		strconv.Quote("已放行（主管乙）："+releaseReason))
	b.waitTrue("refusal shown on in-2", `document.querySelector('#lane-in-2 .lane-decision')?.textContent === `+
		strconv.Quote("已拒绝放行（主管乙）："+refuseReason))
	b.waitTrue("no buttons on in-2", `!document.querySelector('#lane-in-2 .actions button')`)
	b.waitTrue("in-2 status line", `!document.querySelector('#lane-in-2 .note') &&
		document.querySelector('#lane-in-2 .phase')?.textContent === '已拒绝放行'`)
	if s := h.runner("in-2").Snapshot(); s.Phase != lane.PhaseHeld || s.BarrierCommanded == lane.CommandUp {
		t.Fatalf("in-2 after the refusal: phase %s barrier %s", s.Phase, s.BarrierCommanded)
	}
	// The released vehicle crosses: in-1 goes idle and still shows the release.
	h.send("in-1", lane.SafetyLoop{Occupied: true}, lane.VehicleGone{}, lane.SafetyLoop{Occupied: false})
	h.arrive("in-3", vehicle{plate: "浙B20001", trailer: "浙B2001挂", driver: &driver1})
	b.waitTrue("in-1 idle with its release", `document.querySelector('#lane-in-1 .phase-idle') && document.querySelector('#lane-in-1 .lane-decision.decision-release')`)
	// The looks: the waybill not yet scanned says so; a lane with a device
	// in fault has a fault badge, the others none; the barrier line says
	// what the barrier was told and that it has no feedback (the test
	// barriers give none), and the badge names the lane's step only;
	// every character has its glyph.
	h.send("in-3", lane.DeviceFault{Device: "in-3/escort-reader", Fault: true, Detail: "no answer"})
	b.waitTrue("waybill not scanned", `document.querySelector('#lane-in-3 .waybill')?.textContent === '电子运单未扫描'`)
	b.waitTrue("fault badge on in-3 only", `document.querySelector('#lane-in-3 .fault-badge')?.textContent === '✖ 故障' &&
		!document.querySelector('#lane-in-1 .fault-badge') && !document.querySelector('#lane-in-2 .fault-badge')`)
	b.waitTrue("barrier line", `document.querySelector('#lane-in-2 .barrier')?.textContent === '道闸 已指令落杆（无反馈）'`)
	b.allGlyphs("lanes, Chinese", 80)
	b.screenshot("kiosk-lanes-zh.png", false)
	b.do("English", chromedp.Click(chromedp.ID("lang")))
	b.waitTrue("English waybill", `document.querySelector('#lane-in-3 .waybill')?.textContent === 'WaybillNot scanned' &&
		document.querySelector('#lane-in-2 .barrier')?.textContent === 'Barrier commanded down (no feedback)' &&
		document.querySelector('#lane-in-3 .fault-badge')?.textContent === '✖ Fault'`)
	b.sentenceCase("lanes, English", "body")
	b.waitTrue("English decision", `document.querySelector('#lane-in-2 .lane-decision')?.textContent === `+
		strconv.Quote("Refused by 主管乙: "+refuseReason))
	b.screenshot("kiosk-lanes-en.png", false)

	// A second decision on either is refused, in words, and changes nothing.
	c := h.client().mustLogin("主管乙", supPassword)
	for _, tt := range []struct{ lane, action, id, en string }{
		{"in-2", "refuse", refused, "Already refused by 主管乙"},
		{"in-2", "release", refused, "Already refused by 主管乙"},
		{"in-1", "refuse", released, "Already released by 主管乙"},
	} {
		a := c.do(http.MethodPost, "/api/v1/lanes/"+tt.lane+"/"+tt.action, map[string]string{"inspection_id": tt.id, "reason": "again"})
		if a.status != http.StatusConflict || a.errCode() != errDecided {
			t.Fatalf("second %s on %s: %d %s, want 409 %s", tt.action, tt.lane, a.status, a.body, errDecided)
		}
		e, _ := a.json(t)["error"].(map[string]any)
		txt, _ := e["text"].(map[string]any)
		if m, _ := e["message"].(string); m == "" || txt == nil || txt["zh"] == "" || !strings.Contains(m, tt.en) {
			t.Fatalf("second %s on %s: error %v, want it to say %q in zh and en", tt.action, tt.lane, e, tt.en)
		}
	}
	for id, want := range map[string]int{released: 1, refused: 1} {
		if ds, err := h.st.Decisions(context.Background(), id); err != nil || len(ds) != want {
			t.Fatalf("decisions on %s: %+v %v, want %d", id, ds, err, want)
		}
	}
	overrides := 0
	for _, a := range h.auditActions(refused) {
		if a == "decision.refuse" || a == "decision.release" {
			overrides++
		}
	}
	if overrides != 1 {
		t.Fatalf("%d decision audit entries on the refused inspection, want 1", overrides)
	}

	// The history shows each outcome and filters by it.
	for _, tt := range []struct{ outcome, id, other, text string }{
		{"released", released, refused, "Released"},
		{"refused", refused, released, "Refused"},
	} {
		b.do("history "+tt.outcome,
			chromedp.Navigate(h.http.URL+"/#/history/outcome="+tt.outcome),
			chromedp.WaitVisible(chromedp.CSS(`#results tr[data-id="`+tt.id+`"]`)))
		b.waitTrue("outcome "+tt.outcome+" in the row", `document.querySelector('#results tr[data-id="`+tt.id+`"] .outcome')?.textContent === `+strconv.Quote(tt.text+"主管乙"))
		b.waitTrue("only "+tt.outcome, `!document.querySelector('#results tr[data-id="`+tt.other+`"]') && document.querySelector('#search-outcome').value === `+strconv.Quote(tt.outcome))
	}
	b.do("history, any outcome", chromedp.Navigate(h.http.URL+"/#/history/"), chromedp.WaitVisible(chromedp.CSS(`#results tr[data-id="`+refused+`"]`)))
	if n := b.readableLinks("history, English"); n < 3 {
		t.Errorf("history: %d links checked for contrast, want the back link and the rows' (3 or more)", n)
	}
	b.sentenceCase("history, English", "main")
	b.screenshot("kiosk-history-en.png", false)

	// Each inspection's page says how it ended in its header.
	for _, tt := range []struct{ id, text string }{
		{released, "Released by 主管乙: " + releaseReason},
		{refused, "Refused by 主管乙: " + refuseReason},
	} {
		b.do("inspection "+tt.id, chromedp.Navigate(h.http.URL+"/#/inspection/"+tt.id), chromedp.WaitVisible(chromedp.ID("outcome")))
		b.waitTrue("outcome in the header", `document.querySelector('#outcome')?.textContent === `+strconv.Quote(tt.text)+
			` && !document.body.innerText.includes('review pending')`)
		b.noRawText("inspection "+tt.id+", English", "#inspection")
		b.sentenceCase("inspection "+tt.id+", English", "#inspection")
		b.readableLinks("inspection " + tt.id)
	}
	b.waitTrue("timings in words", `document.querySelector('#timings')?.textContent.startsWith('Plate read 1.0 s')`)
	b.do("Chinese", chromedp.Click(chromedp.ID("lang")))
	b.waitTrue("Chinese header", `document.querySelector('#outcome')?.textContent === `+strconv.Quote("已拒绝放行（主管乙）："+refuseReason))
	b.noRawText("inspection, Chinese", "#inspection")
	b.waitTrue("audit in words", `[...document.querySelectorAll('#audit tbody tr')].map((r) => r.cells[3].textContent).join('|') === '系统判定|在终端拒绝放行|记录拒绝放行决定'`)
	b.allGlyphs("inspection, Chinese", 80)
	b.screenshot("kiosk-inspection.png", true)
	b.do("history, Chinese", chromedp.Navigate(h.http.URL+"/#/history/"), chromedp.WaitVisible(chromedp.CSS(`#results tr[data-id="`+refused+`"]`)))
	b.readableLinks("history, Chinese")
	b.allGlyphs("history, Chinese", 40)
	b.screenshot("kiosk-history.png", false)

	if p := b.console(); len(p) > 0 {
		t.Fatalf("JavaScript console errors:\n%v", p)
	}
}
