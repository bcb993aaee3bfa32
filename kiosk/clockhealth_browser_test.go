package kiosk

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hazgate/hazgate/clock"
)

// The health page says the gate's clock is not synchronised, and why, in
// Chinese and in English.
func TestClockOnHealthPageInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test is not run with -short")
	}
	b := newBrowser(t)
	h := newHarnessWith(t, Config{}, harnessOptions{deps: func(d *Deps) {
		d.ClockState = func() clock.State {
			return clock.State{Source: clock.SourceKernel, Reason: clock.ReasonUnsynced, Checked: t0}
		}
	}}, "in-1")
	h.addOperator("值班员丙", RoleOperator, opPassword)
	b.do("sign in",
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(h.http.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("login-name")),
		chromedp.SetValue(chromedp.ID("login-name"), "值班员丙"),
		chromedp.SendKeys(chromedp.ID("login-password"), opPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#lane-in-1")))
	b.do("health page",
		chromedp.Click(chromedp.CSS(`#nav a[href="#/health"]`)),
		chromedp.WaitVisible(chromedp.ID("health-clock")))
	b.waitTrue("the clock in Chinese", `(() => {
		const p = document.querySelector('#health-clock');
		return p.textContent.includes('未通过 NTP 同步') && p.textContent.includes('kernel') &&
			p.closest('section').textContent.includes('闸口时钟') && p.closest('section').className.includes('status-border-fault');
	})()`)
	b.do("English", chromedp.Click(chromedp.ID("lang")))
	b.waitTrue("the clock in English", `(() => {
		const p = document.querySelector('#health-clock');
		return p && p.textContent.includes('Not synchronised by NTP') && p.closest('section').textContent.includes('Gate clock');
	})()`)
	if p := b.console(); len(p) > 0 {
		t.Fatalf("console errors: %v", p)
	}
}
