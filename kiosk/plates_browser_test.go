package kiosk

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/device/plate"
	"github.com/hazgate/hazgate/lane"
)

// latePush is the gate's plate push endpoint, known only once the harness
// has assembled the gate.
type latePush struct{ h *plate.Handler }

func (p *latePush) ServeHTTP(w http.ResponseWriter, r *http.Request)   { p.h.ServeHTTP(w, r) }
func (p *latePush) ServeNative(w http.ResponseWriter, r *http.Request) { p.h.ServeNative(w, r) }

// TestBrowserPlateCamera holds a vehicle whose camera read a yellow plate
// and saw no danger placard, with its plate and scene pictures: the lane
// shows the colour and the missing placard to the operator; the inspection
// page shows them and the two pictures, each view audited, in zh and en.
// The vendors' push path reaches the push endpoint without a session.
// With HAZGATE_SCREENSHOTS=1 it writes docs/kiosk-plate.png.
func TestBrowserPlateCamera(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test is not run with -short")
	}
	push := &latePush{}
	h := newHarness(t, Config{Gate: "演示园区 1号门", PlatePush: push}, "in-1")
	push.h = h.gate.PlatePush
	plateJPEG, err := os.ReadFile("../device/plate/testdata/plate.jpg")
	if err != nil {
		t.Fatal(err)
	}
	sceneJPEG, err := os.ReadFile("../device/plate/testdata/scene.jpg")
	if err != nil {
		t.Fatal(err)
	}

	// The native path is the push endpoint's, not the kiosk's: no session
	// is asked for, and a lane without a Hikvision or Dahua camera takes
	// nothing.
	a := h.client().do(http.MethodPost, "/api/v1/cameras/in-1/", plate.ISAPIHeartbeat())
	if a.status != http.StatusNotFound || !strings.Contains(string(a.body), "takes no Hikvision or Dahua pushes") {
		t.Fatalf("native push path: %d %s", a.status, a.body)
	}

	b := newBrowser(t)
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

	no := false
	v := reviewVehicle
	h.send("in-1", lane.VehiclePresent{}, lane.PlateRead{Plate: v.plate, Trailer: v.trailer, Confidence: 0.97, Color: "yellow", Placard: &no,
		Pictures: &checks.PlatePictures{Plate: plateJPEG, Scene: sceneJPEG}})
	v.plate = "" // read above, by the camera
	h.arrive("in-1", v)
	b.do("held for review", chromedp.WaitVisible(chromedp.CSS("#lane-in-1 .verdict.verdict-review")))
	b.waitTrue("colour and placard on the lane", `(() => {
		const c = document.querySelector('#lane-in-1 .plates .plate-color');
		const p = document.querySelector('#lane-in-1 .plates .placard-missing');
		return c && c.dataset.color === 'yellow' && c.textContent === '黄牌' && p && p.textContent === '⚠ 未见危险品标志';
	})()`)
	id := h.runner("in-1").Snapshot().InspectionID
	h.gate.Keeper.WaitFaces()

	b.do("inspection page", chromedp.Navigate(h.http.URL+"/#/inspection/"+id), chromedp.WaitVisible(chromedp.ID("outcome")))
	b.waitTrue("both plate pictures", `[...document.querySelectorAll('#inspection .plate-pictures img')].filter((i) => i.complete && i.naturalWidth > 0).length === 2`)
	b.waitTrue("what the camera saw, in Chinese", `document.getElementById('plate-seen').textContent === '黄牌 · 未见危险品标志' &&
		document.querySelector('#inspection h1 .plate-color').textContent === '黄牌' &&
		[...document.querySelectorAll('#inspection .plate-picture figcaption')].map((f) => f.textContent).join('|') === '车牌特写|车辆全景'`)
	b.allGlyphs("plate pictures on the inspection page, Chinese", 80)
	b.do("taller", chromedp.EmulateViewport(1280, 1100))
	b.screenshot("kiosk-plate.png", false)

	// The pictures: the session's, JPEG, never cached, the camera's bytes.
	c := h.client().mustLogin("操作员甲", opPassword)
	a = c.do(http.MethodGet, "/api/v1/inspections/"+id+"/plate-pictures/plate", nil)
	if a.status != http.StatusOK || a.header.Get("Content-Type") != "image/jpeg" || a.header.Get("Cache-Control") != "no-store" || string(a.body) != string(plateJPEG) {
		t.Fatalf("plate picture: %d %v, %d bytes", a.status, a.header, len(a.body))
	}
	if a := h.client().do(http.MethodGet, "/api/v1/inspections/"+id+"/plate-pictures/plate", nil); a.status != http.StatusUnauthorized {
		t.Fatalf("without a session: %d", a.status)
	}
	if a := c.do(http.MethodGet, "/api/v1/inspections/"+id+"/plate-pictures/face_driver", nil); a.status != http.StatusNotFound {
		t.Fatalf("a face through the plate pictures: %d", a.status)
	}
	views := map[string]int{}
	es, err := h.st.AuditFor(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.Action == "plate_picture.viewed" {
			var d struct{ Image string }
			json.Unmarshal(e.Detail, &d)
			views[d.Image]++
		}
	}
	if views["plate"] != 2 || views["plate_scene"] != 1 {
		t.Fatalf("views %v", views)
	}
	b.do("English", chromedp.Click(chromedp.ID("lang")))
	b.waitTrue("what the camera saw, in English", `document.getElementById('plate-seen')?.textContent === 'Yellow plate · No danger placard seen'`)
	b.waitTrue("the pictures drawn again in English", `[...document.querySelectorAll('#inspection .plate-pictures img')].filter((i) => i.complete && i.naturalWidth > 0).length === 2 && [...document.querySelectorAll('#inspection .faces img')].every((i) => i.complete)`)
	// Purged with the face images after the retention period.
	if n, err := h.st.PurgeMedia(context.Background(), h.gateClk.Now().Add(time.Hour)); err != nil || n != 2 {
		t.Fatalf("purge: %d, %v", n, err)
	}
	b.do("inspection page after the purge", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("outcome")))
	b.waitTrue("purged, in English", `document.querySelector('#inspection .plates-purged')?.textContent === 'The plate pictures were purged after the retention period' && !document.querySelector('#inspection .plate-pictures img')`)
	if p := b.console(); len(p) > 0 {
		t.Fatalf("JavaScript console errors:\n%v", p)
	}
}
