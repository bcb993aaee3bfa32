package kiosk

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/hazgate/hazgate/store"
)

// Error codes of the API's error answers: {"error": {"code", "message"}}.
const (
	errBadRequest   = "bad_request"        // 400: malformed JSON, query or path
	errUnauthorized = "unauthenticated"    // 401: no live session
	errLogin        = "login_failed"       // 401: wrong name or password
	errCSRF         = "csrf"               // 403: missing or wrong CSRF token, or a cross-origin request
	errForbidden    = "forbidden"          // 403: the role may not do this
	errNotFound     = "not_found"          // 404
	errMethod       = "method_not_allowed" // 405
	errConflict     = "conflict"           // 409: the lane is not in a state that allows it
	errDecided      = "decided"            // 409: the inspection's case is closed by an operator's decision
	errTooLarge     = "too_large"          // 413
	errMediaType    = "unsupported_media"  // 415: a body that is not JSON
	errInvalid      = "invalid"            // 422: a field is missing or wrong
	errLimited      = "rate_limited"       // 429
	errInternal     = "internal"           // 500
	errUnavailable  = "unavailable"        // 503: the store did not answer
)

// apiError is an error answer.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Text    *text  `json:"text,omitempty"` // the message in Chinese and English, for the screen
}

func (e *apiError) Error() string { return "kiosk: " + e.Code + ": " + e.Message }

func newError(status int, code, msg string) *apiError {
	return &apiError{Status: status, Code: code, Message: msg}
}

// newTextError is newError with the message in both languages (Message is
// the English).
func newTextError(status int, code string, t text) *apiError {
	return &apiError{Status: status, Code: code, Message: t.EN, Text: &t}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.Status, map[string]*apiError{"error": e})
}

// decodeJSON reads a JSON request body of at most limit bytes into dst,
// refusing other media types, unknown fields and trailing data.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, dst any) *apiError {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return newError(http.StatusUnsupportedMediaType, errMediaType, "the body must be application/json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return newError(http.StatusRequestEntityTooLarge, errTooLarge, "the body is too large")
		}
		return newError(http.StatusBadRequest, errBadRequest, "malformed JSON: "+err.Error())
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return newError(http.StatusBadRequest, errBadRequest, "malformed JSON: data after the object")
	}
	return nil
}

// clientIP is the address the request came from. Forwarding headers are not
// trusted: the kiosk is reached directly on the gate's network.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// securityHeaders are set on every answer: no framing, no sniffing, no
// referrer, and only the kiosk's own scripts and styles.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// handlerFunc is an API handler for a signed-in operator.
type handlerFunc func(w http.ResponseWriter, r *http.Request, s *session)

// route is one API route, for the 405 answers.
type route struct {
	method string
	path   []string // segments; "{...}" matches any one
}

// api registers an API handler that needs a session; a state change
// (anything but GET) also needs the session's CSRF token and a same-origin
// request.
func (s *Server) api(mux *http.ServeMux, method, path string, h handlerFunc) {
	s.routes = append(s.routes, route{method: method, path: strings.Split(strings.Trim(path, "/"), "/")})
	mux.HandleFunc(method+" "+path, func(w http.ResponseWriter, r *http.Request) {
		if method != http.MethodGet {
			if e := s.sameOrigin(r); e != nil {
				writeError(w, e)
				return
			}
		}
		sess, ok := s.session(r)
		if !ok {
			writeError(w, newError(http.StatusUnauthorized, errUnauthorized, "sign in first"))
			return
		}
		if method != http.MethodGet && !sess.checkCSRF(r.Header.Get(csrfHeader)) {
			s.log.Warn("request without a valid CSRF token refused", "operator", sess.operator, "path", r.URL.Path)
			writeError(w, newError(http.StatusForbidden, errCSRF, "missing or wrong CSRF token"))
			return
		}
		if e := s.checkAccount(r.Context(), sess, method != http.MethodGet); e != nil {
			writeError(w, e)
			return
		}
		h(w, r, sess)
	})
}

// checkAccount ends the session of an account that changed in any way
// since it signed in: disabled (even if enabled again since), removed,
// given another role or password (hazgate operator disable, add -replace).
// The store is asked on every request and on every heartbeat of the live
// stream. When the store cannot answer, a change is refused (the account
// cannot be vouched for) and a read is let through.
func (s *Server) checkAccount(ctx context.Context, sess *session, change bool) *apiError {
	op, err := s.deps.Store.Operator(ctx, sess.operator)
	switch {
	case err == nil && !op.Disabled && op.Role == sess.role && op.Generation == sess.generation && op.CreatedAt.Equal(sess.accountAt):
		return nil
	case err == nil || errors.Is(err, store.ErrNotFound):
		s.auth.remove(sess)
		s.log.Warn("session ended: the account was disabled, removed or changed", "operator", sess.operator)
		return newError(http.StatusUnauthorized, errUnauthorized, "this account was disabled or changed: sign in again")
	case change:
		s.log.Error("account check failed; change refused", "operator", sess.operator, "err", err)
		return newError(http.StatusServiceUnavailable, errUnavailable, "the account cannot be checked now: try again")
	}
	return nil
}

// sameOrigin refuses a cross-origin browser request.
func (s *Server) sameOrigin(r *http.Request) *apiError {
	if err := s.cop.Check(r); err != nil {
		return newError(http.StatusForbidden, errCSRF, "cross-origin request refused")
	}
	return nil
}

// session returns the request's live session.
func (s *Server) session(r *http.Request) (*session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, false
	}
	return s.auth.get(c.Value)
}

// notFound answers an unknown API path (404) or a known one with another
// method (405).
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	var allow []string
	for _, rt := range s.routes {
		if matchPath(rt.path, segs) && !slices.Contains(allow, rt.method) {
			allow = append(allow, rt.method)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, newError(http.StatusMethodNotAllowed, errMethod, r.Method+" is not allowed here"))
		return
	}
	writeError(w, newError(http.StatusNotFound, errNotFound, "no such API path"))
}

func matchPath(pattern, segs []string) bool {
	if len(pattern) != len(segs) {
		return false
	}
	for i, p := range pattern {
		if !strings.HasPrefix(p, "{") && p != segs[i] {
			return false
		}
	}
	return true
}
