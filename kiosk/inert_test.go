package kiosk

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/health"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/store"
)

// Hostile strings: markup and script that would run if a page put them
// into its DOM as HTML rather than as text.
const (
	xImg    = `<img src=x onerror=window.__pwned=1>`
	xScript = `<script>window.__pwned=1</script>`
	xSvg    = `"><svg onload=window.__pwned=1>`
	xIframe = `<iframe src="javascript:window.__pwned=1"></iframe>`
)

// noInjection is true when the page holds no element or handler that a
// hostile string could have made: no img, svg, iframe or script in the
// body (the kiosk draws none), no on* attribute, and window.__pwned unset.
const noInjection = `(() => {
  if (window.__pwned !== undefined) return 'window.__pwned is set';
  const el = document.body.querySelector('img, svg, iframe, script, object, embed, [onerror], [onload], [src^="javascript"]');
  if (el) return 'injected element ' + el.outerHTML;
  for (const e of document.body.querySelectorAll('*')) {
    for (const a of e.attributes) if (a.name.startsWith('on')) return 'handler attribute ' + a.name + ' on ' + e.tagName;
  }
  return 'inert';
})()`

// hostileRegistry writes testdata/registry.yaml with hostile text where the
// registry still takes free text: a person's name, a carrier's name (on
// the vehicle and in the blacklist, with a hostile blacklist reason), and
// a good's name.
func hostileRegistry(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "registry.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	q := strconv.Quote
	s := strings.NewReplacer(
		"name: 测试三,", "name: "+q(xImg+"测试三")+",",
		"{plate: 浙B30002, kind: tractor,", "{plate: 浙B30002, kind: tractor, carrier: "+q(xSvg+"运输公司")+",",
		"name: 丙烷,", "name: "+q(xIframe+"丙烷")+",",
		"blacklist: []", "blacklist:\n  - {kind: carrier, value: "+q(xSvg+"运输公司")+", reason: "+q(xScript+"违规")+"}",
	).Replace(string(b))
	path := filepath.Join(t.TempDir(), "registry.yaml")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBrowserHostileTextIsInert loads the kiosk with hostile strings
// wherever free text can reach a screen (the gate's name, registry names,
// ID-card names, a camera's plate, typed reasons, stored records, device
// and broker health) and checks, on every page, that they show as text
// and made no element.
func TestBrowserHostileTextIsInert(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test is not run with -short")
	}
	b := newBrowser(t)
	gateName := xSvg + "演示园区"
	h := newHarnessWith(t, Config{Gate: gateName}, harnessOptions{
		registry: hostileRegistry(t),
		deps: func(d *Deps) {
			d.Devices = DevicesFunc(func() []health.Device {
				return []health.Device{
					health.New("in-1/idcard"+xImg, "idcard", "in-1", "reader says "+xScript, t0),
					health.New("in-1/scanner", "scanner"+xSvg, "in-1", "", t0),
				}
			})
			d.Broker = BrokerFunc(func() BrokerStatus {
				return BrokerStatus{URL: "tcp://" + xImg, LastError: xScript + "refused"}
			})
		},
	}, "in-1", "in-2", "in-3")
	h.addOperator("sup", RoleSupervisor, supPassword)

	// The hostile card name comes from the ID-card reader; the registry's
	// hostile name of 测试三 and carrier reach the screen through the
	// reject's reasons; the camera reads a hostile plate on in-3.
	hostileDriver := driver1
	hostileDriver.Name = xScript + "测试一"
	hostileEscort := escort2
	hostileEscort.Name = xIframe + "测试二"
	h.arrive("in-1", vehicle{plate: "浙B20001", trailer: "浙B2001挂", driver: &hostileDriver, escort: &hostileEscort, waybill: "YD3302002603150101"})
	h.arrive("in-2", rejectVehicle)
	h.send("in-3", lane.VehiclePresent{}, lane.PlateRead{Plate: xImg, Trailer: xSvg, Confidence: 1})

	// A record written straight into the store (the registry would refuse
	// these plates): every free-text field hostile.
	hostileRecord(t, h)

	b.do("sign-in page",
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(h.http.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("login-name")))
	// A hostile name typed at the sign-in fails as text.
	b.do("hostile sign-in",
		chromedp.SetValue(chromedp.ID("login-name"), xImg),
		chromedp.SendKeys(chromedp.ID("login-password"), "wrong-password-1"),
		chromedp.Click(chromedp.ID("login-submit")))
	b.waitTrue("sign-in refused", `document.querySelector('#login-error').textContent !== ''`)
	b.inert("sign-in page", "账号或密码错误")

	b.waitTrue("clear the password", `(document.getElementById('login-password').value = '', true)`)
	b.do("sign in",
		chromedp.SetValue(chromedp.ID("login-name"), "sup"),
		chromedp.SendKeys(chromedp.ID("login-password"), supPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#lane-in-1")),
		chromedp.WaitVisible(chromedp.CSS("#conn.live")),
		chromedp.WaitVisible(chromedp.CSS("#lane-in-2 .verdict.verdict-reject")))
	b.waitTrue("in-3's plate", `document.querySelector('#lane-in-3 .plate')?.textContent === `+strconv.Quote(xImg))
	b.inert("lanes page", xScript+"测试一", xIframe+"测试二", xImg, xSvg, xSvg+"运输公司", xScript+"违规")
	b.fits(1280, 800) // long hostile words wrap rather than widen the page

	// Reasons typed by the operator: the refusal of the reject.
	in2 := h.runner("in-2").Snapshot().InspectionID
	b.do("refuse with a hostile reason",
		chromedp.SetValue(chromedp.CSS("#lane-in-2 textarea.decision-reason"), xSvg+xScript),
		chromedp.Click(chromedp.CSS("#lane-in-2 button.refuse")))
	b.waitTrue("refusal recorded", `document.querySelector('#lane-in-2 .status')?.textContent !== ''`)
	h.send("in-2")
	if ds, err := h.st.Decisions(context.Background(), in2); err != nil || len(ds) != 1 || ds[0].Reason != xSvg+xScript {
		t.Fatalf("decisions %+v %v", ds, err)
	}
	b.inert("lanes page after the refusal")

	// The lock-down dialog, with a hostile reason.
	b.do("lock down",
		chromedp.Click(chromedp.ID("lockdown")),
		chromedp.WaitVisible(chromedp.ID("lockdown-reason")),
		chromedp.SetValue(chromedp.ID("lockdown-reason"), xImg),
		chromedp.Click(chromedp.ID("lockdown-confirm")),
		chromedp.WaitVisible(chromedp.ID("lockdown-banner")),
		// The banner can arrive over the live stream before the answer
		// to the request closes the modal dialog, which keeps every
		// click off the page until it goes.
		chromedp.WaitNotPresent(chromedp.ID("lockdown-reason")))
	b.inert("lanes page in lock-down")

	// The history: every record, the hostile one among them.
	b.do("history",
		chromedp.Click(chromedp.CSS(`#nav a[href="#/history"]`)),
		chromedp.WaitVisible(chromedp.ID("search-plate")),
		chromedp.Click(chromedp.ID("search-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#results tr[data-id="`+in2+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#results tr[data-id="`+hostileID+`"]`)))
	b.inert("history page", hostileRecordPlate, xSvg+"挂", xScript+"测试五", "@"+xImg)
	b.fits(1280, 800)

	// The inspection pages: the refused reject (registry names, the
	// carrier's reasons, the typed reason in decisions and audit) and the
	// stored record.
	for _, tc := range []struct {
		id   string
		want []string
	}{
		{in2, []string{xSvg + xScript, xSvg + "运输公司", xScript + "违规"}},
		{hostileID, []string{hostileRecordPlate, xSvg + "挂", xScript + "测试五", xImg + "测试六", "@" + xImg}},
	} {
		b.do("inspection "+tc.id,
			chromedp.Navigate(h.http.URL+"/#/inspection/"+tc.id),
			chromedp.WaitVisible(chromedp.ID("audit")))
		b.inert("inspection page "+tc.id, tc.want...)
	}

	b.do("health",
		chromedp.Click(chromedp.CSS(`#nav a[href="#/health"]`)),
		chromedp.WaitVisible(chromedp.CSS("#health .health-item")))
	b.waitTrue("devices listed", `document.querySelector('#health')?.textContent.includes('reader says')`)
	b.inert("health page", "in-1/idcard"+xImg, "reader says "+xScript, "scanner"+xSvg, "tcp://"+xImg, xScript+"refused")

	// The browser logs the refused sign-in's 401; anything else fails.
	var problems []string
	for _, p := range b.console() {
		if !strings.Contains(p, "/api/v1/login") || !strings.Contains(p, "401") {
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		t.Fatalf("JavaScript console errors:\n%v", problems)
	}
}

// inert checks the page holds no injected element and shows each of texts
// literally (as text, not as markup).
func (b *browser) inert(page string, texts ...string) {
	b.t.Helper()
	for _, s := range texts {
		b.waitTrue(page+": shows "+s, `document.body.textContent.includes(`+strconv.Quote(s)+`) || document.title.includes(`+strconv.Quote(s)+`)`)
	}
	if got := eval[string](b, noInjection); got != "inert" {
		b.failed(page)
		b.t.Fatalf("%s: %s", page, got)
	}
}

const (
	hostileID          = "01HOSTILE0000000000000000A"
	hostileRecordPlate = "=" + `<img src=x onerror=window.__pwned=1>`
)

// hostileRecord commits a decided inspection whose every free-text field
// is hostile, as a registry that let anything through, or a tampered
// record, would leave it.
func hostileRecord(t *testing.T, h *harness) {
	t.Helper()
	at := t0.Add(10 * time.Minute)
	ins := &store.Inspection{
		ID: hostileID, Gate: "test-gate", Lane: "in-1", Direction: lane.DirectionIn,
		Evidence: checks.Evidence{
			Lane: "in-1", Arrived: at.Add(-time.Minute), Plate: hostileRecordPlate, Trailer: xSvg + "挂",
			Driver:  &checks.PersonEvidence{IDNumber: driver3.IDNumber, Name: xScript + "测试五"},
			Escort:  &checks.PersonEvidence{IDNumber: escort4.IDNumber, Name: xImg + "测试六"},
			Waybill: "@" + xImg,
		},
		Outcome: checks.Outcome{Verdict: checks.VerdictReject, Checks: []checks.CheckResult{
			{ID: checks.ParkRules, Result: checks.Fail, Reasons: []checks.Reason{checks.NewReason(checks.ReasonBlacklisted, "carrier", xSvg+" "+xScript)}},
		}},
		DecidedBy: store.ActorSystem, ArrivedAt: at.Add(-time.Minute), DecidedAt: at,
	}
	if err := h.st.CommitInspection(context.Background(), ins); err != nil {
		t.Fatal(err)
	}
}

// TestExportNeutralisesFormulas exports a day whose records hold cells
// that a spreadsheet would run as formulas, and reads them back: each
// starts with an apostrophe, and nothing else changed.
func TestExportNeutralisesFormulas(t *testing.T) {
	h := newHarness(t, Config{}, "in-1")
	h.addOperator("op", RoleOperator, opPassword)
	cells := map[string]string{
		"plate":       "=HYPERLINK(\"http://x\",\"浙B1\")",
		"trailer":     "+86-1",
		"driver_name": "-2+3+cmd|' /C calc'!A0",
		"escort_name": "@SUM(1+1)*cmd|' /C calc'!A0",
		"waybill":     "\t=1+1",
	}
	at := t0.Add(10 * time.Minute)
	ins := &store.Inspection{
		Gate: "test-gate", Lane: "in-1", Direction: lane.DirectionIn,
		Evidence: checks.Evidence{
			Lane: "in-1", Arrived: at.Add(-time.Minute), Plate: cells["plate"], Trailer: cells["trailer"],
			Driver:  &checks.PersonEvidence{IDNumber: driver1.IDNumber, Name: cells["driver_name"]},
			Escort:  &checks.PersonEvidence{IDNumber: escort2.IDNumber, Name: cells["escort_name"]},
			Waybill: cells["waybill"],
		},
		Outcome:   checks.Outcome{Verdict: checks.VerdictReject, Checks: []checks.CheckResult{{ID: checks.ParkRules, Result: checks.Fail}}},
		DecidedBy: "\r=cmd", ArrivedAt: at.Add(-time.Minute), DecidedAt: at,
	}
	cells["decided_by"] = "\r=cmd"
	if err := h.st.CommitInspection(context.Background(), ins); err != nil {
		t.Fatal(err)
	}
	a := h.client().mustLogin("op", opPassword).do("GET", "/api/v1/export?date=2026-03-15", nil)
	if a.status != 200 {
		t.Fatalf("export = %d %s", a.status, a.body)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(a.body), "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("rows %q", rows)
	}
	for i, name := range csvKeys {
		want, ok := cells[name]
		if !ok {
			continue
		}
		if got := rows[1][i]; got != "'"+want {
			t.Errorf("%s = %q, want %q", name, got, "'"+want)
		}
		delete(cells, name)
	}
	if len(cells) > 0 {
		t.Errorf("columns not in the export: %v", cells)
	}
	for i, c := range rows[1] {
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			t.Errorf("%s = %q starts with a formula character", csvKeys[i], c)
		}
	}
}
