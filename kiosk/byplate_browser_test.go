package kiosk

import (
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/registry"
)

// The waybill found from the plate (issue 16) in a real headless Chromium:
// the driver's display says no scan is needed, in Chinese and English, and
// never asks for one; the operator's lane card says how the waybill was
// found, and that a scan of another one overrode it; each inspection's page
// says how its waybill was found. With HAZGATE_SCREENSHOTS=1 it writes
// docs/display-byplate.png and docs/kiosk-lanes-byplate.png.
func TestBrowserWaybillByPlate(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test is not run with -short")
	}
	b := newBrowser(t)
	h := displayHarness(t, newScreens())
	h.addOperator("值班员甲", RoleOperator, opPassword)
	const byPlate, other = "YD3302002603150101", "YD3302002603150202"
	noteShown := func(step, zh, en string) {
		t.Helper()
		b.waitTrue(step, `!document.getElementById('note').hidden && document.getElementById('note-zh').textContent === `+strconv.Quote(zh)+
			` && document.getElementById('note-en').textContent === `+strconv.Quote(en))
	}

	// The display of in-1: every prompt it shows is kept, to find that it
	// never asked for the scan.
	b.do("display page", chromedp.EmulateViewport(1280, 720), chromedp.Navigate(h.http.URL+"/display/in-1"))
	b.waitTrue("idle", `document.getElementById('zh').textContent === '欢迎，请停车接受检查' && document.getElementById('note').hidden`)
	b.do("keep the prompts", chromedp.Evaluate[chromedp.Void](`window.seen = [];
		new MutationObserver(() => window.seen.push(document.getElementById('zh').textContent))
			.observe(document.getElementById('zh'), { childList: true, characterData: true, subtree: true })`))
	h.send("in-1", lane.VehiclePresent{})
	b.waitTrue("swipe, no note yet", `document.getElementById('zh').textContent === '请刷身份证' && document.getElementById('note').hidden`)
	h.send("in-1", lane.PlateRead{Plate: reviewVehicle.plate, Trailer: reviewVehicle.trailer, Confidence: 1, WaybillByPlate: byPlate})
	noteShown("the note with the plate", "电子运单已按车牌调取，无需扫码", "Waybill found from the plate: no scan needed")
	b.waitTrue("still the card", `document.getElementById('zh').textContent === '请刷身份证'`)
	h.send("in-1", lane.CardRead{Person: driver1, Role: registry.RoleDriver})
	b.waitTrue("escort, with the note", `document.getElementById('zh').textContent === '押运员请刷身份证' && !document.getElementById('note').hidden`)
	noPerson(t, b)
	b.do("full HD", chromedp.EmulateViewport(1920, 1080))
	b.screenshot("display-byplate.png", false)
	h.send("in-1", lane.CardRead{Person: escort2, Role: registry.RoleEscort})
	b.waitTrue("pass", `document.getElementById('zh').textContent === '检查通过，请通行'`)
	b.waitTrue("no note once decided", `document.getElementById('note').hidden`)
	if seen := eval[[]string](b, `window.seen`); len(seen) == 0 {
		t.Fatal("no prompt was kept")
	} else {
		for _, p := range seen {
			if p == "请扫描电子运单" {
				t.Fatalf("the display asked for the scan: %q", seen)
			}
		}
	}
	noPerson(t, b)
	passed := h.runner("in-1").Snapshot().InspectionID

	// The operator's lane card: the waybill found from the plate, then a
	// scan of another that overrides it.
	b.do("sign in",
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(h.http.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("login-name")),
		chromedp.SetValue(chromedp.ID("login-name"), "值班员甲"),
		chromedp.SendKeys(chromedp.ID("login-password"), opPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#lane-in-2")),
		chromedp.WaitVisible(chromedp.CSS("#conn.live")))
	h.arrive("in-2", vehicle{plate: rejectVehicle.plate, trailer: rejectVehicle.trailer, driver: rejectVehicle.driver})
	h.send("in-2", lane.PlateRead{Plate: rejectVehicle.plate, Trailer: rejectVehicle.trailer, Confidence: 1, WaybillByPlate: other})
	b.waitTrue("found from the plate", `document.querySelector('#lane-in-2 .waybill')?.textContent === `+strconv.Quote("电子运单"+other+"✔ 按车牌调取，无需扫码")+
		` && !document.querySelector('#lane-in-2 .missing-list')?.textContent.includes('电子运单')`)
	b.allGlyphs("lanes, waybill by plate", 40)
	b.screenshot("kiosk-lanes-byplate.png", false)
	b.do("English", chromedp.Click(chromedp.ID("lang")))
	b.waitTrue("found from the plate, English", `document.querySelector('#lane-in-2 .waybill-src.by-plate')?.textContent === '✔ Found from the plate: no scan needed'`)
	b.sentenceCase("lanes, English", "body")
	h.send("in-2", lane.WaybillScanned{Number: byPlate})
	b.waitTrue("the scan overrides", `document.querySelector('#lane-in-2 .waybill')?.textContent.startsWith('Waybill'+`+strconv.Quote(byPlate)+`) &&
		document.querySelector('#lane-in-2 .waybill-src.overrode')?.textContent === `+strconv.Quote("⚠ The scan wins (the plate's was "+other+")")+
		` && !document.querySelector('#lane-in-2 .waybill-src.by-plate')`)
	h.send("in-2", lane.CardRead{Person: escort4, Role: registry.RoleEscort})
	b.do("decided", chromedp.WaitVisible(chromedp.CSS("#lane-in-2 .verdict.verdict-reject")))
	overridden := h.runner("in-2").Snapshot().InspectionID

	// Each inspection's page says how its waybill was found.
	for _, tt := range []struct{ id, en, zh string }{
		{passed, "Found from the plate (no scan)", "按车牌调取（未扫码）"},
		{overridden, "Scanned: not " + other + ", the one found from the plate; the scanned one was judged", "扫码；与按车牌调取的运单 " + other + " 不同，按扫码的运单核查"},
	} {
		b.do("inspection "+tt.id, chromedp.Navigate(h.http.URL+"/#/inspection/"+tt.id), chromedp.WaitVisible(chromedp.ID("waybill-source")))
		b.waitTrue("how found, English", `document.querySelector('#waybill-source')?.textContent === `+strconv.Quote(tt.en))
		b.sentenceCase("inspection, English", "#inspection")
		b.do("Chinese", chromedp.Click(chromedp.ID("lang")))
		b.waitTrue("how found, Chinese", `document.querySelector('#waybill-source')?.textContent === `+strconv.Quote(tt.zh))
		b.noRawText("inspection, Chinese", "#inspection")
		b.allGlyphs("inspection, Chinese", 40)
		b.do("English", chromedp.Click(chromedp.ID("lang")))
	}

	if p := b.console(); len(p) > 0 {
		t.Fatalf("JavaScript console errors:\n%v", p)
	}
}
