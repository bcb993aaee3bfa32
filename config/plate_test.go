package config

import (
	"strings"
	"testing"
	"time"
)

func withCamera(cam string) string {
	return strings.Replace(minimal, "direction: in", "direction: in\n    plate_camera: "+cam, 1)
}

func TestPlateCameraRefused(t *testing.T) {
	for _, tt := range []struct{ name, yaml, want string }{
		{"unknown format", withCamera("{format: axis, token: t1}"), `cfg.yaml:6: lanes[0].plate_camera.format: "axis" is not json, hikvision or dahua`},
		{"json without a token", withCamera("{format: json}"), "lanes[0].plate_camera.token: missing: a json camera sends its bearer token"},
		{"native with no way to know it", withCamera("{format: hikvision}"), "lanes[0].plate_camera: no way to know the camera"},
		{"username without password", withCamera("{format: dahua, username: cam}"), "lanes[0].plate_camera.password: digest needs a username and a password"},
		{"bad source", withCamera("{format: dahua, allow_from: [camera.local]}"), `lanes[0].plate_camera.allow_from[0]: "camera.local" is not an address`},
		{"token with a URL character", withCamera("{format: hikvision, token: 'a&b'}"), "lanes[0].plate_camera.token: has spaces or URL characters"},
		{"both plate_token and plate_camera", strings.Replace(withCamera("{format: hikvision, token: t1}"), "direction: in", "direction: in\n    plate_token: t0", 1), "lanes[0].plate_camera.token: the lane has plate_token too"},
		{"negative silence", withCamera("{format: dahua, allow_from: [10.0.0.9], silence: -1s}"), "lanes[0].plate_camera.silence: -1s is negative"},
		{"unknown key", withCamera("{format: dahua, allow_from: [10.0.0.9], colour: red}"), "lanes[0].plate_camera.colour: unknown key"},
		{"a token another lane has", withCamera("{format: hikvision, token: t1}") + strings.Replace(strings.Replace(strings.Replace(minimal[strings.Index(minimal, "  - name"):], "in-1", "in-2", 1), "direction: in", "direction: in\n    plate_token: t1", 1), "/dev/ttyUSB", "/dev/ttyACM", -1),
			"lanes[1].plate_token: the same token as lanes[0].plate_camera.token"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), "cfg.yaml")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

func TestPlateCameraTaken(t *testing.T) {
	c, err := Parse([]byte(withCamera("{format: hikvision, username: cam, password: pw, allow_from: [192.168.10.21, '192.168.11.0/24'], silence: 2m}")+"checks: {require_placard: true}\n"), "cfg.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cam := c.Lanes[0].PushCamera()
	if cam == nil || cam.Format != PlateHikvision || cam.Silence.D() != 2*time.Minute || len(cam.AllowedPrefixes()) != 2 || cam.AllowedPrefixes()[0].String() != "192.168.10.21/32" {
		t.Fatalf("camera %+v", cam)
	}
	if !c.Params().RequirePlacard {
		t.Fatal("require_placard not passed to the checks")
	}
	// plate_token alone is a json camera with that token; no camera, none.
	l := Lane{PlateToken: "t0"}
	if cam := l.PushCamera(); cam == nil || cam.Format != PlateJSON || cam.Token != "t0" {
		t.Fatalf("plate_token camera %+v", cam)
	}
	if (&Lane{}).PushCamera() != nil {
		t.Fatal("a lane without a camera takes pushes")
	}
}
