package camera_test

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/device/camera"
	"github.com/hazgate/hazgate/device/camera/cameratest"
)

func TestSnapshot(t *testing.T) {
	pic := cameratest.JPEG(7)
	for _, c := range []struct {
		name      string
		fake      *cameratest.Camera
		cfg       camera.Config
		want      error
		staleOnce bool
	}{
		{"no auth", &cameratest.Camera{}, camera.Config{}, nil, false},
		{"basic", &cameratest.Camera{Auth: "basic", Username: "hazgate", Password: "s3cret"},
			camera.Config{Auth: camera.AuthBasic, Username: "hazgate", Password: "s3cret"}, nil, false},
		{"basic, wrong password", &cameratest.Camera{Auth: "basic", Username: "hazgate", Password: "s3cret"},
			camera.Config{Auth: camera.AuthBasic, Username: "hazgate", Password: "nope"}, camera.ErrUnauthorized, false},
		{"digest MD5", &cameratest.Camera{Auth: "digest", Username: "hazgate", Password: "s3cret"},
			camera.Config{Auth: camera.AuthDigest, Username: "hazgate", Password: "s3cret"}, nil, false},
		{"digest SHA-256 with a stale nonce", &cameratest.Camera{Auth: "digest", Algorithm: "SHA-256", Username: "hazgate", Password: "s3cret"},
			camera.Config{Auth: camera.AuthDigest, Username: "hazgate", Password: "s3cret"}, nil, true},
		{"digest, wrong password", &cameratest.Camera{Auth: "digest", Username: "hazgate", Password: "s3cret"},
			camera.Config{Auth: camera.AuthDigest, Username: "hazgate", Password: "nope"}, camera.ErrUnauthorized, false},
		{"digest camera, basic configured", &cameratest.Camera{Auth: "digest", Username: "hazgate", Password: "s3cret"},
			camera.Config{Auth: camera.AuthBasic, Username: "hazgate", Password: "s3cret"}, camera.ErrUnauthorized, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.fake.SetJPEG(pic)
			srv := httptest.NewServer(c.fake)
			defer srv.Close()
			c.cfg.URL = srv.URL + "/ISAPI/Streaming/channels/101/picture?snapShotImageType=JPEG"
			cam, err := camera.New(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 3; i++ {
				if c.staleOnce && i == 1 {
					c.fake.StaleNonces()
				}
				got, err := cam.Snapshot(context.Background())
				if !errors.Is(err, c.want) || (c.want == nil && !bytes.Equal(got, pic)) {
					t.Fatalf("snapshot %d: %d bytes, %v; want %v", i, len(got), err, c.want)
				}
				if err != nil && !errors.Is(err, camera.ErrUnavailable) {
					t.Fatalf("%v is not classified", err)
				}
			}
			if served, refused := c.fake.Served(); c.want == nil && c.cfg.Auth == camera.AuthDigest && refused > 1+btoi(c.staleOnce) {
				t.Fatalf("digest challenge not reused: %d served, %d refused", served, refused)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestSnapshotFailures(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC))
	fake := &cameratest.Camera{Clock: clk}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	cam, _ := camera.New(camera.Config{URL: srv.URL + "/snap.jpg", Timeout: 2 * time.Second, Clock: clk})
	fake.SetDown(true)
	if _, err := cam.Snapshot(context.Background()); !errors.Is(err, camera.ErrStatus) {
		t.Fatalf("down: %v", err)
	}
	fake.SetDown(false)
	fake.SetJPEG([]byte("<html>login</html>"))
	if _, err := cam.Snapshot(context.Background()); !errors.Is(err, camera.ErrNotJPEG) {
		t.Fatalf("not a JPEG: %v", err)
	}
	fake.SetJPEG(nil)
	fake.SetSlow(10 * time.Second)
	done := make(chan error)
	go func() { _, err := cam.Snapshot(context.Background()); done <- err }()
	// Two timers are set on the clock: the snapshot's timeout and the
	// camera's delay; the timeout fires first.
	bound := time.After(10 * time.Second)
	for clk.Pending() < 2 {
		select {
		case err := <-done:
			t.Fatalf("returned early: %v", err)
		case <-bound:
			t.Fatal("the request never reached the camera")
		case <-time.After(time.Millisecond):
		}
	}
	clk.Advance(2 * time.Second)
	select {
	case err := <-done:
		if !errors.Is(err, camera.ErrTimeout) {
			t.Fatalf("slow: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the timeout did not end the snapshot")
	}
	// The caller's own end is told apart from a camera that is down.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := cam.Snapshot(ctx); !errors.Is(err, camera.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v, want ErrUnavailable and context.Canceled", err)
	}
	if _, err := camera.New(camera.Config{URL: srv.URL, Auth: "ntlm"}); err == nil {
		t.Fatal("unknown auth accepted")
	}
}
