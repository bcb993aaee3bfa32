// Package plate is the plate cameras' push endpoint:
//
//	POST /api/v1/lanes/<lane>/plate
//	Authorization: Bearer <the lane camera's token>
//	{"plate": "浙B12345", "trailer": "浙B6789挂", "color": "yellow", "confidence": 0.97}
//
// Each lane's camera has its own token (compared in constant time). A good
// push is delivered to the lane as a lane.PlateRead and answered 202; every
// mistake gets a clear 4xx with a JSON error.
//
// A confidence that is not a finite number in 0..1 (NaN, an infinity, a
// number too large for a float64) is refused: a NaN would compare false
// with the lane's minimum.
//
// It imports lane and strictyaml (its FiniteFloat) of ours; appliance and
// sim may import it.
package plate

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/strictyaml"
)

// Pattern is the route, in net/http's pattern syntax, that the kiosk's mux
// (or `hazgate run`) mounts the handler on.
const Pattern = "POST /api/v1/lanes/{lane}/plate"

// maxBody bounds a push (some cameras attach a picture; it is not read).
const maxBody = 1 << 20

// Push is the JSON a camera sends.
type Push struct {
	Plate      string   `json:"plate"`
	Trailer    string   `json:"trailer,omitempty"`
	Color      string   `json:"color,omitempty"`
	Confidence *float64 `json:"confidence,omitempty"`
}

// Config configures the handler.
type Config struct {
	// Tokens maps each lane that takes pushes to its camera's token. A
	// lane without a token (or with an empty one) takes none.
	Tokens map[string]string
	// Deliver hands a read to the lane (the runner's Send). An error
	// answers 503.
	Deliver func(laneName string, read lane.PlateRead) error
}

// Handler serves the push endpoint.
type Handler struct {
	cfg Config
}

// NewHandler returns the handler.
func NewHandler(cfg Config) *Handler { return &Handler{cfg: cfg} }

// ErrorBody is the JSON of an error answer.
type ErrorBody struct {
	Error string `json:"error"`
}

// ServeHTTP handles one push.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	laneName := r.PathValue("lane")
	if laneName == "" {
		laneName = laneFromPath(r.URL.Path)
	}
	if laneName == "" {
		fail(w, http.StatusNotFound, "not found: the endpoint is POST /api/v1/lanes/<lane>/plate")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		fail(w, http.StatusMethodNotAllowed, "method %s not allowed: POST a plate read", r.Method)
		return
	}
	want, ok := h.cfg.Tokens[laneName]
	if !ok || want == "" {
		fail(w, http.StatusNotFound, "lane %q takes no plate pushes", laneName)
		return
	}
	got, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hazgate"`)
		fail(w, http.StatusUnauthorized, "missing Authorization: Bearer <token>")
		return
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hazgate", error="invalid_token"`)
		fail(w, http.StatusUnauthorized, "invalid token for lane %q", laneName)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			fail(w, http.StatusUnsupportedMediaType, "Content-Type %q: send application/json", ct)
			return
		}
	}
	p, err := decode(w, r)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			fail(w, http.StatusRequestEntityTooLarge, "body over %d bytes", maxBody)
			return
		}
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	read := lane.PlateRead{Plate: p.Plate, Trailer: p.Trailer, Confidence: 1}
	if p.Confidence != nil {
		read.Confidence = *p.Confidence
	}
	if err := h.cfg.Deliver(laneName, read); err != nil {
		fail(w, http.StatusServiceUnavailable, "lane %q cannot take the read: %v", laneName, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	json.NewEncoder(w).Encode(map[string]any{"lane": laneName, "plate": read.Plate, "trailer": read.Trailer, "confidence": read.Confidence})
}

// decode reads and checks the push. The confidence is read as its text and
// parsed here, so that a number beyond float64 (1e999) is seen as the
// infinity it is and refused by strictyaml.FiniteFloat.
func decode(w http.ResponseWriter, r *http.Request) (Push, error) {
	var p Push
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return p, err
	}
	var raw struct {
		Push
		Confidence json.RawMessage `json:"confidence,omitempty"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return p, fmt.Errorf("body is not the JSON {\"plate\", \"trailer\"?, \"color\"?, \"confidence\"?}: %v", err)
	}
	p = raw.Push
	p.Plate, p.Trailer = strings.TrimSpace(p.Plate), strings.TrimSpace(p.Trailer)
	switch {
	case p.Plate == "":
		return p, errors.New(`"plate" is missing or empty`)
	case utf8.RuneCountInString(p.Plate) > 16 || utf8.RuneCountInString(p.Trailer) > 16:
		return p, errors.New(`"plate" and "trailer" are at most 16 characters`)
	}
	if len(raw.Confidence) > 0 && string(raw.Confidence) != "null" {
		c, err := strconv.ParseFloat(string(raw.Confidence), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return p, fmt.Errorf(`"confidence" %s is not a number`, raw.Confidence)
		}
		if err := strictyaml.FiniteFloat(c); err != nil {
			return p, fmt.Errorf(`"confidence" %s: %v`, raw.Confidence, err)
		}
		if !(c >= 0 && c <= 1) {
			return p, fmt.Errorf(`"confidence" %s is not in 0..1`, raw.Confidence)
		}
		p.Confidence = &c
	}
	return p, nil
}

// bearer extracts a bearer token.
func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	tok = strings.TrimSpace(tok)
	return tok, ok && strings.EqualFold(scheme, "Bearer") && tok != ""
}

// laneFromPath reads <lane> from a path ending /api/v1/lanes/<lane>/plate,
// for a handler mounted without the pattern.
func laneFromPath(p string) string {
	const pre = "/api/v1/lanes/"
	i := strings.LastIndex(p, pre)
	if i < 0 || !strings.HasSuffix(p, "/plate") {
		return ""
	}
	l := strings.TrimSuffix(p[i+len(pre):], "/plate")
	if l == "" || strings.Contains(l, "/") {
		return ""
	}
	return l
}

func fail(w http.ResponseWriter, code int, format string, args ...any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(ErrorBody{Error: "plate: " + fmt.Sprintf(format, args...)})
}
