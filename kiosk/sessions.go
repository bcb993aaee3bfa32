package kiosk

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/store"
)

// sessionCookie names the session cookie. Its value is a random token; the
// kiosk keeps only its SHA-256, in memory: a restart signs everyone out.
const sessionCookie = "hazgate_session"

// csrfHeader carries the session's CSRF token on every state change.
const csrfHeader = "X-CSRF-Token"

// session is a signed-in operator.
type session struct {
	key      [32]byte // SHA-256 of the cookie token
	operator string
	role     string
	csrf     string
	created  time.Time
	// The account as it signed in: a change since (store.Operator's
	// Generation), or the account made anew, ends the session.
	generation int64
	accountAt  time.Time // the account's CreatedAt

	mu   sync.Mutex
	seen time.Time
	done chan struct{} // closed when signed out or expired
	over bool
}

func (s *session) supervisor() bool { return s.role == RoleSupervisor }

// actor is the session's name in the audit log.
func (s *session) actor() string { return "operator:" + s.operator }

// checkCSRF compares a request's token with the session's in constant time.
func (s *session) checkCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.csrf)) == 1
}

// end signs the session out; it reports whether it was still live.
func (s *session) end() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.over {
		return false
	}
	s.over = true
	close(s.done)
	return true
}

// sessions are the live sessions.
type sessions struct {
	clk       clock.Clock
	idle, max time.Duration

	mu   sync.Mutex
	live map[[32]byte]*session
}

func newSessions(clk clock.Clock, idle, max time.Duration) *sessions {
	return &sessions{clk: clk, idle: idle, max: max, live: map[[32]byte]*session{}}
}

// randomToken returns 32 random bytes, base64url.
func randomToken() string {
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand panics rather than return short)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// create starts a session for an operator account and returns its cookie
// token.
func (ss *sessions) create(op store.Operator) (*session, string) {
	token := randomToken()
	now := ss.clk.Now()
	s := &session{key: sha256.Sum256([]byte(token)), operator: op.Name, role: op.Role, generation: op.Generation, accountAt: op.CreatedAt,
		csrf: randomToken(), created: now, seen: now, done: make(chan struct{})}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.sweepLocked(now)
	ss.live[s.key] = s
	return s, token
}

// get returns the live session of a cookie token and marks it used now.
func (ss *sessions) get(token string) (*session, bool) {
	if token == "" {
		return nil, false
	}
	key := sha256.Sum256([]byte(token))
	now := ss.clk.Now()
	ss.mu.Lock()
	s, ok := ss.live[key]
	if ok && ss.expired(s, now) {
		delete(ss.live, key)
		ok = false
		defer s.end()
	}
	ss.mu.Unlock()
	if !ok {
		return nil, false
	}
	s.mu.Lock()
	s.seen = now
	s.mu.Unlock()
	return s, true
}

// touch keeps a session alive (an open live view), or reports that it is
// over.
func (ss *sessions) touch(s *session) bool {
	now := ss.clk.Now()
	ss.mu.Lock()
	live := ss.live[s.key] == s && !ss.expired(s, now)
	if !live {
		delete(ss.live, s.key)
	}
	ss.mu.Unlock()
	if !live {
		s.end()
		return false
	}
	s.mu.Lock()
	s.seen = now
	s.mu.Unlock()
	return true
}

// remove signs a session out.
func (ss *sessions) remove(s *session) {
	ss.mu.Lock()
	if ss.live[s.key] == s {
		delete(ss.live, s.key)
	}
	ss.mu.Unlock()
	s.end()
}

func (ss *sessions) expired(s *session, now time.Time) bool {
	s.mu.Lock()
	seen := s.seen
	s.mu.Unlock()
	return now.Sub(seen) >= ss.idle || now.Sub(s.created) >= ss.max
}

// sweepLocked drops expired sessions.
func (ss *sessions) sweepLocked(now time.Time) {
	for k, s := range ss.live {
		if ss.expired(s, now) {
			delete(ss.live, k)
			s.end()
		}
	}
}
