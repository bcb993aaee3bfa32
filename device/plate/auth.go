package plate

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/hazgate/hazgate/digest"
)

// How a camera is known (docs/devices.md, "Plate cameras"): its source
// address in the allow-list when there is one, and then its token (a
// bearer token, or ?token= in the URL it is given) or HTTP digest with its
// username and password, whichever it is configured with. A camera
// configured with an allow-list only is known by its address.

// Realm is the digest realm the gate's challenge names.
const Realm = "hazgate"

// nonceLife is how long a digest nonce is taken: a camera that answers an
// older one is challenged again (stale=true), so a captured Authorization
// header is of no use after it.
const nonceLife = 5 * time.Minute

// authError is why a push was not taken as its camera's, for the 401 or
// 403 answer and the log.
type authError struct {
	code      int
	msg       string
	challenge bool // answer with a digest challenge
	stale     bool
}

func (e *authError) Error() string { return e.msg }

// authenticate says whether r comes from lane's camera.
func (h *Handler) authenticate(r *http.Request, laneName string, cam Camera) *authError {
	if len(cam.AllowFrom) > 0 {
		addr, ok := remoteAddr(r)
		if !ok || !allowed(cam.AllowFrom, addr) {
			return &authError{code: http.StatusForbidden, msg: fmt.Sprintf("source %s is not lane %q's camera", r.RemoteAddr, laneName)}
		}
	}
	if cam.Token == "" && cam.Username == "" {
		return nil // known by its address
	}
	if cam.Token != "" {
		got, ok := bearer(r.Header.Get("Authorization"))
		if !ok {
			got = r.URL.Query().Get("token")
		}
		if got != "" {
			if subtle.ConstantTimeCompare([]byte(got), []byte(cam.Token)) == 1 {
				return nil
			}
			return &authError{code: http.StatusUnauthorized, msg: fmt.Sprintf("invalid token for lane %q", laneName), challenge: cam.Username != ""}
		}
	}
	if cam.Username != "" {
		return h.digest(r, laneName, cam)
	}
	return &authError{code: http.StatusUnauthorized, msg: "missing Authorization: Bearer <token> (or ?token=)"}
}

// digest checks an RFC 7616 digest Authorization (MD5 or SHA-256, qop auth
// or none) against the camera's username and password.
func (h *Handler) digest(r *http.Request, laneName string, cam Camera) *authError {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !strings.EqualFold(scheme, "Digest") {
		return &authError{code: http.StatusUnauthorized, msg: "missing Authorization: Digest", challenge: true}
	}
	p := digest.Params(rest)
	refuse := func(why string) *authError {
		return &authError{code: http.StatusUnauthorized, msg: fmt.Sprintf("digest for lane %q refused: %s", laneName, why), challenge: true}
	}
	if p["realm"] != Realm {
		return refuse("another realm")
	}
	if p["uri"] != r.URL.RequestURI() {
		return refuse("the uri is not this request's")
	}
	fresh, ok := h.nonceValid(p["nonce"])
	if !ok {
		return refuse("not a nonce of this gate")
	}
	alg := strings.ToUpper(p["algorithm"])
	hx, ok := digest.Hash(alg)
	if !ok || strings.HasSuffix(alg, "-SESS") {
		return refuse("algorithm " + alg + " (MD5 or SHA-256)")
	}
	if q := p["qop"]; q != "" && q != "auth" {
		return refuse("qop " + q)
	}
	want := digest.Response(hx, alg, cam.Username, Realm, cam.Password, r.Method, p["uri"], p["nonce"], p["nc"], p["cnonce"], p["qop"])
	userOK := subtle.ConstantTimeCompare([]byte(p["username"]), []byte(cam.Username)) == 1
	respOK := subtle.ConstantTimeCompare([]byte(strings.ToLower(p["response"])), []byte(want)) == 1
	if !userOK || !respOK {
		return refuse("wrong username or password")
	}
	if !fresh {
		return &authError{code: http.StatusUnauthorized, msg: "digest nonce expired", challenge: true, stale: true}
	}
	return nil
}

// challengeHeader is the WWW-Authenticate of a digest challenge.
func (h *Handler) challengeHeader(stale bool) string {
	s := fmt.Sprintf(`Digest realm="%s", qop="auth", algorithm=MD5, nonce="%s"`, Realm, h.newNonce())
	if stale {
		s += ", stale=true"
	}
	return s
}

// newNonce is the time and its HMAC under the handler's key: no state is
// kept, and a nonce tells its own age.
func (h *Handler) newNonce() string {
	ts := strconv.FormatInt(h.cfg.Clock.Now().Unix(), 10)
	return ts + "-" + h.nonceMAC(ts)
}

func (h *Handler) nonceMAC(ts string) string {
	m := hmac.New(sha256.New, h.secret)
	m.Write([]byte(ts))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// nonceValid says whether nonce is one of the gate's (ok) and still fresh.
func (h *Handler) nonceValid(nonce string) (fresh, ok bool) {
	ts, mac, found := strings.Cut(nonce, "-")
	if !found || !hmac.Equal([]byte(mac), []byte(h.nonceMAC(ts))) {
		return false, false
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false, false
	}
	age := h.cfg.Clock.Now().Sub(time.Unix(sec, 0))
	return age >= -time.Minute && age <= nonceLife, true
}

func newSecret() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return b
}

func remoteAddr(r *http.Request) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

func allowed(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// DigestAuthorization is the Authorization a camera sends for method and
// uri with its username and password, answering the gate's challenge (a
// WWW-Authenticate header): for the simulator's cameras and tests.
func DigestAuthorization(challenge, method, uri, user, pass string) (string, error) {
	c, err := digest.ParseChallenge([]string{challenge})
	if err != nil {
		return "", fmt.Errorf("plate: %q is not a digest challenge", challenge)
	}
	return c.Authorize(user, pass, method, uri), nil
}
