package kiosk

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/hazgate/hazgate/store"
)

// The plate camera's pictures kept with an inspection (record.MediaPlate
// and MediaScene): shown on the inspection's page like the face images, to
// a signed-in operator or supervisor, each view audited
// (plate_picture.viewed), never cached by the browser, purged with the
// face images after the retention period.

// plateKinds are the pictures the kiosk serves, in the order shown.
var plateKinds = []string{"plate", "plate_scene"}

// handlePlatePictures answers which plate pictures an inspection has:
// GET /api/v1/inspections/{id}/plate-pictures. Its answer is a facesView:
// kept, purged or none.
func (s *Server) handlePlatePictures(w http.ResponseWriter, r *http.Request, _ *session) {
	id := r.PathValue("id")
	ctx := r.Context()
	if s.deps.Faces == nil {
		writeJSON(w, http.StatusOK, facesView{State: facesNone, Images: []string{}})
		return
	}
	ins, ok := s.inspection(w, r, id)
	if !ok {
		return
	}
	kinds, err := s.deps.Faces.MediaKinds(ctx, id)
	if err != nil {
		s.log.Error("plate pictures not listed", "inspection", id, "err", err)
		writeError(w, newError(http.StatusServiceUnavailable, errUnavailable, "the plate pictures could not be read"))
		return
	}
	v := facesView{State: facesKept, Images: []string{}}
	for _, k := range plateKinds {
		for _, got := range kinds {
			if got == k {
				v.Images = append(v.Images, k)
			}
		}
	}
	if len(v.Images) == 0 {
		v.State = facesNone
		before, err := s.deps.Faces.MediaPurgedBefore(ctx)
		if err != nil {
			s.log.Error("media purges not read", "err", err)
			writeError(w, newError(http.StatusServiceUnavailable, errUnavailable, "the plate pictures could not be read"))
			return
		}
		if ins.DecidedAt.Before(before) {
			v.State = facesPurged
		}
	}
	writeJSON(w, http.StatusOK, v)
}

// handlePlatePicture serves one plate picture, audited before it is sent:
// GET /api/v1/inspections/{id}/plate-pictures/{kind}.
func (s *Server) handlePlatePicture(w http.ResponseWriter, r *http.Request, sess *session) {
	id, kind := r.PathValue("id"), r.PathValue("kind")
	known := false
	for _, k := range plateKinds {
		known = known || k == kind
	}
	if !known || s.deps.Faces == nil {
		writeError(w, newError(http.StatusNotFound, errNotFound, "no such plate picture"))
		return
	}
	ctx := r.Context()
	m, err := s.deps.Faces.MediaOne(ctx, id, kind)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, newError(http.StatusNotFound, errNotFound, "no "+kind+" picture for inspection "+id+" (never taken, or purged)"))
		return
	}
	if err != nil {
		s.log.Error("plate picture not read", "inspection", id, "kind", kind, "err", err)
		writeError(w, newError(http.StatusServiceUnavailable, errUnavailable, "the plate picture could not be read"))
		return
	}
	if e := s.audit(ctx, sess.actor(), "plate_picture.viewed", id, map[string]any{"image": kind}); e != nil {
		writeError(w, e)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/jpeg")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(m.Data)))
	w.WriteHeader(http.StatusOK)
	w.Write(m.Data)
}
