package kiosk

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hazgate/hazgate/store"
)

// The face images kept with an inspection (record.MediaFace* and
// MediaCard*): the live snapshot sent to the face-match service and the
// card photo it answered, for the driver and the escort. Only a signed-in
// operator or supervisor sees them, each view is audited (face.viewed),
// and they are never cached by the browser.

// FaceImages reads the face images kept with inspections (a *store.Store
// does).
type FaceImages interface {
	// MediaKinds lists the kinds of the images kept for an inspection.
	MediaKinds(ctx context.Context, inspectionID string) ([]string, error)
	// MediaOne returns one, or an error matching store.ErrNotFound.
	MediaOne(ctx context.Context, inspectionID, kind string) (store.Media, error)
	// MediaPurgedBefore is when the images older than it were purged
	// (zero: never).
	MediaPurgedBefore(ctx context.Context) (time.Time, error)
}

var _ FaceImages = (*store.Store)(nil)

// faceKinds are the images the kiosk serves, in the order shown.
var faceKinds = []string{"face_driver", "card_driver", "face_escort", "card_escort"}

// Face image states: some kept, purged after the retention period, or none
// kept (no face match took a picture).
const (
	facesKept   = "kept"
	facesPurged = "purged"
	facesNone   = "none"
)

// facesView lists an inspection's face images.
type facesView struct {
	State  string   `json:"state"`
	Images []string `json:"images"`
}

// mediaSet is a set of pictures kept with inspections that the kiosk
// serves alike: the face images, the plate camera's pictures.
type mediaSet struct {
	kinds  []string // the kinds served, in the order shown
	what   string   // "face image", "plate picture": in errors and logs
	action string   // the audit action of a view
}

var (
	faceMedia  = mediaSet{kinds: faceKinds, what: "face image", action: "face.viewed"}
	plateMedia = mediaSet{kinds: plateKinds, what: "plate picture", action: "plate_picture.viewed"}
)

// handleFaces answers which face images an inspection has:
// GET /api/v1/inspections/{id}/faces.
func (s *Server) handleFaces(w http.ResponseWriter, r *http.Request, _ *session) {
	s.listMedia(w, r, faceMedia)
}

// handleFaceImage serves one face image, audited before it is sent:
// GET /api/v1/inspections/{id}/faces/{kind}.
func (s *Server) handleFaceImage(w http.ResponseWriter, r *http.Request, sess *session) {
	s.serveMedia(w, r, sess, faceMedia)
}

// listMedia answers which pictures of set an inspection has: kept, purged
// after the retention period, or none.
func (s *Server) listMedia(w http.ResponseWriter, r *http.Request, set mediaSet) {
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
	unreadable := newError(http.StatusServiceUnavailable, errUnavailable, "the "+set.what+"s could not be read")
	kinds, err := s.deps.Faces.MediaKinds(ctx, id)
	if err != nil {
		s.log.Error(set.what+"s not listed", "inspection", id, "err", err)
		writeError(w, unreadable)
		return
	}
	v := facesView{State: facesKept, Images: []string{}}
	for _, k := range set.kinds {
		if slices.Contains(kinds, k) {
			v.Images = append(v.Images, k)
		}
	}
	if len(v.Images) == 0 {
		v.State = facesNone
		before, err := s.deps.Faces.MediaPurgedBefore(ctx)
		if err != nil {
			s.log.Error("media purges not read", "err", err)
			writeError(w, unreadable)
			return
		}
		if ins.DecidedAt.Before(before) {
			v.State = facesPurged
		}
	}
	writeJSON(w, http.StatusOK, v)
}

// serveMedia serves one picture of set, audited before it is sent, never
// cached by the browser.
func (s *Server) serveMedia(w http.ResponseWriter, r *http.Request, sess *session, set mediaSet) {
	id, kind := r.PathValue("id"), r.PathValue("kind")
	if !slices.Contains(set.kinds, kind) || s.deps.Faces == nil {
		writeError(w, newError(http.StatusNotFound, errNotFound, "no such "+set.what))
		return
	}
	ctx := r.Context()
	m, err := s.deps.Faces.MediaOne(ctx, id, kind)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, newError(http.StatusNotFound, errNotFound, "no "+kind+" "+set.what+" for inspection "+id+" (never taken, or purged)"))
		return
	}
	if err != nil {
		s.log.Error(set.what+" not read", "inspection", id, "kind", kind, "err", err)
		writeError(w, newError(http.StatusServiceUnavailable, errUnavailable, "the "+set.what+" could not be read"))
		return
	}
	if e := s.audit(ctx, sess.actor(), set.action, id, map[string]any{"image": kind}); e != nil {
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

// cardFacts are the sex ("M" or "F") and the birth year an 18-character
// ID number encodes ("" and 0 when it is not one).
func cardFacts(id string) (sex string, year int) {
	id = strings.TrimSpace(id)
	if len(id) != 18 {
		return "", 0
	}
	y, err := strconv.Atoi(id[6:10])
	if err != nil {
		return "", 0
	}
	d := id[16]
	if d < '0' || d > '9' {
		return "", y
	}
	if (d-'0')%2 == 1 {
		return "M", y
	}
	return "F", y
}
