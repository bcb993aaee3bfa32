package kiosk

// The outdoor display: /display/<lane>, the page the screen facing the
// driver shows. No sign-in, read-only, and it carries no name and no ID
// number: its view is built here from the lane's snapshot (the prompt, the
// plate, the deadline, the verdict and the failed checks in plain words,
// and a note beside the prompt: the waybill found from the plate),
// never the snapshot itself. It follows the lane over its own event
// stream, /display/<lane>/events, which sends the whole view on connect,
// so a screen that reconnects after the gate restarted is right at once.

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/prompt"
)

// DisplayConfig is the outdoor displays' settings.
type DisplayConfig struct {
	// Allow limits a lane's display to these source addresses (by lane;
	// a lane it does not name: any address). The kiosk's own peer is
	// judged: put no proxy in front of the displays.
	Allow map[string][]netip.Prefix
	// Words are the prompts' words (default: the built-in ones).
	Words prompt.Words
	// Screens, when set, is told each time the number of screens showing
	// a lane's display changes (the gate's display health).
	Screens func(lane string, n int)
	// MaxScreens bounds the display streams in all (default 64): past it
	// a new one is refused with 429.
	MaxScreens int
}

// DefaultMaxScreens is DisplayConfig.MaxScreens's default.
const DefaultMaxScreens = 64

// displayRetry is how soon (ms) a screen's EventSource reconnects after its
// stream ends (a restart of the gate).
const displayRetry = 2000

// displayView is what the outdoor display shows.
type displayView struct {
	Lane       string        `json:"lane"`
	Exit       bool          `json:"exit"`
	Phase      lane.Phase    `json:"phase"`
	Prompt     prompt.Key    `json:"prompt"`
	ZH         string        `json:"zh"`
	EN         string        `json:"en"`
	Plate      string        `json:"plate,omitempty"`
	Verdict    string        `json:"verdict,omitempty"`
	Reasons    []prompt.Text `json:"reasons,omitempty"`
	Deadline   time.Time     `json:"deadline,omitzero"`
	ServerTime time.Time     `json:"server_time"`
	Lockdown   bool          `json:"lockdown,omitempty"`

	// Note is said beside the prompt: the waybill was found from the
	// plate, no scan is needed (prompt.WaybillFound).
	Note *prompt.Text `json:"note,omitempty"`
}

// newDisplayView builds the display's view of snap: only what the driver
// may see.
func newDisplayView(snap lane.Snapshot, words prompt.Words, now time.Time) displayView {
	p := prompt.Of(snap)
	t := words.Say(p)
	v := displayView{Lane: snap.Lane, Exit: snap.Exit, Phase: snap.Phase, Prompt: p.Key, ZH: t.ZH, EN: t.EN,
		Reasons: p.Reasons, ServerTime: now, Lockdown: snap.Lockdown}
	if snap.Phase != lane.PhaseIdle {
		v.Plate = snap.Evidence.Plate
	}
	if n := words.Note(p); n.ZH != "" || n.EN != "" {
		v.Note = &n
	}
	if snap.Phase == lane.PhaseCollecting {
		v.Deadline = snap.Deadline
	}
	if o := snap.Outcome; o != nil && snap.Phase != lane.PhaseIdle {
		v.Verdict = string(o.Verdict)
		if o.Verdict == checks.VerdictPass || p.Key != prompt.Refused {
			v.Reasons = nil
		}
	}
	return v
}

// displays fans lane changes out to the display streams: each screen
// follows one lane and gets its latest view.
type displays struct {
	max     int
	screens func(lane string, n int)

	mu     sync.Mutex
	subs   map[*displaySub]struct{}
	byLane map[string]int
}

type displaySub struct {
	lane string
	mu   sync.Mutex
	snap *lane.Snapshot
	wake chan struct{}
}

func newDisplays(c DisplayConfig) *displays {
	return &displays{max: c.MaxScreens, screens: c.Screens, subs: map[*displaySub]struct{}{}, byLane: map[string]int{}}
}

// subscribe adds a screen of lane; false when the kiosk serves as many as
// it will.
func (d *displays) subscribe(name string) (*displaySub, func(), bool) {
	sub := &displaySub{lane: name, wake: make(chan struct{}, 1)}
	d.mu.Lock()
	if len(d.subs) >= d.max {
		d.mu.Unlock()
		return nil, nil, false
	}
	d.subs[sub] = struct{}{}
	d.byLane[name]++
	n := d.byLane[name]
	d.mu.Unlock()
	d.tell(name, n)
	return sub, func() {
		d.mu.Lock()
		delete(d.subs, sub)
		d.byLane[name]--
		n := d.byLane[name]
		d.mu.Unlock()
		d.tell(name, n)
	}, true
}

func (d *displays) tell(name string, n int) {
	if d.screens != nil {
		d.screens(name, n)
	}
}

// publish hands snap to the screens of its lane. It never blocks.
func (d *displays) publish(snap lane.Snapshot) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for sub := range d.subs {
		if sub.lane != snap.Lane {
			continue
		}
		sub.mu.Lock()
		s := snap
		sub.snap = &s
		sub.mu.Unlock()
		select {
		case sub.wake <- struct{}{}:
		default:
		}
	}
}

func (s *displaySub) take() (lane.Snapshot, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.snap == nil {
		return lane.Snapshot{}, false
	}
	snap := *s.snap
	s.snap = nil
	return snap, true
}

// displayAllowed reports whether the request's peer may see the lane's
// display.
func (s *Server) displayAllowed(r *http.Request, name string) bool {
	allow, limited := s.cfg.Display.Allow[name]
	if !limited || len(allow) == 0 {
		return true
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range allow {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// displayLane answers 404 for no such lane and 403 for an address the
// lane's display is not for; it reports whether to go on.
func (s *Server) displayLane(w http.ResponseWriter, r *http.Request) (string, lane.Snapshot, bool) {
	name := r.PathValue("lane")
	snap, ok := s.snapshot(name)
	if !ok {
		http.Error(w, "没有这个车道 / no such lane", http.StatusNotFound)
		return "", lane.Snapshot{}, false
	}
	if !s.displayAllowed(r, name) {
		s.log.Warn("display refused: the address is not in the lane's display allow list", "lane", name, "remote", r.RemoteAddr)
		http.Error(w, "此地址不能显示该车道 / this address may not show the lane's display", http.StatusForbidden)
		return "", lane.Snapshot{}, false
	}
	return name, snap, true
}

// handleDisplayPage serves the display's page.
func (s *Server) handleDisplayPage(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := s.displayLane(w, r); !ok {
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeFileFS(w, r, uiFS, "ui/display.html")
}

// handleDisplayEvents streams the lane's display view: "view" on connect
// and on every change.
func (s *Server) handleDisplayEvents(w http.ResponseWriter, r *http.Request) {
	name, snap, ok := s.displayLane(w, r)
	if !ok {
		return
	}
	sub, cancel, ok := s.displays.subscribe(name)
	if !ok {
		s.log.Warn("display stream refused: the kiosk serves as many as it will", "lane", name, "max", s.displays.max)
		w.Header().Set("Retry-After", "30")
		http.Error(w, "too many displays", http.StatusTooManyRequests)
		return
	}
	defer cancel()
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	send := func(snap lane.Snapshot) bool {
		b, err := json.Marshal(newDisplayView(snap, s.cfg.Display.Words, s.deps.GateClock.Now()))
		if err != nil {
			return false
		}
		rc.SetWriteDeadline(time.Now().Add(writeWait))
		if _, err := fmt.Fprintf(w, "event: view\ndata: %s\n\n", b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	rc.SetWriteDeadline(time.Now().Add(writeWait))
	if _, err := fmt.Fprintf(w, "retry: %d\n\n", displayRetry); err != nil {
		return
	}
	// Subscribed first, then read: a change in between is sent twice,
	// never lost.
	if cur, ok := s.snapshot(name); ok {
		snap = cur
	}
	if !send(snap) {
		return
	}
	beat := make(chan struct{}, 1)
	var beatTimer clock.Timer
	arm := func() {
		beatTimer = s.deps.Clock.AfterFunc(s.cfg.Heartbeat, func() {
			select {
			case beat <- struct{}{}:
			default:
			}
		})
	}
	arm()
	defer func() { beatTimer.Stop() }()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.hub.closing:
			return
		case <-sub.wake:
			if snap, ok := sub.take(); ok && !send(snap) {
				return
			}
		case <-beat:
			arm()
			rc.SetWriteDeadline(time.Now().Add(writeWait))
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		}
	}
}
