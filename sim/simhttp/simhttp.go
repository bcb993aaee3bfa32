// Package simhttp runs the gate's HTTP peers on loopback for the simulator:
// an IP camera's snapshot endpoint (basic or digest auth) and the park's
// face-match service, built from the drivers' fakes (cameratest,
// facematchtest). Both can be made down or slow; slowness runs on the
// scenario's clock.
//
// Only sim imports it.
package simhttp

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/device/camera/cameratest"
	"github.com/hazgate/hazgate/device/facematch/facematchtest"
)

// server is an HTTP server on a loopback port.
type server struct {
	srv    *http.Server
	url    string
	served chan struct{} // closed when Serve has returned
}

func listen(h http.Handler) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("simhttp: listen: %w", err)
	}
	s := &server{srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}, url: "http://" + ln.Addr().String(), served: make(chan struct{})}
	go func() { defer close(s.served); s.srv.Serve(ln) }()
	return s, nil
}

// close stops the server and waits for Serve, which returns as soon as
// Shutdown or Close has closed the listener.
func (s *server) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = s.srv.Close()
	}
	<-s.served
	return err
}

// Camera is a simulated IP camera.
type Camera struct {
	*cameratest.Camera
	s *server
}

// CameraConfig says how the camera is guarded.
type CameraConfig struct {
	// Auth is "none", "basic" or "digest"; Username and Password the
	// credentials it accepts.
	Auth, Username, Password string
	// Clock times slowness (the scenario's clock).
	Clock clock.Clock
}

// NewCamera starts a camera on loopback. It serves a synthetic JPEG at any
// path; SnapshotURL gives a realistic one.
func NewCamera(cfg CameraConfig) (*Camera, error) {
	fake := &cameratest.Camera{Auth: cfg.Auth, Username: cfg.Username, Password: cfg.Password, Clock: cfg.Clock}
	fake.SetJPEG(Portrait("live", false))
	s, err := listen(fake)
	if err != nil {
		return nil, err
	}
	return &Camera{Camera: fake, s: s}, nil
}

// SnapshotURL is what the lane's camera.snapshot_url is set to.
func (c *Camera) SnapshotURL() string { return c.s.url + "/ISAPI/Streaming/channels/101/picture" }

// Close stops the camera.
func (c *Camera) Close() error { return c.s.close() }

// Face is a simulated face-match service.
type Face struct {
	*facematchtest.Service
	s *server
}

// NewFace starts a face-match service on loopback; slowness runs on clk.
// Give each person a score with SetScore (no score set: no face found). It
// answers a synthetic card photo (Portrait) for everyone, as a service that
// decodes the card's WLT photo does.
func NewFace(clk clock.Clock) (*Face, error) {
	svc := &facematchtest.Service{Clock: clk, CardPhoto: func(idNumber string) []byte { return Portrait(idNumber, true) }}
	s, err := listen(svc)
	if err != nil {
		return nil, err
	}
	return &Face{Service: svc, s: s}, nil
}

// URL is what face_match.url is set to.
func (f *Face) URL() string { return f.s.url + "/v1/match" }

// Close stops the service.
func (f *Face) Close() error { return f.s.close() }

// Fault kinds for Inject: the scenario's `face: down|slow`.
const (
	FaultDown = "down"
	FaultSlow = "slow"
)

// Inject makes the service down, or slow (answering after slow, which should
// exceed the matcher's timeout), from now for d on clk (d <= 0: until
// changed by hand).
func (f *Face) Inject(clk clock.Clock, kind string, slow, d time.Duration) error {
	var end func()
	switch kind {
	case FaultDown:
		f.SetDown(true)
		end = func() { f.SetDown(false) }
	case FaultSlow:
		f.SetSlow(slow)
		end = func() { f.SetSlow(0) }
	default:
		return fmt.Errorf("simhttp: unknown face fault %q (down or slow)", kind)
	}
	if d > 0 {
		clk.AfterFunc(d, end)
	}
	return nil
}
