package kiosk

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/hazgate/hazgate/store"
)

// sessionInfo is what the UI learns about its session.
type sessionInfo struct {
	SignedIn bool   `json:"signed_in"`
	Operator string `json:"operator,omitempty"`
	Role     string `json:"role,omitempty"`
	CSRF     string `json:"csrf,omitempty"`
	Gate     string `json:"gate"`
	Timezone string `json:"timezone"` // the park's, for showing times
}

func (s *Server) sessionInfo(sess *session) sessionInfo {
	info := sessionInfo{Gate: s.cfg.Gate, Timezone: s.cfg.Location.String()}
	if sess != nil {
		info.SignedIn, info.Operator, info.Role, info.CSRF = true, sess.operator, sess.role, sess.csrf
	}
	return info
}

// audit appends a kiosk action to the audit log, stamped on the gate's
// clock. An action that cannot be audited is not taken.
func (s *Server) audit(ctx context.Context, actor, action, subject string, detail any) *apiError {
	if err := s.deps.Store.Audit(ctx, actor, action, subject, detail, s.deps.GateClock.Now()); err != nil {
		s.log.Error("audit failed: action not taken", "action", action, "subject", subject, "err", err)
		return newError(http.StatusServiceUnavailable, errUnavailable, "the action could not be recorded in the audit log, so it was not taken")
	}
	return nil
}

// handleLogin signs an operator in: POST {"name", "password"}. Failed
// attempts are counted per account and per address; past the limits the
// answer is 429 with Retry-After. Every outcome is audited.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	if e := s.sameOrigin(r); e != nil {
		writeError(w, e)
		return
	}
	var req struct {
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	if e := decodeJSON(w, r, 4<<10, &req); e != nil {
		writeError(w, e)
		return
	}
	name := strings.TrimSpace(req.Name)
	if name == "" || req.Password == "" || len(name) > 4*MaxNameLen {
		writeError(w, newError(http.StatusUnprocessableEntity, errInvalid, "name and password are required"))
		return
	}
	ip := clientIP(r)
	ctx := r.Context()
	if ok, retry := s.limit.allow(name, ip); !ok {
		s.metrics.logins.WithLabelValues("limited").Inc()
		s.log.Warn("sign-in refused: too many failures", "account", name, "ip", ip)
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
		writeError(w, newError(http.StatusTooManyRequests, errLimited, "too many failed sign-ins: try again later"))
		return
	}
	op, err := s.deps.Store.Operator(ctx, name)
	var found *store.Operator
	switch {
	case err == nil:
		found = &op
	case !errors.Is(err, store.ErrNotFound):
		s.log.Error("sign-in: account lookup failed", "account", name, "err", err)
		writeError(w, newError(http.StatusServiceUnavailable, errUnavailable, "the accounts could not be read"))
		return
	}
	good := verify(found, req.Password)
	if !good || found.Disabled {
		why := "wrong_password"
		switch {
		case found == nil:
			why = "unknown_account"
		case good:
			why = "account_disabled"
		}
		s.metrics.logins.WithLabelValues("failed").Inc()
		limited := s.limit.fail(name, ip)
		detail := map[string]any{"ip": ip, "why": why}
		if e := s.audit(ctx, store.ActorSystem, "kiosk.login_failed", "operator:"+name, detail); e != nil {
			writeError(w, e)
			return
		}
		if limited {
			s.audit(ctx, store.ActorSystem, "kiosk.login_limited", "operator:"+name, map[string]any{"ip": ip})
		}
		writeError(w, newError(http.StatusUnauthorized, errLogin, "wrong name or password"))
		return
	}
	if e := s.audit(ctx, "operator:"+found.Name, "kiosk.login", "operator:"+found.Name, map[string]any{"ip": ip, "role": found.Role}); e != nil {
		writeError(w, e)
		return
	}
	s.limit.succeed(name)
	s.metrics.logins.WithLabelValues("ok").Inc()
	sess, token := s.auth.create(*found)
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: token, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.secureCookies(r),
	})
	s.log.Info("operator signed in", "operator", found.Name, "role", found.Role, "ip", ip)
	writeJSON(w, http.StatusOK, s.sessionInfo(sess))
}

func (s *Server) secureCookies(r *http.Request) bool {
	return s.tls != nil || s.cfg.SecureCookies || r.TLS != nil
}

// handleLogout signs the session out (audited) and clears the cookie.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request, sess *session) {
	if e := s.audit(r.Context(), sess.actor(), "kiosk.logout", sess.actor(), map[string]any{"ip": clientIP(r)}); e != nil {
		writeError(w, e)
		return
	}
	s.auth.remove(sess)
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.secureCookies(r),
	})
	writeJSON(w, http.StatusOK, map[string]string{"status": "signed_out"})
}

// handleSession tells the UI whether it is signed in, as whom, and the
// session's CSRF token. It needs no session: the sign-in page asks it.
func (s *Server) handleSession(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.session(r)
	if ok && s.checkAccount(r.Context(), sess, false) != nil {
		sess = nil // ended: the account changed since it signed in
	}
	writeJSON(w, http.StatusOK, s.sessionInfo(sess))
}
