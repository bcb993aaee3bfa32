package sim

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/device/camera"
	"github.com/hazgate/hazgate/device/facematch"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/sim/simhttp"
)

// wireFace starts the lane's camera and its face-match service on loopback
// and the real camera and matcher drivers on them. Each entry lane has its
// own service, so that the scores the scenario gives each arrival stay
// apart.
func (e *Engine) wireFace(l *simLane) error {
	const user, password = "admin", "hazgate-sim"
	cam, err := simhttp.NewCamera(simhttp.CameraConfig{Auth: camera.AuthDigest, Username: user, Password: password, Clock: e.clk})
	if err != nil {
		return fmt.Errorf("sim: lane %s: %w", l.name, err)
	}
	e.cleanup = append(e.cleanup, func() { cam.Close() })
	drv, err := camera.New(camera.Config{URL: cam.SnapshotURL(), Username: user, Password: password, Auth: camera.AuthDigest})
	if err != nil {
		return fmt.Errorf("sim: lane %s: %w", l.name, err)
	}
	svc, err := simhttp.NewFace(parkClock{e, l})
	if err != nil {
		return fmt.Errorf("sim: lane %s: %w", l.name, err)
	}
	e.cleanup = append(e.cleanup, func() { svc.Close() })
	l.camera, l.face = cam, svc
	l.matcher = facematch.New(facematch.Config{
		URL: svc.URL(), Timeout: faceTimeout, Photos: l.gl.Gate().Photos,
		Cameras: func(string) facematch.Camera { return drv },
		Clock:   wakeClock{e, l}, Log: e.log.With("device", l.name+"/face_match"),
	})
	return nil
}

// setFace puts the face-match service in the state of a fault of kind
// (on), or back to working (off). A device step.
func (l *simLane) setFace(kind string, on bool) {
	switch kind {
	case "down":
		l.face.SetDown(on)
	case "slow":
		if on {
			l.face.SetSlow(faceSlow)
		} else {
			l.face.SetSlow(0)
		}
	}
}

// faces is a lane's FaceMatcher: the face is captured one face time after
// the card (on the fake clock), then the real matcher calls the lane's
// camera and face-match service, which answers the score the scenario gives
// this arrival's presenter (none: no face found).
type faces struct{ l *simLane }

var _ lane.FaceMatcher = faces{}

func (f faces) Match(ctx context.Context, laneName string, p checks.PersonEvidence, done func(*float64)) {
	l := f.l
	l.sim.clk.AfterFunc(l.sim.timings.Face.D(), func() {
		l.sim.act(func() { l.capture(ctx, laneName, p, done) })
	})
}

// capture is the face capture: a device step.
func (l *simLane) capture(ctx context.Context, laneName string, p checks.PersonEvidence, done func(*float64)) {
	var score *float64
	if v := l.current(); v != nil {
		for _, pr := range []*Presenter{v.a.Driver, v.a.Escort} {
			if pr != nil && strings.EqualFold(pr.IDNumber, p.IDNumber) && pr.Face != nil {
				s := *pr.Face
				score = &s
			}
		}
	}
	l.face.SetScore(p.IDNumber, score)
	e := l.sim
	e.faceWork(1)
	l.matcher.Match(ctx, laneName, p, func(s *float64) {
		done(s)
		e.faceWork(-1)
	})
}

// wakeClock is the fake clock for a lane's face matcher: when one of its
// timers fires (an attempt timed out), the matcher works again in real
// time, and the loop waits for it. Its timers only fire while the matcher
// waits on a slow service (a parkClock timer): otherwise the loop does not
// move the clock until the matcher has answered, and the matcher stops its
// timer. The attempt it ends is cancelled, so the requests parked at the
// lane's service are dropped first (see parkClock).
type wakeClock struct {
	e *Engine
	l *simLane
}

func (c wakeClock) Now() time.Time { return c.e.clk.Now() }

func (c wakeClock) AfterFunc(d time.Duration, f func()) clock.Timer {
	return c.e.clk.AfterFunc(d, func() { c.l.parked.drop(); c.e.faceWork(1); f() })
}

// parkClock is the fake clock for a lane's face-match service: a request
// that waits on one of its timers (a slow answer) is parked until the timer
// fires, so the loop may move the clock; when it fires, the answer goes out
// in real time and the loop waits for it again.
//
// A slow answer comes after the matcher's timeout (faceSlow > faceTimeout),
// so a parked request is always given up by its matcher first: the
// matcher's timeout (wakeClock) stops the parked timers on the fake clock
// before it cancels the request. Left to the service, which stops its timer
// only once net/http has seen the cancelled request (asynchronously, in
// real time), a busy machine could let the clock reach the timer first,
// count an answer nobody waits for, and hang the loop.
type parkClock struct {
	e *Engine
	l *simLane
}

func (c parkClock) Now() time.Time { return c.e.clk.Now() }

func (c parkClock) AfterFunc(d time.Duration, f func()) clock.Timer {
	// Parked before it stops counting as work: until then the loop does
	// not move the clock, so neither this timer nor a drop can come first.
	t := c.l.parked.add(c.e.clk, d, func() { c.e.faceWork(1); f() })
	c.e.faceWork(-1)
	return t
}

// parked are the timers of a lane's parked face requests.
type parked struct {
	mu     sync.Mutex
	timers map[*parkedTimer]bool
}

type parkedTimer struct {
	p *parked
	t clock.Timer
}

func (t *parkedTimer) Stop() bool {
	t.p.mu.Lock()
	delete(t.p.timers, t)
	t.p.mu.Unlock()
	return t.t.Stop()
}

// add starts a timer on clk that runs f after d unless drop or Stop comes
// first.
func (p *parked) add(clk clock.Clock, d time.Duration, f func()) clock.Timer {
	pt := &parkedTimer{p: p}
	pt.t = clk.AfterFunc(d, func() {
		p.mu.Lock()
		live := p.timers[pt]
		delete(p.timers, pt)
		p.mu.Unlock()
		if live {
			f()
		}
	})
	p.mu.Lock()
	if p.timers == nil {
		p.timers = map[*parkedTimer]bool{}
	}
	p.timers[pt] = true
	p.mu.Unlock()
	return pt
}

// drop stops every parked timer.
func (p *parked) drop() {
	p.mu.Lock()
	ts := p.timers
	p.timers = nil
	p.mu.Unlock()
	for pt := range ts {
		pt.t.Stop()
	}
}
