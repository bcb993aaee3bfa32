package kiosk

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/lane"
)

// lanesAnswer is GET /api/v1/lanes.
type lanesAnswer struct {
	Gate       string     `json:"gate"`
	ServerTime time.Time  `json:"server_time"`
	Lanes      []laneView `json:"lanes"`
}

func (s *Server) lanesAnswer() lanesAnswer {
	now := s.deps.GateClock.Now()
	a := lanesAnswer{Gate: s.cfg.Gate, ServerTime: now, Lanes: []laneView{}}
	for _, snap := range s.deps.Lanes.Snapshots() {
		a.Lanes = append(a.Lanes, s.laneView(snap, now))
	}
	return a
}

func (s *Server) handleLanes(w http.ResponseWriter, r *http.Request, _ *session) {
	writeJSON(w, http.StatusOK, s.lanesAnswer())
}

// DefaultHeartbeat is Config.Heartbeat's default: a comment on the event
// stream that often keeps proxies and the browser from giving up on a
// quiet stream, and keeps the screen's session alive.
const DefaultHeartbeat = 15 * time.Second

// writeWait bounds an event-stream write: one that takes longer ends the
// stream.
const writeWait = 10 * time.Second

// handleEvents streams the lanes as server-sent events: "hello" with the
// gate's time, then a "lane" event with each lane's view, then one for
// every change; "signed_out" when the session ends.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request, sess *session) {
	rc := http.NewResponseController(w)
	sub, cancel, err := s.hub.subscribe(sess.key)
	if err != nil {
		s.log.Warn("live stream refused: the kiosk serves as many as it will", "operator", sess.operator, "max", s.cfg.MaxStreams)
		w.Header().Set("Retry-After", "30")
		writeError(w, newError(http.StatusTooManyRequests, errLimited, "the kiosk has as many live views open as it serves: close another, then try again"))
		return
	}
	defer cancel()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	send := func(event string, v any) bool {
		b, err := json.Marshal(v)
		if err != nil {
			s.log.Error("event not encoded", "event", event, "err", err)
			return true
		}
		rc.SetWriteDeadline(time.Now().Add(writeWait)) // not every writer supports it; the stream still works
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
			return false
		}
		return true
	}
	flush := func() bool { return rc.Flush() == nil }

	// The heartbeat is armed before the first event, so a client that has
	// seen "hello" knows it is running.
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

	// Subscribed first, then read: a change in between is sent twice,
	// never lost.
	a := s.lanesAnswer()
	if !send("hello", map[string]any{"gate": a.Gate, "server_time": a.ServerTime}) {
		return
	}
	for _, v := range a.Lanes {
		if !send("lane", v) {
			return
		}
	}
	if !flush() {
		return
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.hub.closing:
			return
		case <-sess.done:
			send("signed_out", map[string]string{})
			flush()
			return
		case <-sub.superseded:
			// The session opened more streams than it may keep: this,
			// its oldest, gives way. The page stops reconnecting.
			send("superseded", map[string]int{"max": s.cfg.StreamsPerSession})
			flush()
			return
		case <-sub.wake:
			now := s.deps.GateClock.Now()
			for _, snap := range sub.take() {
				if !send("lane", s.laneView(snap, now)) {
					return
				}
			}
			if !flush() {
				return
			}
		case <-beat:
			arm()
			if s.checkAccount(r.Context(), sess, false) != nil || !s.auth.touch(sess) {
				continue // sess.done is closed: said on the next turn
			}
			rc.SetWriteDeadline(time.Now().Add(writeWait))
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil || !flush() {
				return
			}
		}
	}
}

// pathLane returns the lane the request's path names and its current view;
// with no such lane it answers 404 and reports false.
func (s *Server) pathLane(w http.ResponseWriter, r *http.Request) (string, lane.Snapshot, bool) {
	name := r.PathValue("lane")
	snap, ok := s.snapshot(name)
	if !ok {
		writeError(w, newError(http.StatusNotFound, errNotFound, "no lane "+name))
	}
	return name, snap, ok
}

// snapshot returns the named lane's current view.
func (s *Server) snapshot(name string) (lane.Snapshot, bool) {
	for _, snap := range s.deps.Lanes.Snapshots() {
		if snap.Lane == name {
			return snap, true
		}
	}
	return lane.Snapshot{}, false
}

// cleanText trims s and reports whether it is 1..maxLen characters with no
// control characters.
func cleanText(s string, maxLen int) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || utf8.RuneCountInString(s) > maxLen || !utf8.ValidString(s) {
		return s, false
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' {
			return s, false
		}
	}
	return s, true
}

// handleDecision releases or refuses the vehicle held on a lane: POST
// {"inspection_id", "reason"}. The inspection must be the one held now; a
// reason is required; a rejection is decided by a supervisor only. The
// action is audited and sent to the lane, which records the decision (with
// the operator) before it opens anything; the answer (202) does not wait
// for that: the lane's view shows it.
func (s *Server) handleDecision(w http.ResponseWriter, r *http.Request, sess *session) {
	action := lane.ActionRelease
	if strings.HasSuffix(r.URL.Path, "/refuse") {
		action = lane.ActionRefuse
	}
	var req struct {
		InspectionID string `json:"inspection_id"`
		Reason       string `json:"reason"`
	}
	if e := decodeJSON(w, r, maxDecisionBody, &req); e != nil {
		writeError(w, e)
		return
	}
	name, snap, ok := s.pathLane(w, r)
	if !ok {
		return
	}
	reason, ok := cleanText(req.Reason, maxReasonLen)
	if !ok {
		writeError(w, newError(http.StatusUnprocessableEntity, errInvalid, fmt.Sprintf("a reason of 1 to %d characters is required", maxReasonLen)))
		return
	}
	// A decision already taken on the inspection this request names is
	// said as such (409, who decided); a request about another one is
	// told it is no longer held, below.
	if snap.Exit || req.InspectionID == snap.InspectionID {
		if e := s.decisionConflict(r.Context(), snap, action); e != nil {
			writeError(w, e)
			return
		}
	}
	kind := decidable(snap)
	switch {
	case kind == "":
		writeError(w, newError(http.StatusConflict, errConflict, "no vehicle is waiting for a decision on lane "+name))
		return
	case !snap.Exit && req.InspectionID != snap.InspectionID:
		writeError(w, newError(http.StatusConflict, errConflict, "that inspection is no longer held on lane "+name+": look again"))
		return
	case kind == "reject" && !sess.supervisor():
		writeError(w, newError(http.StatusForbidden, errForbidden, "only a supervisor may decide a rejected vehicle"))
		return
	case action == lane.ActionRelease && snap.Lockdown:
		writeError(w, newError(http.StatusConflict, errConflict, "the gate is locked down: nothing is released until it is lifted"))
		return
	case action == lane.ActionRelease && snap.Evacuation && !snap.Exit:
		writeError(w, newError(http.StatusConflict, errConflict, "the gate is evacuating: entry lanes let nothing in until it ends"))
		return
	}
	subject := snap.InspectionID
	if subject == "" {
		subject = "lane:" + name
	}
	detail := map[string]any{"lane": name, "reason": reason, "plate": snap.Evidence.Plate}
	if snap.Outcome != nil {
		detail["verdict"] = snap.Outcome.Verdict
	}
	if e := s.audit(r.Context(), sess.actor(), "kiosk."+action, subject, detail); e != nil {
		writeError(w, e)
		return
	}
	var ev lane.Event = lane.OperatorRelease{Operator: sess.operator, Reason: reason, InspectionID: snap.InspectionID}
	if action == lane.ActionRefuse {
		ev = lane.OperatorRefuse{Operator: sess.operator, Reason: reason, InspectionID: snap.InspectionID}
	}
	if !s.deps.Lanes.Send(name, ev) {
		writeError(w, newError(http.StatusNotFound, errNotFound, "no lane "+name))
		return
	}
	s.metrics.decided(name, action, s.deps.GateClock.Now())
	s.log.Info("operator decision sent", "lane", name, "inspection", snap.InspectionID, "operator", sess.operator, "action", action)
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "sent", "lane": name, "action": action, "inspection_id": snap.InspectionID})
}

// handlePlate takes a plate typed by the operator while the lane waits for
// one (none read, or a read below the confidence threshold): POST
// {"plate", "trailer"}. It is audited and sent as a confirmed read.
func (s *Server) handlePlate(w http.ResponseWriter, r *http.Request, sess *session) {
	var req struct {
		Plate   string `json:"plate"`
		Trailer string `json:"trailer"`
	}
	if e := decodeJSON(w, r, 4<<10, &req); e != nil {
		writeError(w, e)
		return
	}
	name, snap, ok := s.pathLane(w, r)
	if !ok {
		return
	}
	plate, ok := cleanText(req.Plate, maxPlateLen)
	if !ok || strings.ContainsRune(plate, '\n') {
		writeError(w, newError(http.StatusUnprocessableEntity, errInvalid, fmt.Sprintf("a plate of 1 to %d characters is required", maxPlateLen)))
		return
	}
	trailer := strings.TrimSpace(req.Trailer)
	if trailer != "" {
		if trailer, ok = cleanText(trailer, maxPlateLen); !ok || strings.ContainsRune(trailer, '\n') {
			writeError(w, newError(http.StatusUnprocessableEntity, errInvalid, fmt.Sprintf("a trailer plate has at most %d characters", maxPlateLen)))
			return
		}
	}
	if !newLaneView(snap, time.Time{}).PlateEntry {
		writeError(w, newError(http.StatusConflict, errConflict, "lane "+name+" is not waiting for a plate"))
		return
	}
	detail := map[string]any{"lane": name, "plate": plate, "trailer": trailer, "camera_plate": snap.Evidence.Plate}
	if e := s.audit(r.Context(), sess.actor(), "kiosk.plate_entered", "lane:"+name, detail); e != nil {
		writeError(w, e)
		return
	}
	s.deps.Lanes.Send(name, lane.PlateRead{Plate: plate, Trailer: trailer, Confidence: 1})
	s.log.Info("plate typed by the operator", "lane", name, "operator", sess.operator, "plate", plate)
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "sent", "lane": name})
}

// decodeSwitch reads the body of a gate-wide switch (lock-down,
// evacuation): {"on": bool, "reason"}, both required. It answers the
// request itself when the body is wrong.
func decodeSwitch(w http.ResponseWriter, r *http.Request) (on bool, reason string, ok bool) {
	var req struct {
		On     *bool  `json:"on"`
		Reason string `json:"reason"`
	}
	if e := decodeJSON(w, r, maxDecisionBody, &req); e != nil {
		writeError(w, e)
		return false, "", false
	}
	if req.On == nil {
		writeError(w, newError(http.StatusUnprocessableEntity, errInvalid, `"on" (true or false) is required`))
		return false, "", false
	}
	reason, ok = cleanText(req.Reason, maxReasonLen)
	if !ok {
		writeError(w, newError(http.StatusUnprocessableEntity, errInvalid, fmt.Sprintf("a reason of 1 to %d characters is required", maxReasonLen)))
		return false, "", false
	}
	return *req.On, reason, true
}

// handleLockdown locks every lane down, or lifts it: POST {"on", "reason"}.
// Any operator may lock down; only a supervisor may lift it. A reason is
// required either way.
func (s *Server) handleLockdown(w http.ResponseWriter, r *http.Request, sess *session) {
	on, reason, ok := decodeSwitch(w, r)
	if !ok {
		return
	}
	if !on && !sess.supervisor() {
		writeError(w, newError(http.StatusForbidden, errForbidden, "only a supervisor may lift a lock-down"))
		return
	}
	var names []string
	for _, snap := range s.deps.Lanes.Snapshots() {
		names = append(names, snap.Lane)
	}
	ctx := r.Context()
	lockdown := func() error { return s.deps.Lanes.Lockdown(ctx, on, sess.actor()) }
	detail := map[string]any{"reason": reason, "lanes": names}
	if on {
		// The lanes lock down first: a safety restriction does not wait
		// for the audit log. The log then says what happened.
		err := lockdown()
		if err != nil {
			detail["error"] = err.Error()
		}
		if e := s.audit(ctx, sess.actor(), "kiosk.lockdown", "gate", detail); e != nil {
			writeError(w, e)
			return
		}
		if err != nil {
			s.log.Error("lock-down at the kiosk not recorded", "operator", sess.operator, "err", err)
			writeError(w, newError(http.StatusInternalServerError, errInternal, err.Error()))
			return
		}
	} else {
		// A lift is audited before it is made, as a release is; one that
		// then fails is audited too.
		if e := s.audit(ctx, sess.actor(), "kiosk.lockdown_lifted", "gate", detail); e != nil {
			writeError(w, e)
			return
		}
		if err := lockdown(); err != nil {
			detail["error"] = err.Error()
			s.audit(ctx, sess.actor(), "kiosk.lockdown_lift_failed", "gate", detail)
			s.log.Error("lock-down not lifted at the kiosk", "operator", sess.operator, "err", err)
			writeError(w, newError(http.StatusInternalServerError, errInternal, err.Error()))
			return
		}
	}
	s.log.Warn("lock-down switched at the kiosk", "on", on, "operator", sess.operator, "reason", reason)
	writeJSON(w, http.StatusAccepted, map[string]any{"status": "sent", "on": on, "lanes": names})
}
