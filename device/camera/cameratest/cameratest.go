// Package cameratest is a fake IP camera: an http.Handler that serves a
// JPEG snapshot behind no, basic or digest authentication (MD5 or SHA-256,
// qop=auth, nonces that go stale), and can be told to be down or slow.
//
// It imports only clock of ours; only tests and sim/simhttp import it.
package cameratest

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"hash"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hazgate/hazgate/clock"
)

// Camera is the fake camera. Set its fields before serving; change them
// while serving through the methods.
type Camera struct {
	// Username, Password and Auth ("none", "basic", "digest") guard it.
	Username, Password, Auth string
	// Algorithm is the digest algorithm offered (default "MD5").
	Algorithm string
	// Clock times Slow (default: the real clock).
	Clock clock.Clock

	mu      sync.Mutex
	jpeg    []byte
	down    bool
	slow    time.Duration
	nonces  map[string]bool
	served  int
	refused int
}

// JPEG returns a small synthetic JPEG whose content depends on seed.
func JPEG(seed int) []byte {
	img := image.NewGray(image.Rect(0, 0, 32, 24))
	for i := range img.Pix {
		img.Pix[i] = byte(i*7 + seed*31)
	}
	img.Set(0, 0, color.Gray{Y: byte(seed)})
	var b bytes.Buffer
	jpeg.Encode(&b, img, nil)
	return b.Bytes()
}

// SetJPEG sets the picture served.
func (c *Camera) SetJPEG(b []byte) { c.mu.Lock(); c.jpeg = b; c.mu.Unlock() }

// SetDown makes the camera answer 503 (on) or work (off).
func (c *Camera) SetDown(on bool) { c.mu.Lock(); c.down = on; c.mu.Unlock() }

// SetSlow delays each picture by d on the clock (0: at once).
func (c *Camera) SetSlow(d time.Duration) { c.mu.Lock(); c.slow = d; c.mu.Unlock() }

// Served returns how many pictures were served and how many requests were
// refused for their credentials.
func (c *Camera) Served() (served, refused int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.served, c.refused
}

// StaleNonces forgets every nonce issued, as a camera does now and then.
func (c *Camera) StaleNonces() { c.mu.Lock(); c.nonces = nil; c.mu.Unlock() }

// ServeHTTP serves the snapshot.
func (c *Camera) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	down, slow, pic := c.down, c.slow, c.jpeg
	c.mu.Unlock()
	if down {
		http.Error(w, "camera down", http.StatusServiceUnavailable)
		return
	}
	if !c.authorized(r) {
		c.mu.Lock()
		c.refused++
		c.mu.Unlock()
		c.challenge(w)
		return
	}
	if slow > 0 {
		clk := c.Clock
		if clk == nil {
			clk = clock.Real{}
		}
		if !clock.Sleep(r.Context(), clk, slow) {
			return
		}
	}
	if pic == nil {
		pic = JPEG(1)
	}
	c.mu.Lock()
	c.served++
	c.mu.Unlock()
	w.Header().Set("Content-Type", "image/jpeg")
	w.Write(pic)
}

func (c *Camera) challenge(w http.ResponseWriter) {
	switch c.Auth {
	case "basic":
		w.Header().Set("WWW-Authenticate", `Basic realm="fake camera"`)
	case "digest":
		nonce := randomHex(16)
		c.mu.Lock()
		if c.nonces == nil {
			c.nonces = map[string]bool{}
		}
		c.nonces[nonce] = true
		c.mu.Unlock()
		w.Header().Add("WWW-Authenticate", fmt.Sprintf(`Digest realm="fake camera", qop="auth", nonce="%s", opaque="op4que", algorithm=%s`, nonce, c.algorithm()))
	}
	http.Error(w, "unauthorized", http.StatusUnauthorized)
}

func (c *Camera) algorithm() string {
	if c.Algorithm == "" {
		return "MD5"
	}
	return c.Algorithm
}

func (c *Camera) authorized(r *http.Request) bool {
	switch c.Auth {
	case "", "none":
		return true
	case "basic":
		u, p, ok := r.BasicAuth()
		return ok && eq(u, c.Username) && eq(p, c.Password)
	case "digest":
		return c.digestOK(r)
	}
	return false
}

// digestOK checks a digest Authorization header (RFC 7616, qop=auth).
func (c *Camera) digestOK(r *http.Request) bool {
	scheme, rest, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Digest") {
		return false
	}
	p := map[string]string{}
	for _, kv := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		p[strings.ToLower(k)] = strings.Trim(v, `"`)
	}
	c.mu.Lock()
	known := c.nonces[p["nonce"]]
	c.mu.Unlock()
	if !known || p["username"] != c.Username || p["uri"] != r.URL.RequestURI() || p["qop"] != "auth" {
		return false
	}
	newHash := md5.New
	if c.algorithm() == "SHA-256" {
		newHash = sha256.New
	}
	h := func(s string) string { return hexHash(newHash, s) }
	ha1 := h(c.Username + ":fake camera:" + c.Password)
	ha2 := h(r.Method + ":" + p["uri"])
	want := h(ha1 + ":" + p["nonce"] + ":" + p["nc"] + ":" + p["cnonce"] + ":auth:" + ha2)
	return eq(p["response"], want)
}

func eq(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

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
