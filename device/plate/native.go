package plate

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// NativePattern is the route of the vendors' own pushes. The camera is
// given http://<gate>/api/v1/cameras/<lane>/ as its server (Hikvision: the
// HTTP listening host's URL; Dahua: the ITSAPI platform, whose
// NotificationInfo/TollgateInfo and NotificationInfo/KeepAlive follow).
const NativePattern = "POST /api/v1/cameras/{lane}/{rest...}"

// ServeNative handles one push of a Hikvision or Dahua camera. The whole
// body is read and parsed before anything is delivered: a push that is
// cut short, too large or malformed is refused with a 4xx and delivers
// nothing.
func (h *Handler) ServeNative(w http.ResponseWriter, r *http.Request) {
	laneName := r.PathValue("lane")
	if laneName == "" {
		laneName, _, _ = strings.Cut(strings.TrimPrefix(r.URL.Path, "/api/v1/cameras/"), "/")
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.refuse(w, r, laneName, http.StatusMethodNotAllowed, "method %s not allowed: a camera POSTs its pushes", r.Method)
		return
	}
	cam, ok := h.cameras[laneName]
	if !ok || (cam.Format != FormatHikvision && cam.Format != FormatDahua) {
		h.refuse(w, r, laneName, http.StatusNotFound, "lane %q takes no Hikvision or Dahua pushes", laneName)
		return
	}
	if e := h.authenticate(r, laneName, cam); e != nil {
		if e.challenge {
			w.Header().Set("WWW-Authenticate", h.challengeHeader(e.stale))
		}
		h.refuse(w, r, laneName, e.code, "%s", e.msg)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxNativeBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.refuse(w, r, laneName, http.StatusRequestEntityTooLarge, "body over %d bytes", MaxNativeBody)
			return
		}
		h.refuse(w, r, laneName, http.StatusBadRequest, "body not read whole: %v", err)
		return
	}
	var rep Report
	if cam.Format == FormatHikvision {
		rep, err = ParseISAPI(r.Header.Get("Content-Type"), body)
	} else {
		rep, err = ParseITSAPI(r.URL.Path, body)
	}
	if err != nil {
		h.refuse(w, r, laneName, http.StatusBadRequest, "%s push: %v", cam.Format, err)
		return
	}
	if rep.Kind == ReportRead && rep.Read.Plate != "" {
		if err := h.cfg.Deliver(laneName, rep.Read); err != nil {
			h.refuse(w, r, laneName, http.StatusServiceUnavailable, "lane %q cannot take the read: %v", laneName, err)
			return
		}
		h.cfg.Log.Info("plate read pushed", "lane", laneName, "device", "plate_camera", "format", cam.Format,
			"plate", rep.Read.Plate, "color", rep.Read.Color, "vehicle", rep.VehicleType, "pictures", rep.Read.Pictures != nil)
	}
	h.heard(laneName)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	// Dahua's cameras send a capture again until they read this.
	json.NewEncoder(w).Encode(map[string]any{"Result": true})
}
