package facematch_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/device/camera"
	"github.com/hazgate/hazgate/device/camera/cameratest"
	"github.com/hazgate/hazgate/device/facematch"
	"github.com/hazgate/hazgate/device/facematch/facematchtest"
)

const id = "990001198001010019"

type fakeCam struct{ err error }

func (c fakeCam) Snapshot(context.Context) ([]byte, error) { return cameratest.JPEG(3), c.err }

func setup(t *testing.T, clk clock.Clock) (*facematchtest.Service, *facematch.Matcher) {
	t.Helper()
	svc := &facematchtest.Service{Clock: clk}
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	photos := facematch.NewPhotos(8)
	photos.Put("in-1", id, []byte("WLphoto"))
	photos.Put("in-2", id, []byte("WLphoto"))
	m := facematch.New(facematch.Config{URL: srv.URL + "/v1/match", Timeout: 3 * time.Second, Clock: clk, Photos: photos,
		Cameras: func(lane string) facematch.Camera {
			if lane == "in-1" {
				return fakeCam{}
			}
			return nil
		}})
	return svc, m
}

func TestScore(t *testing.T) {
	svc, m := setup(t, nil)
	s := 0.93
	svc.SetScore(id, &s)
	got, err := m.Score(context.Background(), "in-1", id)
	if err != nil || got != 0.93 {
		t.Fatalf("got %v %v", got, err)
	}
	req := svc.Requests()[0]
	if req.IDNumber != id || string(req.CardPhotoWLT) != "WLphoto" || len(req.LiveJPEG) == 0 || req.RequestID == "" {
		t.Fatalf("request %+v", req)
	}
	// Through the lane's interface: done is called once, from elsewhere.
	ch := make(chan *float64, 2)
	m.Match(context.Background(), "in-1", checks.PersonEvidence{IDNumber: id}, func(s *float64) { ch <- s })
	if got := <-ch; got == nil || *got != 0.93 {
		t.Fatalf("Match gave %v", got)
	}
}

func TestNoScore(t *testing.T) {
	for _, c := range []struct {
		name     string
		set      func(*facematchtest.Service)
		lane, id string
		want     error
		requests int
	}{
		{"no face found: not retried", func(s *facematchtest.Service) {}, "in-1", id, facematch.ErrNoFace, 1},
		{"service down: retried once", func(s *facematchtest.Service) { s.SetDown(true) }, "in-1", id, facematch.ErrUnreachable, 0},
		{"malformed answer: retried once", func(s *facematchtest.Service) { v := 0.9; s.SetScore(id, &v); s.SetMalformed(true) }, "in-1", id, facematch.ErrMalformed, 2},
		{"no card photo", func(s *facematchtest.Service) {}, "in-1", "990001197506150020", facematch.ErrNoPhoto, 0},
		{"no camera at the lane", func(s *facematchtest.Service) {}, "in-2", id, facematch.ErrNoLive, 0},
		{"a card read at another lane", func(s *facematchtest.Service) {}, "in-3", id, facematch.ErrNoPhoto, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			svc, m := setup(t, nil)
			c.set(svc)
			_, err := m.Score(context.Background(), c.lane, c.id)
			if !errors.Is(err, c.want) || !errors.Is(err, facematch.ErrNoScore) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
			if n := len(svc.Requests()); n != c.requests {
				t.Fatalf("%d requests, want %d", n, c.requests)
			}
			ch := make(chan *float64, 1)
			m.Match(context.Background(), c.lane, checks.PersonEvidence{IDNumber: c.id}, func(s *float64) { ch <- s })
			if got := <-ch; got != nil {
				t.Fatalf("Match gave %v, want no score", *got)
			}
		})
	}
}

// The cause of no score stays with it: a camera that refuses the
// credentials, a service that cannot be reached.
func TestNoScoreKeepsItsCause(t *testing.T) {
	svc := &facematchtest.Service{}
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	photos := facematch.NewPhotos(8)
	photos.Put("in-1", id, []byte("WLphoto"))
	matcher := func(cam facematch.Camera) *facematch.Matcher {
		return facematch.New(facematch.Config{URL: srv.URL + "/v1/match", Timeout: 3 * time.Second, Photos: photos,
			Cameras: func(string) facematch.Camera { return cam }})
	}
	_, err := matcher(fakeCam{err: camera.ErrUnauthorized}).Score(context.Background(), "in-1", id)
	if !errors.Is(err, facematch.ErrNoLive) || !errors.Is(err, camera.ErrUnauthorized) {
		t.Fatalf("camera refused: %v, want ErrNoLive and camera.ErrUnauthorized", err)
	}
	svc.SetDown(true)
	_, err = matcher(fakeCam{}).Score(context.Background(), "in-1", id)
	var uerr *url.Error
	if !errors.Is(err, facematch.ErrUnreachable) || !errors.As(err, &uerr) {
		t.Fatalf("service down: %v, want ErrUnreachable and a *url.Error", err)
	}
}

// TestSlowTimesOutTwice: a slow service is given the timeout twice on the
// clock, then there is no score.
func TestSlowTimesOutTwice(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC))
	svc, m := setup(t, clk)
	s := 0.9
	svc.SetScore(id, &s)
	svc.SetSlow(time.Minute)
	done := make(chan error, 1)
	go func() { _, err := m.Score(context.Background(), "in-1", id); done <- err }()
	deadline := time.After(10 * time.Second)
	for attempt := 1; attempt <= 2; attempt++ {
		// Wait until the service holds the request (its delay and the
		// matcher's timeout are both on the clock), then time out.
		for len(svc.Requests()) < attempt || clk.Pending() < 2 {
			select {
			case <-deadline:
				t.Fatalf("attempt %d never reached the service", attempt)
			case <-time.After(time.Millisecond):
			}
		}
		clk.Advance(3 * time.Second)
	}
	select {
	case err := <-done:
		if !errors.Is(err, facematch.ErrTimeout) {
			t.Fatalf("err %v", err)
		}
	case <-deadline:
		t.Fatal("no answer")
	}
}

// A score that is not a finite number in 0..1 is a malformed answer, so no
// score, and the error names the field: NaN and the infinities would
// otherwise compare false with the threshold (issue 19).
func TestScoreNotAFiniteNumber(t *testing.T) {
	for _, c := range []struct{ name, body, want string }{
		{"beyond float64", `{"face_found": true, "score": 1e999}`, "score 1e999: +Inf is not a finite number"},
		{"beyond float64, negative", `{"face_found": true, "score": -1e999}`, "score -1e999: -Inf is not a finite number"},
		{"NaN as a bare word", `{"face_found": true, "score": NaN}`, "invalid character"},
		{"NaN as a string", `{"face_found": true, "score": "NaN"}`, `score "NaN" is not a number`},
		{"a number as a string", `{"face_found": true, "score": "0.9"}`, `score "0.9" is not a number`},
		{"above 1", `{"face_found": true, "score": 1.5}`, "score 1.5 is not in 0..1"},
		{"below 0", `{"face_found": true, "score": -0.1}`, "score -0.1 is not in 0..1"},
		{"null", `{"face_found": true, "score": null}`, "no score"},
		{"absent", `{"face_found": true}`, "no score"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, c.body)
			}))
			t.Cleanup(srv.Close)
			photos := facematch.NewPhotos(8)
			photos.Put("in-1", id, []byte("WLphoto"))
			m := facematch.New(facematch.Config{URL: srv.URL, Timeout: 3 * time.Second, Photos: photos,
				Cameras: func(string) facematch.Camera { return fakeCam{} }})
			got, err := m.Score(context.Background(), "in-1", id)
			if !errors.Is(err, facematch.ErrMalformed) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("score %v, err %v; want ErrMalformed saying %q", got, err, c.want)
			}
		})
	}
	// The edges are scores.
	for _, body := range []string{`{"face_found": true, "score": 0}`, `{"face_found": true, "score": 1}`, `{"face_found": true, "score": 1e-999}`} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) }))
		photos := facematch.NewPhotos(8)
		photos.Put("in-1", id, []byte("WLphoto"))
		m := facematch.New(facematch.Config{URL: srv.URL, Timeout: 3 * time.Second, Photos: photos,
			Cameras: func(string) facematch.Camera { return fakeCam{} }})
		if _, err := m.Score(context.Background(), "in-1", id); err != nil {
			t.Errorf("%s: %v", body, err)
		}
		srv.Close()
	}
}

// TestFacesKept: the live picture sent and the card photo the service
// answers are kept for the inspection, once, with or without a score; a
// card photo that is not a JPEG is dropped and the score stands.
func TestFacesKept(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC))
	svc := &facematchtest.Service{Clock: clk}
	card := cameratest.JPEG(9)
	svc.CardPhoto = func(idNumber string) []byte {
		if idNumber == id {
			return card
		}
		return []byte("not a jpeg")
	}
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	photos := facematch.NewPhotos(8)
	const other = "990001198001010027"
	photos.Put("in-1", id, []byte("WLphoto"))
	photos.Put("in-1", other, []byte("WLphoto"))
	m := facematch.New(facematch.Config{URL: srv.URL, Clock: clk, Photos: photos,
		Cameras: func(string) facematch.Camera { return fakeCam{} }})

	// No face found: no score, but the images are kept.
	if _, err := m.Score(context.Background(), "in-1", id); !errors.Is(err, facematch.ErrNoFace) {
		t.Fatalf("err = %v, want no face", err)
	}
	live, got, ok := photos.TakeFaces("in-1", id)
	if !ok || string(live) != string(cameratest.JPEG(3)) || string(got) != string(card) {
		t.Fatalf("faces = %v, live %d bytes, card %d bytes", ok, len(live), len(got))
	}
	if _, _, ok := photos.TakeFaces("in-1", id); ok {
		t.Fatal("the faces were taken twice")
	}

	s := 0.9
	svc.SetScore(other, &s)
	if got, err := m.Score(context.Background(), "in-1", other); err != nil || got != 0.9 {
		t.Fatalf("score = %v %v, want 0.9: a bad card photo must not lose the score", got, err)
	}
	live, got, ok = photos.TakeFaces("in-1", other)
	if !ok || len(live) == 0 || got != nil {
		t.Fatalf("faces = %v, live %d bytes, card %q; want the live picture and no card photo", ok, len(live), got)
	}

	// A card photo left by an earlier match that nobody took does not go
	// with the next one, which answers none.
	if _, err := m.Score(context.Background(), "in-1", id); !errors.Is(err, facematch.ErrNoFace) {
		t.Fatalf("err = %v", err)
	}
	svc.CardPhoto = nil
	if _, err := m.Score(context.Background(), "in-1", id); !errors.Is(err, facematch.ErrNoFace) {
		t.Fatalf("err = %v", err)
	}
	if _, got, ok := photos.TakeFaces("in-1", id); !ok || got != nil {
		t.Fatalf("faces = %v, card %d bytes; want the earlier card photo gone", ok, len(got))
	}

	// The service down: the live picture was taken and is kept.
	svc.SetDown(true)
	if _, err := m.Score(context.Background(), "in-1", id); !errors.Is(err, facematch.ErrNoScore) {
		t.Fatalf("err = %v", err)
	}
	if live, got, ok := photos.TakeFaces("in-1", id); !ok || len(live) == 0 || got != nil {
		t.Fatalf("faces with the service down = %v, live %d bytes, card %q", ok, len(live), got)
	}
}
