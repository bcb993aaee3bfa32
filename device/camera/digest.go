package camera

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

// challenge is a digest challenge (RFC 7616) and the nonce count used with
// it.
type challenge struct {
	realm, nonce, opaque, algorithm string
	qop                             string // "auth" or "" (RFC 2069 style)
	nc                              int
}

// parseChallenge picks the digest challenge among WWW-Authenticate values,
// preferring SHA-256 over MD5 when a camera offers both.
func parseChallenge(values []string) (*challenge, error) {
	var best *challenge
	for _, v := range values {
		scheme, rest, _ := strings.Cut(strings.TrimSpace(v), " ")
		if !strings.EqualFold(scheme, "Digest") {
			continue
		}
		p := params(rest)
		c := &challenge{realm: p["realm"], nonce: p["nonce"], opaque: p["opaque"], algorithm: strings.ToUpper(p["algorithm"])}
		if c.algorithm == "" {
			c.algorithm = "MD5"
		}
		if c.algorithm != "MD5" && c.algorithm != "SHA-256" && c.algorithm != "MD5-SESS" && c.algorithm != "SHA-256-SESS" {
			continue
		}
		for _, q := range strings.Split(p["qop"], ",") {
			if strings.TrimSpace(q) == "auth" {
				c.qop = "auth"
			}
		}
		if p["qop"] != "" && c.qop == "" {
			continue // auth-int only: not for a GET we can hash
		}
		if c.nonce == "" {
			continue
		}
		if best == nil || strings.HasPrefix(c.algorithm, "SHA-256") {
			best = c
		}
	}
	if best == nil {
		return nil, errors.New("camera: no usable Digest challenge (MD5 or SHA-256, qop auth)")
	}
	return best, nil
}

// params parses comma-separated key=value pairs, values optionally quoted.
func params(s string) map[string]string {
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

// authorize returns the Authorization header for one request.
func (c *challenge) authorize(user, pass, method, uri string) string {
	newHash := md5.New
	if strings.HasPrefix(c.algorithm, "SHA-256") {
		newHash = sha256.New
	}
	h := func(s string) string { return hexHash(newHash, s) }
	c.nc++
	nc := fmt.Sprintf("%08x", c.nc)
	cnonce := randomHex(8)
	ha1 := h(user + ":" + c.realm + ":" + pass)
	if strings.HasSuffix(c.algorithm, "-SESS") {
		ha1 = h(ha1 + ":" + c.nonce + ":" + cnonce)
	}
	ha2 := h(method + ":" + uri)
	var resp string
	if c.qop == "auth" {
		resp = h(ha1 + ":" + c.nonce + ":" + nc + ":" + cnonce + ":auth:" + ha2)
	} else {
		resp = h(ha1 + ":" + c.nonce + ":" + ha2)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `Digest username="%s", realm="%s", nonce="%s", uri="%s", algorithm=%s, response="%s"`,
		quoteEscape(user), quoteEscape(c.realm), c.nonce, uri, c.algorithm, resp)
	if c.qop == "auth" {
		fmt.Fprintf(&b, `, qop=auth, nc=%s, cnonce="%s"`, nc, cnonce)
	}
	if c.opaque != "" {
		fmt.Fprintf(&b, `, opaque="%s"`, c.opaque)
	}
	return b.String()
}

func hexHash(newHash func() hash.Hash, s string) string {
	x := newHash()
	x.Write([]byte(s))
	return hex.EncodeToString(x.Sum(nil))
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func quoteEscape(s string) string { return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) }
