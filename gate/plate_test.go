package gate

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/config"
	"github.com/hazgate/hazgate/device/plate"
	"github.com/hazgate/hazgate/lane"
)

// A Hikvision camera's pushes reach its lane with the plate's colour and
// danger mark; a camera that stops its heartbeat for plate_camera.silence
// (and the fault window) is in fault, and works again when heard.
func TestPlateCameraPushesAndSilence(t *testing.T) {
	cfg := testConfig(t)
	cfg.Lanes[0].PlateToken = ""
	cfg.Lanes[0].PlateCamera = &config.PlateCamera{Format: config.PlateHikvision, AllowFrom: []string{"192.0.2.0/24"}, Silence: config.Duration(time.Minute)}
	clk := clock.NewFake(t0)
	g, err := Assemble(context.Background(), cfg, openStore(t, cfg, clk), &testHardware{}, Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	run(t, g)
	l := g.Lane("in-1")
	l.BarrierState(lane.BarrierClosed)
	l.SafetyLoop(false)
	l.ArrivalLoop(true)
	push := func(ctype string, body []byte) int {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/cameras/in-1/", bytes.NewReader(body)) // from 192.0.2.1
		req.Header.Set("Content-Type", ctype)
		rec := httptest.NewRecorder()
		g.PlatePush.ServeNative(rec, req)
		return rec.Code
	}
	health := func() (ok bool, detail string) {
		t.Helper()
		sync1(t, l)
		for _, d := range g.Lanes.Devices() {
			if d.Name == "in-1/plate_camera" {
				return d.OK, d.Detail
			}
		}
		t.Fatal("no health for in-1/plate_camera")
		return
	}
	if code := push("application/xml", plate.ISAPIHeartbeat()); code != http.StatusOK {
		t.Fatalf("heartbeat: %d", code)
	}
	if ok, _ := health(); !ok {
		t.Fatal("camera heard from is not working")
	}
	clk.Advance(time.Minute)
	clk.Advance(DefaultFaultWindow)
	if ok, detail := health(); ok || detail != "Plate camera in-1/plate_camera does not answer" {
		t.Fatalf("silent camera: ok=%v %q", ok, detail)
	}
	if s := sync1(t, l); len(s.Faults) != 1 {
		t.Fatalf("lane faults %v", s.Faults)
	}
	ct, body := plate.ISAPIMultipart(plate.ISAPIAlert("浙B12345", "yellow", 97, "no", false, false), nil, nil)
	if code := push(ct, body); code != http.StatusOK {
		t.Fatalf("read: %d", code)
	}
	if ok, _ := health(); !ok {
		t.Fatal("camera still in fault after a push")
	}
	s := sync1(t, l)
	if s.Evidence.Plate != "浙B12345" || s.Evidence.PlateColor != "yellow" || s.Evidence.Placard == nil || *s.Evidence.Placard || len(s.Faults) != 0 {
		t.Fatalf("lane: %+v faults %v", s.Evidence, s.Faults)
	}
	// From another address: refused, nothing reaches the lane, and the
	// camera is not thereby heard from.
	req := httptest.NewRequest(http.MethodPost, "/api/v1/cameras/in-1/", bytes.NewReader(plate.ISAPIHeartbeat()))
	req.RemoteAddr = "198.51.100.7:4000"
	rec := httptest.NewRecorder()
	g.PlatePush.ServeNative(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Fatalf("another source: %d", rec.Code)
	}
}
