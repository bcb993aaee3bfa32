package kiosk

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hazgate/hazgate/health"
)

// The health page lists the camera and the face-match service beside the
// lanes' devices, with column headers, and says how long ago a state began
// in words ("N minutes ago"), in Chinese and in English.
func TestHealthPageInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test is not run with -short")
	}
	b := newBrowser(t)
	h := newHarnessWith(t, Config{}, harnessOptions{deps: func(d *Deps) { d.Devices = d.Lanes.(DeviceHealth) }}, "in-1")
	h.addOperator("值班员乙", RoleOperator, opPassword)
	began := h.gateClk.Now().Add(-5 * time.Minute)
	cam := health.New("in-1/camera", "camera", "in-1", "cannot be reached at 192.0.2.21:80", began)
	cam.Code, cam.DetailZH = "service_unreachable", "无法连接 192.0.2.21:80"
	h.gate.Lanes.SetDevice(cam)
	h.gate.Lanes.SetDevice(health.New("face_match", "facematch", "", "", began))

	b.do("sign in",
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(h.http.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("login-name")),
		chromedp.SetValue(chromedp.ID("login-name"), "值班员乙"),
		chromedp.SendKeys(chromedp.ID("login-password"), opPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#lane-in-1")))
	b.do("health page",
		chromedp.Click(chromedp.CSS(`#nav a[href="#/health"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#health tr[data-device="in-1/camera"]`)))
	b.waitTrue("camera in Chinese", `(() => {
		const row = document.querySelector('#health tr[data-device="in-1/camera"]');
		const face = document.querySelector('#health tr[data-device="face_match"]');
		const heads = [...document.querySelectorAll('#health .health-devices th')].map((th) => th.textContent);
		return row.textContent.includes('摄像机') && row.textContent.includes('无法连接 192.0.2.21:80') && row.querySelector('.since').textContent === '5 分钟前' &&
			face.textContent.includes('人脸比对服务') && face.textContent.includes('全闸口') &&
			heads.join('|') === '状态|设备|类型|车道|情况|自' &&
			document.querySelectorAll('#health .health-lanes th').length === 6;
	})()`)
	b.do("English", chromedp.Click(chromedp.ID("lang")))
	b.waitTrue("camera in English", `(() => {
		const row = document.querySelector('#health tr[data-device="in-1/camera"]');
		const heads = [...document.querySelectorAll('#health .health-devices th')].map((th) => th.textContent);
		return row && row.textContent.includes('Camera') && row.textContent.includes('cannot be reached at 192.0.2.21:80') && row.querySelector('.since').textContent === '5 minutes ago' &&
			heads.join('|') === 'Status|Device|Kind|Lane|State|Since' &&
			document.querySelector('#health').textContent.includes(' (1 hour ago)');
	})()`)
	if p := b.console(); len(p) > 0 {
		t.Fatalf("console errors: %v", p)
	}
}
