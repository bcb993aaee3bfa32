package kiosk

import "net/http"

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
	s.listMedia(w, r, plateMedia)
}

// handlePlatePicture serves one plate picture, audited before it is sent:
// GET /api/v1/inspections/{id}/plate-pictures/{kind}.
func (s *Server) handlePlatePicture(w http.ResponseWriter, r *http.Request, sess *session) {
	s.serveMedia(w, r, sess, plateMedia)
}
