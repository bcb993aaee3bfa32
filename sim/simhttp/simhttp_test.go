package simhttp_test

import (
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/device/camera"
	"github.com/hazgate/hazgate/device/facematch"
	"github.com/hazgate/hazgate/sim/simhttp"
)

// TestCameraAndFace runs the real camera and face-match drivers against the
// simulated services on loopback.
func TestCameraAndFace(t *testing.T) {
	cam, err := simhttp.NewCamera(simhttp.CameraConfig{Auth: "digest", Username: "hazgate", Password: "sim"})
	if err != nil {
		t.Fatal(err)
	}
	defer cam.Close()
	face, err := simhttp.NewFace(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer face.Close()
	c, err := camera.New(camera.Config{URL: cam.SnapshotURL(), Auth: camera.AuthDigest, Username: "hazgate", Password: "sim"})
	if err != nil {
		t.Fatal(err)
	}
	photos := facematch.NewPhotos(8)
	photos.Put("in-1", "990001198001010019", []byte("WLphoto"))
	m := facematch.New(facematch.Config{URL: face.URL(), Photos: photos, Timeout: 5 * time.Second,
		Cameras: func(string) facematch.Camera { return c }})
	s := 0.91
	face.SetScore("990001198001010019", &s)
	ch := make(chan *float64, 1)
	m.Match(context.Background(), "in-1", checks.PersonEvidence{IDNumber: "990001198001010019"}, func(s *float64) { ch <- s })
	if got := <-ch; got == nil || *got != 0.91 {
		t.Fatalf("score %v", got)
	}
	// The synthetic pictures are kept for the inspection, and decode.
	live, card, ok := photos.TakeFaces("in-1", "990001198001010019")
	if !ok {
		t.Fatal("no faces kept")
	}
	for name, b := range map[string][]byte{"live": live, "card": card} {
		img, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s picture: %v", name, err)
		}
		if w := img.Bounds().Dx(); (name == "card") != (w == 102) {
			t.Fatalf("%s picture is %d wide", name, w)
		}
	}
	face.Inject(clock.Real{}, simhttp.FaultDown, 0, 0)
	if _, err := m.Score(context.Background(), "in-1", "990001198001010019"); !errors.Is(err, facematch.ErrNoScore) {
		t.Fatalf("down: %v", err)
	}
	face.SetDown(false)
	cam.SetDown(true)
	if _, err := m.Score(context.Background(), "in-1", "990001198001010019"); !errors.Is(err, facematch.ErrNoLive) {
		t.Fatalf("camera down: %v", err)
	}
}
