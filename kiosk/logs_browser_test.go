package kiosk

import (
	"log/slog"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/health"
	"github.com/hazgate/hazgate/logs"
)

// A supervisor's health page ends with the gate's recent log, newest
// first, its levels in words, in Chinese and in English; a flapping
// reader's lines are there a few times with how many were dropped. An
// operator's page has no log.
func TestHealthPageLogInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test is not run with -short")
	}
	at := time.Date(2026, 3, 15, 1, 0, 0, 0, time.UTC)
	clk := clock.NewFake(at)
	ring := logs.NewRing(logs.DefaultRingSize, slog.LevelInfo)
	log := slog.New(logs.NewLimit(ring, clk, logs.DefaultLimit))
	log.Info("hazgate running", "version", "v1.4.0", "gate", "east-1", "lanes", 2)
	log.Info("mqtt connected", "component", "uplink", "broker", "ssl://park-broker:8883", "gen", 1)
	reader := log.With("lane", "in-1", "device", "idcard")
	for i := range 12 {
		reader.Warn("device not answering; in fault if it does not come back within the fault window", "window", "3s", "try", i)
	}
	clk.Advance(2 * time.Minute)
	reader.Warn("device not answering; in fault if it does not come back within the fault window", "window", "3s", "try", 12)
	reader.Error("device fault", "err", "no answer from /dev/hazgate-idcard-in1")
	log.Info("inspection committed", "lane", "in-2", "inspection", "01JQ7Z4M5W6X7Y8Z9A0B1C2D3E", "verdict", "pass")

	b := newBrowser(t)
	h := newHarnessWith(t, Config{Gate: "演示园区 1号门"}, harnessOptions{deps: func(d *Deps) {
		d.Devices = d.Lanes.(DeviceHealth)
		d.Logs = ring
	}}, "in-1", "in-2")
	h.gate.Lanes.SetDevice(health.New("in-1/idcard", "idcard", "in-1", "no answer from /dev/hazgate-idcard-in1", h.gateClk.Now().Add(-3*time.Minute)))
	h.addOperator("张主管", RoleSupervisor, supPassword)
	h.addOperator("值班员乙", RoleOperator, opPassword)

	signIn := func(name, password string) {
		b.do("sign in "+name,
			chromedp.EmulateViewport(1280, 800),
			chromedp.Navigate(h.http.URL+"/"),
			chromedp.WaitVisible(chromedp.ID("login-name")),
			chromedp.SetValue(chromedp.ID("login-name"), name),
			chromedp.SendKeys(chromedp.ID("login-password"), password),
			chromedp.Click(chromedp.ID("login-submit")),
			chromedp.WaitVisible(chromedp.CSS("#lane-in-1")),
			chromedp.Click(chromedp.CSS(`#nav a[href="#/health"]`)),
			chromedp.WaitVisible(chromedp.CSS("#health .health-item")))
	}
	signIn("张主管", supPassword)
	b.do("the log", chromedp.WaitVisible(chromedp.CSS("#log-lines .log-lines li")))
	b.waitTrue("the log in Chinese", `(() => {
		const box = document.querySelector('#log-lines');
		const items = [...(box?.querySelectorAll('li') || [])].map((li) => li.textContent);
		return box?.querySelector('h2')?.textContent === '最近日志（最新在上）' && items.length === 8 &&
			items[0].includes('信息') && items[0].includes('inspection committed') &&
			items[1].includes('错误') && items[2].includes('try=12 suppressed=9') &&
			items.filter((s) => s.includes('警告')).length === 4;
	})()`)
	b.screenshot("kiosk-health.png", true)
	b.do("English", chromedp.Click(chromedp.ID("lang")))
	b.waitTrue("the log in English", `(() => {
		const box = document.querySelector('#log-lines');
		return box?.querySelector('h2')?.textContent === 'Recent log (newest first)' && box?.querySelector('li .log-level')?.textContent === 'info';
	})()`)
	if p := b.console(); len(p) > 0 {
		t.Fatalf("console errors: %v", p)
	}

	// An operator, in a browser of their own.
	b = newBrowser(t)
	signIn("值班员乙", opPassword)
	b.waitTrue("no log for an operator", `!!document.querySelector('#health .health-devices') && !document.querySelector('#log-lines')`)
	if p := b.console(); len(p) > 0 {
		t.Fatalf("console errors: %v", p)
	}
}
