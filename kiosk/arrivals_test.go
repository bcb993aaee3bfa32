package kiosk

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// arrivalsHarness is a gate whose registry holds the day's appointments
// (testdata/arrivals.yaml), once its first pre-clearance pass has ended.
func arrivalsHarness(t *testing.T) *harness {
	t.Helper()
	return arrivalsHarnessOf(t, filepath.Join("testdata", "arrivals.yaml"))
}

func arrivalsHarnessOf(t *testing.T, registry string) *harness {
	t.Helper()
	h := newHarnessWith(t, Config{}, harnessOptions{registry: registry}, "in-1")
	select {
	case <-h.gate.Preclear.FirstPass():
	case <-time.After(20 * time.Second):
		t.Fatal("no pre-clearance pass in 20 s")
	}
	h.addOperator("op", RoleOperator, opPassword)
	return h
}

func TestArrivalsAPI(t *testing.T) {
	h := arrivalsHarness(t)
	if a := h.client().do(http.MethodGet, "/api/v1/arrivals", nil); a.status != http.StatusUnauthorized {
		t.Fatalf("without a session: %d", a.status)
	}
	op := h.client().mustLogin("op", opPassword)
	a := op.do(http.MethodGet, "/api/v1/arrivals", nil)
	if a.status != http.StatusOK {
		t.Fatalf("arrivals: %d %s", a.status, a.body)
	}
	m := a.json(t)
	if m["date"] != "2026-03-15" {
		t.Fatalf("date %v", m["date"])
	}
	rows := m["arrivals"].([]any)
	var ids []string
	byID := map[string]map[string]any{}
	for _, r := range rows {
		r := r.(map[string]any)
		ids = append(ids, r["id"].(string))
		byID[r["id"].(string)] = r
	}
	want := []string{"AP-03", "AP-01", "AP-02", "AP-04", "AP-05"} // by window; AP-06 is tomorrow
	if len(ids) != len(want) {
		t.Fatalf("arrivals %v, want %v", ids, want)
	}
	for i := range want {
		if ids[i] != want[i] {
			t.Fatalf("arrivals %v, want %v", ids, want)
		}
	}
	verdict := func(id string) string {
		pc, _ := byID[id]["preclearance"].(map[string]any)
		if pc == nil {
			return ""
		}
		return pc["verdict"].(string)
	}
	for id, v := range map[string]string{"AP-01": "pass", "AP-02": "reject", "AP-03": "reject", "AP-04": "review", "AP-05": ""} {
		if got := verdict(id); got != v {
			t.Errorf("%s pre-clearance %q, want %q", id, got, v)
		}
	}
	ap3 := byID["AP-03"]
	if ap3["carrier"] != "测试危运公司" || ap3["trailer"] != "浙B4003挂" || ap3["waybill"] != "YD3302002603150303" || len(ap3["cargo"].([]any)) != 1 {
		t.Fatalf("AP-03 %v", ap3)
	}
	var found bool
	for _, c := range ap3["preclearance"].(map[string]any)["checks"].([]any) {
		c := c.(map[string]any)
		if c["id"] != "inspection_validity" {
			continue
		}
		for _, r := range c["reasons"].([]any) {
			r := r.(map[string]any)
			if r["code"] == "inspection_expired" && r["zh"] != "" && r["en"] != "" {
				found = true
			}
		}
	}
	if !found {
		t.Fatalf("AP-03's inspection_expired, with its words, is not given: %v", ap3["preclearance"])
	}
	if got := op.do(http.MethodGet, "/api/v1/arrivals?date=2026-03-16", nil).json(t)["arrivals"].([]any); len(got) != 1 {
		t.Fatalf("tomorrow: %v", got)
	}
	if a := op.do(http.MethodGet, "/api/v1/arrivals?date=15.3.2026", nil); a.status != http.StatusBadRequest || a.errCode() != errBadRequest {
		t.Fatalf("a bad date: %d %s", a.status, a.body)
	}
}

// The arrivals page lists the day's appointments with their
// pre-clearance and its reasons, in Chinese and in English.
func TestArrivalsInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test is not run with -short")
	}
	b := newBrowser(t)
	h := arrivalsHarness(t)
	b.do("sign in",
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(h.http.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("login-name")),
		chromedp.SetValue(chromedp.ID("login-name"), "op"),
		chromedp.SendKeys(chromedp.ID("login-password"), opPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#lane-in-1")))
	b.do("arrivals page",
		chromedp.Click(chromedp.CSS(`#nav a[href="#/arrivals"]`)),
		chromedp.WaitVisible(chromedp.CSS(".arrivals-list")))
	b.waitTrue("the day's appointments in Chinese", `(() => {
		const rows = [...document.querySelectorAll('tr.arrival')];
		const row = (id) => document.querySelector('tr.arrival[data-appointment="' + id + '"]');
		return rows.length === 5 && !row('AP-06') &&
			row('AP-01').dataset.preclearance === 'pass' && row('AP-01').textContent.includes('预检通过') &&
			row('AP-03').dataset.preclearance === 'reject' && row('AP-03').textContent.includes('预检不通过') &&
			row('AP-03').querySelector('[data-check="inspection_validity"] [data-code="inspection_expired"]').textContent.includes('罐体') &&
			row('AP-03').textContent.includes('测试危运公司') && row('AP-03').textContent.includes('液化石油气') &&
			row('AP-04').dataset.preclearance === 'review' && row('AP-04').textContent.includes('尚未找到该预约的电子运单') &&
			row('AP-05').dataset.preclearance === 'none' && row('AP-05').textContent.includes('已取消') &&
			document.querySelector('.arrivals-note').textContent.includes('重新检查');
	})()`)
	b.screenshot("kiosk-arrivals.png", true)
	b.do("English", chromedp.Click(chromedp.ID("lang")))
	b.waitTrue("the reasons in English", `(() => {
		const row = (id) => document.querySelector('tr.arrival[data-appointment="' + id + '"]');
		return row('AP-03') && row('AP-03').textContent.includes('Pre-clearance failed') &&
			row('AP-03').querySelector('[data-code="inspection_expired"]').textContent.toLowerCase().includes('tank') &&
			row('AP-02').querySelector('[data-check="tank_media"]') !== null &&
			document.querySelector('.arrivals-note').textContent.includes('judged again');
	})()`)
	b.screenshot("kiosk-arrivals-en.png", true)
	b.fits(1280, 800)
	if p := b.console(); len(p) > 0 {
		t.Fatalf("console errors: %v", p)
	}
}

// Hostile markup in an appointment's company, a carrier and a good's name
// is shown as text on the arrivals page, never as markup.
func TestArrivalsHostileTextIsInert(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test is not run with -short")
	}
	b, err := os.ReadFile(filepath.Join("testdata", "arrivals.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.NewReplacer("测试化工一厂", strings.ReplaceAll(xSvg, `"`, `\"`), "测试危运公司", xImg, "液化石油气", xScript).Replace(string(b))
	file := filepath.Join(t.TempDir(), "hostile.yaml")
	if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	br := newBrowser(t)
	h := arrivalsHarnessOf(t, file)
	br.do("sign in",
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(h.http.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("login-name")),
		chromedp.SetValue(chromedp.ID("login-name"), "op"),
		chromedp.SendKeys(chromedp.ID("login-password"), opPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#lane-in-1")),
		chromedp.Navigate(h.http.URL+"/#/arrivals"),
		chromedp.WaitVisible(chromedp.CSS(".arrivals-list")))
	br.waitTrue("hostile text shown as text", `(() => {
		const t = document.querySelector('.arrivals-list').textContent;
		return t.includes('<img src=x onerror=window.__pwned=1>') && t.includes('<script>window.__pwned=1</script>') &&
			t.includes('<svg onload=window.__pwned=1>');
	})()`)
	if ok := eval[bool](br, `!window.__pwned && !document.querySelector('main img, main script, main svg, main iframe') &&
		![...document.querySelectorAll('main *')].some((e) => [...e.attributes].some((a) => a.name.startsWith('on')))`); !ok {
		t.Fatal("hostile markup was drawn")
	}
}
