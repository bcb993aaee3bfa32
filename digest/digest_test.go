package digest

import (
	"strings"
	"testing"
)

// An Authorization made for a challenge verifies as a server checks it,
// for each algorithm, and not with another password; the RFC 2617 example
// gives its response.
func TestAuthorizeVerifies(t *testing.T) {
	for _, alg := range []string{"MD5", "SHA-256", "MD5-sess"} {
		c, err := ParseChallenge([]string{`Basic realm="x"`, `Digest realm="cam", nonce="abc123", qop="auth,auth-int", algorithm=` + alg})
		if err != nil {
			t.Fatal(err)
		}
		auth := c.Authorize("anpr", "pw", "POST", "/api/v1/cameras/in-1/")
		scheme, rest, _ := strings.Cut(auth, " ")
		p := Params(rest)
		h, ok := Hash(p["algorithm"])
		if scheme != "Digest" || !ok || p["nc"] != "00000001" {
			t.Fatalf("%s: %s", alg, auth)
		}
		for pass, want := range map[string]bool{"pw": true, "other": false} {
			got := Response(h, p["algorithm"], p["username"], p["realm"], pass, "POST", p["uri"], p["nonce"], p["nc"], p["cnonce"], p["qop"]) == p["response"]
			if got != want {
				t.Errorf("%s: password %q verifies %v", alg, pass, got)
			}
		}
	}
	// RFC 2617 section 3.5.
	h, _ := Hash("MD5")
	if r := Response(h, "MD5", "Mufasa", "testrealm@host.com", "Circle Of Life", "GET", "/dir/index.html",
		"dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b", "auth"); r != "6629fae49393a05397450978507c4ef1" {
		t.Fatalf("RFC 2617 example: %s", r)
	}
	if _, err := ParseChallenge([]string{`Digest realm="x", nonce="n", qop="auth-int"`}); err == nil {
		t.Fatal("an auth-int-only challenge was taken")
	}
}
