// Package plate is the plate cameras' push endpoint. hazgate's own JSON
// push:
//
//	POST /api/v1/lanes/<lane>/plate
//	Authorization: Bearer <the lane camera's token>
//	{"plate": "浙B12345", "trailer": "浙B6789挂", "color": "yellow", "confidence": 0.97}
//
// and the vendors' own pushes, as the cameras send them (native.go):
// Hikvision's ISAPI ANPR alarm (isapi.go) and Dahua's ITSAPI tollgate push
// and keep-alive (itsapi.go), to POST /api/v1/cameras/<lane>/....
//
// Each lane's camera is known by its own token (compared in constant
// time), HTTP digest, or its source address (auth.go). A good push is
// delivered to the lane as a lane.PlateRead and answered 2xx; every
// mistake gets a clear 4xx with a JSON error, is logged, and delivers
// nothing: a push is read whole before anything of it is taken.
//
// A confidence that is not a finite number in 0..1 (NaN, an infinity, a
// number too large for a float64) is refused: a NaN would compare false
// with the lane's minimum.
//
// It imports checks, clock, lane, registry and strictyaml (its
// FiniteFloat) of ours; gate, appliance and sim may import it.
package plate

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hazgate/hazgate/clock"
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
	// Placard is whether the camera saw the danger mark; left out when it
	// cannot tell.
	Placard *bool `json:"placard,omitempty"`
}

// Config configures the handler.
type Config struct {
	// Tokens maps each lane that takes JSON pushes to its camera's token
	// (a shorthand for a Cameras entry of FormatJSON with that token).
	Tokens map[string]string
	// Cameras are the lanes' cameras; a lane in neither map takes no
	// pushes.
	Cameras map[string]Camera
	// Deliver hands a read to the lane (the runner's Send). An error
	// answers 503.
	Deliver func(laneName string, read lane.PlateRead) error
	// Heard, when set, is told each push a lane's camera made that was
	// taken (a read, a heartbeat, another event): it is alive.
	Heard func(laneName string)
	// Clock dates digest nonces (default: the real clock).
	Clock clock.Clock
	// Log gets each refused push (default: discarded).
	Log *slog.Logger
}

// The push formats (config's plate_camera.format).
const (
	FormatJSON      = "json"
	FormatHikvision = "hikvision"
	FormatDahua     = "dahua"
)

// Camera is one lane's camera: its format and how it is known.
type Camera struct {
	Format             string
	Token              string
	Username, Password string
	AllowFrom          []netip.Prefix
}

// Handler serves the push endpoint.
type Handler struct {
	cfg     Config
	cameras map[string]Camera
	secret  []byte // keys the digest nonces

	mu     sync.Mutex
	logged map[string]logState // refusals logged, by lane and status
}

// NewHandler returns the handler.
func NewHandler(cfg Config) *Handler {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{cfg: cfg, cameras: map[string]Camera{}, secret: newSecret(), logged: map[string]logState{}}
	for l, tok := range cfg.Tokens {
		if tok != "" {
			h.cameras[l] = Camera{Format: FormatJSON, Token: tok}
		}
	}
	for l, c := range cfg.Cameras {
		if c.Format == "" {
			c.Format = FormatJSON
		}
		h.cameras[l] = c
	}
	return h
}

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
		h.refuse(w, r, "", http.StatusNotFound, "not found: the endpoint is POST /api/v1/lanes/<lane>/plate")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.refuse(w, r, laneName, http.StatusMethodNotAllowed, "method %s not allowed: POST a plate read", r.Method)
		return
	}
	cam, ok := h.cameras[laneName]
	if !ok || cam.Format != FormatJSON || cam.Token == "" {
		if ok {
			h.refuse(w, r, laneName, http.StatusNotFound, "lane %q's camera pushes %s to /api/v1/cameras/%s/", laneName, cam.Format, laneName)
			return
		}
		h.refuse(w, r, laneName, http.StatusNotFound, "lane %q takes no plate pushes", laneName)
		return
	}
	if len(cam.AllowFrom) > 0 {
		if a, ok := remoteAddr(r); !ok || !allowed(cam.AllowFrom, a) {
			h.refuse(w, r, laneName, http.StatusForbidden, "source %s is not lane %q's camera", r.RemoteAddr, laneName)
			return
		}
	}
	got, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hazgate"`)
		h.refuse(w, r, laneName, http.StatusUnauthorized, "missing Authorization: Bearer <token>")
		return
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(cam.Token)) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hazgate", error="invalid_token"`)
		h.refuse(w, r, laneName, http.StatusUnauthorized, "invalid token for lane %q", laneName)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			h.refuse(w, r, laneName, http.StatusUnsupportedMediaType, "Content-Type %q: send application/json", ct)
			return
		}
	}
	p, err := decode(w, r)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.refuse(w, r, laneName, http.StatusRequestEntityTooLarge, "body over %d bytes", maxBody)
			return
		}
		h.refuse(w, r, laneName, http.StatusBadRequest, "%v", err)
		return
	}
	read := lane.PlateRead{Plate: p.Plate, Trailer: p.Trailer, Confidence: 1, Color: plateColor(p.Color), Placard: p.Placard}
	if p.Confidence != nil {
		read.Confidence = *p.Confidence
	}
	if err := h.cfg.Deliver(laneName, read); err != nil {
		h.refuse(w, r, laneName, http.StatusServiceUnavailable, "lane %q cannot take the read: %v", laneName, err)
		return
	}
	h.heard(laneName)
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

// refuse answers a push it does not take, and logs why: once per lane
// and status every logEvery, with how many more were refused meanwhile (a
// camera with a wrong password retries without end).
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, laneName string, code int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if n, ok := h.logDue(laneName, code); ok {
		h.cfg.Log.Warn("plate push refused", "lane", laneName, "device", "plate_camera", "from", r.RemoteAddr, "status", code, "why", msg, "more_refused", n)
	}
	fail(w, code, "%s", msg)
}

// logEvery bounds the log lines of refused pushes, per lane and status.
const logEvery = 10 * time.Second

// logDue says whether a refusal of lane with code is logged now, and how
// many were not logged since the last one.
func (h *Handler) logDue(laneName string, code int) (int, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := laneName + "/" + strconv.Itoa(code)
	now := h.cfg.Clock.Now()
	l := h.logged[k]
	if !l.at.IsZero() && now.Sub(l.at) < logEvery {
		l.quiet++
		h.logged[k] = l
		return 0, false
	}
	h.logged[k] = logState{at: now}
	return l.quiet, true
}

type logState struct {
	at    time.Time
	quiet int
}

func (h *Handler) heard(laneName string) {
	if h.cfg.Heard != nil {
		h.cfg.Heard(laneName)
	}
}

func fail(w http.ResponseWriter, code int, format string, args ...any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(ErrorBody{Error: "plate: " + fmt.Sprintf(format, args...)})
}
