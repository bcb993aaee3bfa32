package kiosk

import (
	"fmt"
	"net/http"
	"time"

	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/store"
)

// handleEvacuation starts or ends the gate's evacuation: POST {"on",
// "reason"}. Only a supervisor may do either, with a reason. An evacuation
// the office started by its signed command is the office's to end: the
// kiosk refuses (409) and says so. It opens barriers, so it is audited
// before it is made (record before act); one that then fails is audited
// too.
func (s *Server) handleEvacuation(w http.ResponseWriter, r *http.Request, sess *session) {
	on, reason, ok := decodeSwitch(w, r)
	if !ok {
		return
	}
	if !sess.supervisor() {
		writeError(w, newTextError(http.StatusForbidden, errForbidden, text{ZH: "只有主管可以启动或结束紧急疏散", EN: "only a supervisor may start or end an evacuation"}))
		return
	}
	cur := s.deps.Lanes.Evacuation()
	if !on && cur.On && cur.Authority != store.EvacuationByKiosk {
		writeError(w, newTextError(http.StatusConflict, errConflict, text{
			ZH: fmt.Sprintf("紧急疏散由安全办公室签名指令启动（%s）：只有签名指令可以结束", cur.By),
			EN: fmt.Sprintf("the evacuation was started by the office's signed command (%s): only a signed evacuate command ends it", cur.By)}))
		return
	}
	var names []string
	for _, snap := range s.deps.Lanes.Snapshots() {
		names = append(names, snap.Lane)
	}
	ctx := r.Context()
	detail := map[string]any{"reason": reason, "lanes": names}
	action := "kiosk.evacuation"
	if !on {
		action = "kiosk.evacuation_ended"
	}
	if e := s.audit(ctx, sess.actor(), action, "gate", detail); e != nil {
		writeError(w, e)
		return
	}
	if err := s.deps.Lanes.EvacuateAtKiosk(ctx, on, sess.actor()); err != nil {
		detail["error"] = err.Error()
		s.audit(ctx, sess.actor(), action+"_failed", "gate", detail)
		s.log.Error("evacuation not switched at the kiosk", "on", on, "operator", sess.operator, "err", err)
		if now := s.deps.Lanes.Evacuation(); now.On != on {
			// An end that could not be recorded is not made.
			writeError(w, newTextError(http.StatusServiceUnavailable, errUnavailable, text{
				ZH: "紧急疏散未结束：无法记录，车道仍在疏散", EN: "the evacuation was not ended: it could not be recorded, and the lanes still evacuate"}))
			return
		}
		// Started, but not kept: a restart would end it.
		writeError(w, newTextError(http.StatusInternalServerError, errInternal, text{
			ZH: "正在紧急疏散，但无法记录：重启后将不再疏散", EN: "evacuating, but it could not be recorded: a restart would end it"}))
		return
	}
	s.log.Warn("evacuation switched at the kiosk", "on", on, "operator", sess.operator, "reason", reason)
	writeJSON(w, http.StatusAccepted, map[string]any{"status": "sent", "on": on, "lanes": names})
}

// laneView is newLaneView with who may end the gate's evacuation.
func (s *Server) laneView(snap lane.Snapshot, now time.Time) laneView {
	v := newLaneView(snap, now)
	if snap.Evacuation {
		v.EvacuationBy = s.deps.Lanes.Evacuation().Authority
	}
	return v
}
