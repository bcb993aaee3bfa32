package kiosk

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
)

// The evacuation in the browser: a supervisor starts it from the title bar
// with a confirmation and a reason; a banner above every page and a badge
// on each lane say so, and who may end it; the supervisor ends it the same
// way. One the office started shows the banner but no switch. With
// HAZGATE_SCREENSHOTS=1 it writes docs/kiosk-evacuation.png.
func TestBrowserEvacuation(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test is not run with -short")
	}
	b := newBrowser(t)
	h := newHarness(t, Config{Gate: "演示园区 1号门"}, "in-1", "out-1")
	h.addOperator("主管乙", RoleSupervisor, supPassword)
	b.do("sign in",
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(h.http.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("login-name")),
		chromedp.SetValue(chromedp.ID("login-name"), "主管乙"),
		chromedp.SendKeys(chromedp.ID("login-password"), supPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#lane-out-1")),
		chromedp.WaitVisible(chromedp.CSS("#conn.live")))
	b.waitTrue("the switch", `document.querySelector('#evacuate').textContent === '紧急疏散' && document.querySelector('#evacuation-banner').hidden`)

	b.do("evacuate",
		chromedp.Click(chromedp.ID("evacuate")),
		chromedp.WaitVisible(chromedp.ID("evacuate-reason")),
		chromedp.SetValue(chromedp.ID("evacuate-reason"), "储罐区泄漏，全员撤离"),
		chromedp.Click(chromedp.ID("evacuate-confirm")),
		chromedp.WaitVisible(chromedp.ID("evacuation-banner")),
		chromedp.WaitVisible(chromedp.CSS("#lane-out-1 .lane-evac")),
		chromedp.WaitVisible(chromedp.CSS("#lane-in-1 .lane-evac")))
	h.evacuating(true)
	b.waitTrue("the banner says who ends it", `document.querySelector('#evacuation-banner').textContent.includes('仅主管可在值班台结束')`)
	b.waitTrue("the exit lane's phase", `document.querySelector('#lane-out-1 .phase-evacuating')?.textContent === '疏散中'`)
	b.waitTrue("the switch ends it", `document.querySelector('#evacuate').textContent === '结束疏散'`)
	b.fits(1280, 800)
	b.screenshot("kiosk-evacuation.png", false)

	b.do("English", chromedp.Click(chromedp.ID("lang")))
	b.waitTrue("English banner", `document.querySelector('#evacuation-banner').textContent.includes('every exit barrier held open')`)
	b.waitTrue("English badge", `document.querySelector('#lane-in-1 .lane-evac').textContent.includes('entry closed')`)

	b.do("end it",
		chromedp.Click(chromedp.ID("evacuate")),
		chromedp.WaitVisible(chromedp.ID("evacuate-reason")),
		chromedp.SetValue(chromedp.ID("evacuate-reason"), "leak contained"),
		chromedp.Click(chromedp.ID("evacuate-confirm")))
	b.waitTrue("banner gone", `document.querySelector('#evacuation-banner').hidden && !document.querySelector('#lane-out-1 .lane-evac')`)
	h.evacuating(false)

	// The office's: the banner, and no switch at the kiosk.
	if err := h.gate.Lanes.Evacuate(context.Background(), true, "alice"); err != nil {
		t.Fatal(err)
	}
	b.waitTrue("the office's banner", `!document.querySelector('#evacuation-banner').hidden && document.querySelector('#evacuation-banner').textContent.includes('only a signed command ends it')`)
	b.waitTrue("no switch", `document.querySelector('#evacuate').hidden`)

	if p := b.console(); len(p) > 0 {
		t.Fatalf("JavaScript console errors:\n%v", p)
	}
}
