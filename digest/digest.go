// Package digest is HTTP digest authentication (RFC 7616, and RFC 2069
// without qop) as IP cameras speak it: the client side that answers a
// camera's challenge (device/camera's snapshots, the simulated plate
// cameras) and the response a server checks (device/plate's pushes). MD5
// and SHA-256, their -sess forms, qop "auth".
//
// It imports nothing of ours; the device drivers may import it.
package digest

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
)

// Params parses the comma-separated key=value pairs of a digest header
// (after the scheme), values optionally quoted; keys are lower-cased.
func Params(s string) map[string]string {
	m := map[string]string{}
	for s != "" {
		s = strings.TrimLeft(s, " ,")
		k, rest, ok := strings.Cut(s, "=")
		if !ok {
			break
		}
		k = strings.ToLower(strings.TrimSpace(k))
		rest = strings.TrimLeft(rest, " ")
		var v string
		if strings.HasPrefix(rest, `"`) {
			end := 1
			for end < len(rest) && rest[end] != '"' {
				if rest[end] == '\\' {
					end++
				}
				end++
			}
			v = strings.ReplaceAll(rest[1:min(end, len(rest))], `\`, "")
			rest = rest[min(end+1, len(rest)):]
		} else {
			v, rest, _ = strings.Cut(rest, ",")
			v = strings.TrimSpace(v)
		}
		m[k] = v
		s = rest
	}
	return m
}

// Hash returns the hex hash function of an algorithm ("", MD5, SHA-256, or
// either with -SESS), or false for another.
func Hash(algorithm string) (func(string) string, bool) {
	var newHash func() hash.Hash
	switch strings.TrimSuffix(strings.ToUpper(algorithm), "-SESS") {
	case "", "MD5":
		newHash = md5.New
	case "SHA-256":
		newHash = sha256.New
	default:
		return nil, false
	}
	return func(s string) string {
		x := newHash()
		x.Write([]byte(s))
		return hex.EncodeToString(x.Sum(nil))
	}, true
}

// Response is the digest "response" for the given request and challenge
// values; qop is "auth" or "" (then nc and cnonce are not used).
func Response(h func(string) string, algorithm, user, realm, pass, method, uri, nonce, nc, cnonce, qop string) string {
	ha1 := h(user + ":" + realm + ":" + pass)
	if strings.HasSuffix(strings.ToUpper(algorithm), "-SESS") {
		ha1 = h(ha1 + ":" + nonce + ":" + cnonce)
	}
	ha2 := h(method + ":" + uri)
	if qop == "auth" {
		return h(ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":auth:" + ha2)
	}
	return h(ha1 + ":" + nonce + ":" + ha2)
}

// Challenge is a server's digest challenge and the nonce count used with
// it.
type Challenge struct {
	Realm, Nonce, Opaque, Algorithm string
	QOP                             string // "auth" or "" (RFC 2069 style)
	nc                              int
}

// ParseChallenge picks the digest challenge among WWW-Authenticate values,
// preferring SHA-256 over MD5 when a server offers both.
func ParseChallenge(values []string) (*Challenge, error) {
	var best *Challenge
	for _, v := range values {
		scheme, rest, _ := strings.Cut(strings.TrimSpace(v), " ")
		if !strings.EqualFold(scheme, "Digest") {
			continue
		}
		p := Params(rest)
		c := &Challenge{Realm: p["realm"], Nonce: p["nonce"], Opaque: p["opaque"], Algorithm: strings.ToUpper(p["algorithm"])}
		if c.Algorithm == "" {
			c.Algorithm = "MD5"
		}
		if _, ok := Hash(c.Algorithm); !ok {
			continue
		}
		for _, q := range strings.Split(p["qop"], ",") {
			if strings.TrimSpace(q) == "auth" {
				c.QOP = "auth"
			}
		}
		if p["qop"] != "" && c.QOP == "" {
			continue // auth-int only: not for a body we do not hash
		}
		if c.Nonce == "" {
			continue
		}
		if best == nil || strings.HasPrefix(c.Algorithm, "SHA-256") {
			best = c
		}
	}
	if best == nil {
		return nil, errors.New("no usable Digest challenge (MD5 or SHA-256, qop auth)")
	}
	return best, nil
}

// Authorize returns the Authorization header for one request, counting
// the nonce up.
func (c *Challenge) Authorize(user, pass, method, uri string) string {
	h, _ := Hash(c.Algorithm)
	c.nc++
	nc := fmt.Sprintf("%08x", c.nc)
	cnonce := randomHex(8)
	resp := Response(h, c.Algorithm, user, c.Realm, pass, method, uri, c.Nonce, nc, cnonce, c.QOP)
	var b strings.Builder
	fmt.Fprintf(&b, `Digest username="%s", realm="%s", nonce="%s", uri="%s", algorithm=%s, response="%s"`,
		quoteEscape(user), quoteEscape(c.Realm), c.Nonce, uri, c.Algorithm, resp)
	if c.QOP == "auth" {
		fmt.Fprintf(&b, `, qop=auth, nc=%s, cnonce="%s"`, nc, cnonce)
	}
	if c.Opaque != "" {
		fmt.Fprintf(&b, `, opaque="%s"`, c.Opaque)
	}
	return b.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func quoteEscape(s string) string { return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) }
