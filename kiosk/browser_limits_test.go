package kiosk

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserLockoutsAndTabs drives the two kiosk limits in Chromium: a
// supervisor sees another supervisor locked out from a hostile address on
// the health page and unlocks the account with a reason; and a ninth tab
// of one session stops the oldest tab's live view, which says so and
// resumes when asked.
func TestBrowserLockoutsAndTabs(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test is not run with -short")
	}
	b := newBrowser(t)
	// Three streams a session here: over plain HTTP/1.1 Chromium opens at
	// most 6 connections to one host, so a seventh tab would wait for one
	// whatever the kiosk allowed. TestStreamsPerSession covers the default.
	const perSession = 3
	h := newHarness(t, Config{Gate: "演示园区 1号门", StreamsPerSession: perSession}, "in-1", "in-2")
	h.addOperator("张主管", RoleSupervisor, supPassword)
	h.addOperator("李主管", RoleSupervisor, supPassword+"x")
	hostile := h.clientFrom("127.0.0.66")
	for range DefaultLoginLimit.PerAccount {
		hostile.login("张主管", "guess-guess-1")
	}
	if a := hostile.login("张主管", supPassword); a.status != http.StatusTooManyRequests {
		t.Fatalf("hostile address = %d, want 429", a.status)
	}

	b.do("sign in",
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(h.http.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("login-name")),
		chromedp.SetValue(chromedp.ID("login-name"), "李主管"),
		chromedp.SendKeys(chromedp.ID("login-password"), supPassword+"x"),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#conn.live")))
	b.do("health",
		chromedp.Click(chromedp.CSS(`#nav a[href="#/health"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#lockouts tr[data-account="张主管"][data-ip="127.0.0.66"] button.unlock`)))
	b.screenshot("kiosk-lockouts.png", true)
	b.do("English", chromedp.Click(chromedp.ID("lang")))
	b.waitTrue("English lockouts", `document.querySelector('#lockouts')?.textContent.includes('Sign-in lockouts') && !!document.querySelector('#lockouts button.unlock')`)
	b.do("Chinese", chromedp.Click(chromedp.ID("lang")))
	b.waitTrue("Chinese lockouts", `document.querySelector('#lockouts')?.textContent.includes('登录锁定') && !!document.querySelector('#lockouts button.unlock')`)
	b.do("unlock",
		chromedp.Click(chromedp.CSS(`#lockouts button.unlock`)),
		chromedp.WaitVisible(chromedp.ID("unlock-reason")))
	b.do("confirm",
		chromedp.SetValue(chromedp.ID("unlock-reason"), "已电话核实：66 号终端输错密码"),
		chromedp.Click(chromedp.ID("unlock-confirm")))
	b.waitTrue("no lockout", `document.querySelector('#lockouts')?.textContent.includes('没有被锁定') && !document.querySelector('#lockouts tr[data-account]')`)
	if a := hostile.login("张主管", supPassword); a.status != 200 {
		t.Fatalf("after the unlock = %d %s", a.status, a.body)
	}
	if got := h.auditActions("operator:张主管"); !containsAll(got, "kiosk.login_limited", "operator.unlocked") {
		t.Fatalf("audit %v", got)
	}

	// More tabs of the same session: the fourth stream closes the first
	// tab's, which stops and says so rather than reconnect.
	for i := range perSession {
		tab, cancel := chromedp.NewContext(b.ctx)
		defer cancel()
		ctx, cancelT := context.WithTimeout(tab, 30*time.Second)
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(h.http.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#conn.live"))); err != nil {
			cancelT()
			t.Fatalf("tab %d: %v", i+2, err)
		}
		cancelT()
	}
	b.do("first tab superseded", chromedp.WaitVisible(chromedp.ID("reconnect")))
	b.waitTrue("stale", `document.querySelector('#conn').classList.contains('offline')`)
	if total, _ := h.srv.hub.streams([32]byte{}); total != perSession {
		t.Fatalf("%d streams open, want %d", total, perSession)
	}
	b.do("lanes", chromedp.Click(chromedp.CSS(`#nav a[href="#/lanes"]`)), chromedp.WaitVisible(chromedp.ID("stale-warning")))
	b.screenshot("kiosk-superseded.png", false)
	b.do("resume", chromedp.Click(chromedp.ID("reconnect")), chromedp.WaitVisible(chromedp.CSS("#conn.live")))

	if p := b.console(); len(p) > 0 {
		t.Fatalf("JavaScript console errors:\n%v", p)
	}
}

func containsAll(list []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, x := range list {
			found = found || x == w
		}
		if !found {
			return false
		}
	}
	return true
}
