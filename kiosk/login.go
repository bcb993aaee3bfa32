package kiosk

import (
	"context"
	"errors"
	"fmt"
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
// attempts are counted per account and address together, and per address;
// past the limits the answer is 429 with Retry-After. The account is looked
// up first: its Unlocks clear the failures counted before the latest
// unlock. Every outcome is audited.
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
	if ok, retry := s.limit.allow(name, ip, op.Unlocks); !ok {
		s.metrics.logins.WithLabelValues("limited").Inc()
		s.log.Warn("sign-in refused: too many failures", "account", name, "ip", ip)
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
		writeError(w, newError(http.StatusTooManyRequests, errLimited, "too many failed sign-ins: try again later"))
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
		limited := s.limit.fail(name, ip, op.Unlocks)
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
	s.limit.succeed(name, ip)
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

// handleLockouts lists the sign-in lockouts now in force (supervisors
// only): {"lockouts": [{account, ip, failures, until}]}, an empty account
// for an address locked out of every account.
func (s *Server) handleLockouts(w http.ResponseWriter, r *http.Request, sess *session) {
	if !sess.supervisor() {
		writeError(w, newError(http.StatusForbidden, errForbidden, "only a supervisor may see the sign-in lockouts"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"lockouts": s.limit.lockouts()})
}

// handleUnlock clears an account's sign-in lockouts from every address:
// POST /api/v1/operators/{name}/unlock {"reason"}, by a supervisor, with a
// reason. The store counts the account's unlocks up with an
// "operator.unlocked" audit entry by the supervisor; a kiosk that cannot
// record it does not unlock.
func (s *Server) handleUnlock(w http.ResponseWriter, r *http.Request, sess *session) {
	if !sess.supervisor() {
		writeError(w, newError(http.StatusForbidden, errForbidden, "only a supervisor may unlock an account"))
		return
	}
	var req struct {
		Reason string `json:"reason"`
	}
	if e := decodeJSON(w, r, maxDecisionBody, &req); e != nil {
		writeError(w, e)
		return
	}
	reason, ok := cleanText(req.Reason, maxReasonLen)
	if !ok {
		writeError(w, newError(http.StatusUnprocessableEntity, errInvalid, fmt.Sprintf("a reason of 1 to %d characters is required", maxReasonLen)))
		return
	}
	name := r.PathValue("name")
	err := s.deps.Store.UnlockOperator(r.Context(), name, sess.actor(), reason, s.deps.GateClock.Now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, newError(http.StatusNotFound, errNotFound, "no account "+strconv.Quote(name)))
		return
	case err != nil:
		s.log.Error("unlock not recorded: not unlocked", "account", name, "err", err)
		writeError(w, newError(http.StatusServiceUnavailable, errUnavailable, "the unlock could not be recorded, so the account was not unlocked"))
		return
	}
	was := s.limit.unlock(name)
	s.log.Info("account unlocked at the kiosk", "account", name, "by", sess.operator, "addresses", was)
	writeJSON(w, http.StatusOK, map[string]any{"status": "unlocked", "addresses": was})
}
