package kiosk

import (
	"net/http"

	"github.com/hazgate/hazgate/logs"
)

// LogLines is the gate's recent log (a *logs.Ring).
type LogLines interface {
	Lines() []logs.Line
}

var _ LogLines = (*logs.Ring)(nil)

// handleLogs gives a supervisor the gate's last log lines, oldest first:
// {"reported": bool, "lines": [{time, level, text}]}. An operator is
// refused: the log names accounts, addresses and devices.
func (s *Server) handleLogs(w http.ResponseWriter, r *http.Request, sess *session) {
	if !sess.supervisor() {
		writeError(w, newError(http.StatusForbidden, errForbidden, "only a supervisor may read the gate's log"))
		return
	}
	if s.deps.Logs == nil {
		writeJSON(w, http.StatusOK, map[string]any{"reported": false, "lines": []logs.Line{}})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"reported": true, "lines": s.deps.Logs.Lines()})
}
