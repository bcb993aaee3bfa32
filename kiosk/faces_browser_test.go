package kiosk

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hazgate/hazgate/device/camera"
	"github.com/hazgate/hazgate/device/facematch"
	"github.com/hazgate/hazgate/gate"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/sim/simhttp"
)

// faceHarness is a gate whose lane in-1 has the real camera and face-match
// drivers on the simulated camera and service (loopback HTTP), which
// answer a drawn placeholder card photo. The driver scores 0.88; the
// escort's face is not found (no score), so the vehicle is held for
// review.
func faceHarness(t *testing.T) *harness {
	t.Helper()
	const user, password = "admin", "hazgate-test"
	cam, err := simhttp.NewCamera(simhttp.CameraConfig{Auth: camera.AuthDigest, Username: user, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cam.Close() })
	svc, err := simhttp.NewFace(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	score := 0.88
	svc.SetScore(driver1.IDNumber, &score)
	drv, err := camera.New(camera.Config{URL: cam.SnapshotURL(), Username: user, Password: password, Auth: camera.AuthDigest})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarnessWith(t, Config{Gate: "演示园区 1号门"}, harnessOptions{faces: func(l *gate.Lane) lane.FaceMatcher {
		return facematch.New(facematch.Config{URL: svc.URL(), Timeout: 10 * time.Second, Photos: l.Gate().Photos,
			Cameras: func(string) facematch.Camera { return drv }})
	}}, "in-1")
	// The cards' WLT photos, as the readers would have kept them.
	for _, p := range []string{driver1.IDNumber, escort2.IDNumber} {
		h.gate.Photos.Put("in-1", p, []byte("WLT placeholder"))
	}
	return h
}

// imagesLoaded is a script: the number of face images under sel that the
// browser has loaded and decoded.
func imagesLoaded(sel string) string {
	return `[...document.querySelectorAll('` + sel + ` .faces img')].filter((i) => i.complete && i.naturalWidth > 0).length`
}

// TestBrowserFaces holds a vehicle whose face service gave no score for the
// escort, shows the live snapshots and the card photos side by side on the
// lane and on the inspection page to a signed-in operator, releases it,
// and finds every view in the audit trail; the images are served only with
// a session and never cached. After the purge the page says so, in zh and
// en. With HAZGATE_SCREENSHOTS=1 it writes docs/kiosk-faces.png.
func TestBrowserFaces(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test is not run with -short")
	}
	b := newBrowser(t)
	h := faceHarness(t)
	h.addOperator("操作员甲", RoleOperator, opPassword)
	b.do("sign in",
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(h.http.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("login-name")),
		chromedp.SetValue(chromedp.ID("login-name"), "操作员甲"),
		chromedp.SendKeys(chromedp.ID("login-password"), opPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#lane-in-1")),
		chromedp.WaitVisible(chromedp.CSS("#conn.live")))

	h.arrive("in-1", reviewVehicle)
	b.do("held for review", chromedp.WaitVisible(chromedp.CSS("#lane-in-1 .verdict.verdict-review")))
	id := h.runner("in-1").Snapshot().InspectionID
	if id == "" {
		t.Fatal("no inspection held")
	}
	b.waitTrue("both pairs of images on the lane", imagesLoaded("#lane-in-1")+` === 4`)
	b.waitTrue("the card's facts and the scores", `(() => {
		const d = document.querySelector('#lane-in-1 .face-pair[data-person="driver"]');
		const e = document.querySelector('#lane-in-1 .face-pair[data-person="escort"]');
		return d.querySelector('.face-head').textContent === '驾驶员测试一 · 男 · 1986年生 · **************0110' &&
			d.querySelector('.face-score').textContent === '人脸比对：0.88' &&
			e.querySelector('.face-head').textContent === '押运员测试二 · 女 · 1987年生 · **************0126' &&
			e.querySelector('.face-score').textContent === '人脸比对：无结果';
	})()`)
	b.allGlyphs("faces on the lane, Chinese", 80)
	b.do("taller", chromedp.EmulateViewport(1280, 1000))
	b.screenshot("kiosk-faces.png", false)

	// The images: the session's, JPEG, never cached; nobody else's.
	c := h.client().mustLogin("操作员甲", opPassword)
	a := c.do(http.MethodGet, "/api/v1/inspections/"+id+"/faces/card_escort", nil)
	if a.status != http.StatusOK || a.header.Get("Content-Type") != "image/jpeg" || a.header.Get("Cache-Control") != "no-store" || len(a.body) < 100 {
		t.Fatalf("card photo: %d %v, %d bytes", a.status, a.header, len(a.body))
	}
	if a := h.client().do(http.MethodGet, "/api/v1/inspections/"+id+"/faces/card_escort", nil); a.status != http.StatusUnauthorized || len(a.body) > 200 {
		t.Fatalf("without a session: %d, %d bytes", a.status, len(a.body))
	}
	if a := c.do(http.MethodGet, "/api/v1/inspections/"+id+"/faces/passport", nil); a.status != http.StatusNotFound {
		t.Fatalf("an unknown kind: %d", a.status)
	}

	b.do("release",
		chromedp.SetValue(chromedp.CSS("#lane-in-1 textarea.decision-reason"), "人证对比：与身份证照片一致"),
		chromedp.Click(chromedp.CSS("#lane-in-1 button.release")),
		chromedp.WaitVisible(chromedp.CSS("#lane-in-1 .phase-open")))
	b.waitTrue("faces gone from the released lane", `!document.querySelector('#lane-in-1 .faces')`)

	b.do("inspection page", chromedp.Navigate(h.http.URL+"/#/inspection/"+id), chromedp.WaitVisible(chromedp.ID("outcome")))
	b.waitTrue("both pairs of images on the inspection page", imagesLoaded("#inspection")+` === 4`)

	// Every view is an audit row: who, which inspection, which image. The
	// lane showed four, the API client one, the inspection page four.
	views := map[string]int{}
	es, err := h.st.AuditFor(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.Action != "face.viewed" {
			continue
		}
		var d struct{ Image string }
		json.Unmarshal(e.Detail, &d)
		if e.Actor != "operator:操作员甲" {
			t.Fatalf("a view by %q", e.Actor)
		}
		views[d.Image]++
	}
	want := map[string]int{"face_driver": 2, "card_driver": 2, "face_escort": 2, "card_escort": 3}
	for k, n := range want {
		if views[k] != n {
			t.Fatalf("views %v, want %v", views, want)
		}
	}
	b.do("inspection page again", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("outcome")))
	b.waitTrue("views in the audit trail, in words", `[...document.querySelectorAll('#audit tbody tr[data-action="face.viewed"]')].some((r) => r.cells[4].textContent.startsWith('图像：押运员身份证照片'))`)

	// After the retention period the images are purged, and the page says so.
	if n, err := h.st.PurgeMedia(context.Background(), h.gateClk.Now().Add(time.Hour)); err != nil || n != 4 {
		t.Fatalf("purge: %d, %v", n, err)
	}
	b.do("inspection page after the purge", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("outcome")))
	b.waitTrue("purged, in Chinese", `document.querySelector('#inspection .faces-purged')?.textContent === '人脸图像已按保留期限清除' && !document.querySelector('#inspection .faces img')`)
	b.do("English", chromedp.Click(chromedp.ID("lang")))
	b.waitTrue("purged, in English", `document.querySelector('#inspection .faces-purged')?.textContent === 'The face images were purged after the retention period'`)
	if a := c.do(http.MethodGet, "/api/v1/inspections/"+id+"/faces/card_escort", nil); a.status != http.StatusNotFound || !strings.Contains(string(a.body), "purged") {
		t.Fatalf("a purged image: %d %s", a.status, a.body)
	}
	if p := b.console(); len(p) > 0 {
		t.Fatalf("JavaScript console errors:\n%v", p)
	}
}
