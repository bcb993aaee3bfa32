package kiosk

import (
	"context"
	"net/http"
	"time"

	"github.com/hazgate/hazgate/store"
)

// Presence is who is inside the park (store.ParkInside): every gate of the
// park hears the others' passages (docs/uplink.md, "Who is inside the
// park").
type Presence interface {
	ParkInside(ctx context.Context) ([]store.Present, error)
}

// parkListMax bounds the list the lanes page shows.
const parkListMax = 200

// handlePark serves GET /api/v1/park: {"inside": n, "vehicles": [...]},
// the longest there first, at most parkListMax of them.
func (s *Server) handlePark(w http.ResponseWriter, r *http.Request, _ *session) {
	if s.deps.Presence == nil {
		writeError(w, newError(http.StatusNotFound, errNotFound, "this gate does not keep who is inside the park"))
		return
	}
	in, err := s.deps.Presence.ParkInside(r.Context())
	if err != nil {
		s.log.Error("vehicles inside the park unknown", "err", err)
		writeError(w, newError(http.StatusInternalServerError, errInternal, "who is inside the park cannot be read now"))
		return
	}
	type vehicle struct {
		Plate string `json:"plate"`
		Since string `json:"since"`
		Gate  string `json:"gate"`
		Lane  string `json:"lane"`
	}
	out := []vehicle{}
	for _, p := range in[:min(len(in), parkListMax)] {
		out = append(out, vehicle{Plate: p.Plate, Since: p.Since.In(s.cfg.Location).Format(time.RFC3339), Gate: p.Gate, Lane: p.Lane})
	}
	writeJSON(w, http.StatusOK, map[string]any{"inside": len(in), "vehicles": out})
}
