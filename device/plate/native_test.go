package plate_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/device/plate"
	"github.com/hazgate/hazgate/lane"
)

// gateSide is the push endpoint served over real HTTP on loopback, with
// what it delivered and heard.
type gateSide struct {
	srv   *httptest.Server
	clk   *clock.Fake
	mu    sync.Mutex
	reads []string
	last  lane.PlateRead
	heard []string
	log   bytes.Buffer
}

func (g *gateSide) deliver(l string, r lane.PlateRead) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	placard := "?"
	if r.Placard != nil {
		placard = fmt.Sprint(*r.Placard)
	}
	g.reads = append(g.reads, fmt.Sprintf("%s %s %s %.2f placard=%s pictures=%t", l, r.Plate, r.Color, r.Confidence, placard, r.Pictures != nil))
	g.last = r
	return nil
}

func (g *gateSide) taken() ([]string, []string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.reads...), append([]string(nil), g.heard...)
}

func newGateSide(t *testing.T) *gateSide {
	g := &gateSide{clk: clock.NewFake(time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC))}
	var logMu sync.Mutex
	h := plate.NewHandler(plate.Config{
		Cameras: map[string]plate.Camera{
			"in-1": {Format: plate.FormatHikvision, Username: "anpr", Password: "pw-in-1", AllowFrom: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}},
			"in-2": {Format: plate.FormatDahua, Token: "tok-in-2"},
			"in-3": {Format: plate.FormatHikvision, AllowFrom: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}},
			"in-4": {Format: plate.FormatJSON, Token: "tok-in-4"},
		},
		Deliver: g.deliver,
		Heard: func(l string) {
			g.mu.Lock()
			g.heard = append(g.heard, l)
			g.mu.Unlock()
		},
		Clock: g.clk,
		Log:   slog.New(slog.NewTextHandler(lockedWriter{&logMu, &g.log}, nil)),
	})
	mux := http.NewServeMux()
	mux.Handle(plate.Pattern, h)
	mux.HandleFunc(plate.NativePattern, h.ServeNative)
	g.srv = httptest.NewServer(mux)
	t.Cleanup(g.srv.Close)
	return g
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func testdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// post sends one push; digest answers the gate's challenge as a camera
// does (one request without, one with).
func (g *gateSide) post(t *testing.T, path, ctype string, body []byte, digest *[2]string) (int, string, http.Header) {
	t.Helper()
	send := func(auth string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, g.srv.URL+path, bytes.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := g.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := send("")
	if digest != nil && resp.StatusCode == http.StatusUnauthorized {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		auth, err := plate.DigestAuthorization(resp.Header.Get("WWW-Authenticate"), http.MethodPost, path, digest[0], digest[1])
		if err != nil {
			t.Fatal(err)
		}
		resp = send(auth)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestNativePushesOverHTTP(t *testing.T) {
	g := newGateSide(t)
	plateJPEG, sceneJPEG := testdata(t, "plate.jpg"), testdata(t, "scene.jpg")
	good := &[2]string{"anpr", "pw-in-1"}
	tanker := testdata(t, "isapi_anpr_tanker.xml")
	ctype, multi := plate.ISAPIMultipart(tanker, plateJPEG, sceneJPEG)
	_, notJPEG := plate.ISAPIMultipart(tanker, plateJPEG, []byte("GIF89a"))
	_, noXML := plate.ISAPIMultipart(nil, plateJPEG, nil)
	noXML = bytes.Replace(noXML, []byte(`name="anpr.xml"; filename="anpr.xml"`), []byte(`name="note"; filename="note.txt"`), 1)
	noXML = bytes.Replace(noXML, []byte(`application/xml; charset="UTF-8"`), []byte("text/plain"), 1)
	huge := append(append([]byte{}, multi...), bytes.Repeat([]byte{0}, plate.MaxNativeBody)...)

	for _, c := range []struct {
		name, path, ctype string
		body              []byte
		digest            *[2]string
		code              int
		says              string
		read              string // the read delivered, "" for none
		heard             bool
	}{
		{"hikvision ANPR with its pictures, digest", "/api/v1/cameras/in-1/", ctype, multi, good, 200, `"Result":true`, "in-1 浙B12345 yellow 0.97 placard=true pictures=true", true},
		{"hikvision heartbeat", "/api/v1/cameras/in-1/", "application/xml", testdata(t, "isapi_heartbeat.xml"), good, 200, "", "", true},
		{"hikvision colour written before the plate", "/api/v1/cameras/in-1/", "application/xml", testdata(t, "isapi_anpr_colour_prefix.xml"), good, 200, "", "in-1 浙B12345 blue 0.78 placard=false pictures=false", true},
		{"hikvision saw a vehicle, read no plate", "/api/v1/cameras/in-1/", "application/xml", testdata(t, "isapi_anpr_no_plate.xml"), good, 200, "", "", true},
		{"no digest", "/api/v1/cameras/in-1/", ctype, multi, nil, 401, "missing Authorization: Digest", "", false},
		{"wrong password", "/api/v1/cameras/in-1/", ctype, multi, &[2]string{"anpr", "guess"}, 401, "wrong username or password", "", false},
		{"confidence out of range", "/api/v1/cameras/in-1/", "application/xml", testdata(t, "isapi_bad_confidence.xml"), good, 400, "confidence 970 is not in 0..100", "", false},
		{"XML cut short", "/api/v1/cameras/in-1/", "application/xml", testdata(t, "isapi_truncated.xml"), good, 400, "not an EventNotificationAlert", "", false},
		{"a picture that is not a JPEG", "/api/v1/cameras/in-1/", ctype, notJPEG, good, 400, `part \"detectionPicture.jpg\" is not a JPEG picture`, "", false},
		{"multipart without the alert", "/api/v1/cameras/in-1/", ctype, noXML, good, 400, "no anpr.xml part", "", false},
		{"multipart cut short", "/api/v1/cameras/in-1/", ctype, multi[:len(multi)-200], good, 400, "hikvision push: part 3: unexpected EOF", "", false},
		{"oversized", "/api/v1/cameras/in-1/", ctype, huge, good, 413, "body over", "", false},
		{"JSON content type to a hikvision lane", "/api/v1/cameras/in-1/", "application/json", []byte(`{"plate":"浙B12345"}`), good, 400, "multipart/form-data or XML", "", false},
		{"dahua tollgate with its pictures, token in the URL", "/api/v1/cameras/in-2/NotificationInfo/TollgateInfo?token=tok-in-2", "application/json", testdata(t, "itsapi_tollgate_tanker.json"), nil, 200, `"Result":true`, "in-2 浙B12345 yellow 0.91 placard=? pictures=true", true},
		{"dahua keep-alive", "/api/v1/cameras/in-2/NotificationInfo/KeepAlive?token=tok-in-2", "application/json", testdata(t, "itsapi_keepalive.json"), nil, 200, "", "", true},
		{"dahua wrong token", "/api/v1/cameras/in-2/NotificationInfo/TollgateInfo?token=tok-in-1", "application/json", testdata(t, "itsapi_tollgate_tanker.json"), nil, 401, "invalid token", "", false},
		{"dahua no token", "/api/v1/cameras/in-2/NotificationInfo/TollgateInfo", "application/json", testdata(t, "itsapi_tollgate_tanker.json"), nil, 401, "missing Authorization", "", false},
		{"dahua picture not a JPEG", "/api/v1/cameras/in-2/NotificationInfo/TollgateInfo?token=tok-in-2", "application/json", testdata(t, "itsapi_tollgate_not_jpeg.json"), nil, 400, "Picture.NormalPic.Content is not a JPEG picture", "", false},
		{"dahua malformed", "/api/v1/cameras/in-2/NotificationInfo/TollgateInfo?token=tok-in-2", "application/json", testdata(t, "itsapi_tollgate_tanker.json")[:300], nil, 400, "not JSON", "", false},
		{"dahua unknown push", "/api/v1/cameras/in-2/NotificationInfo/Other?token=tok-in-2", "application/json", []byte(`{}`), nil, 400, "not an ITSAPI push", "", false},
		{"source not allowed", "/api/v1/cameras/in-3/", "application/xml", testdata(t, "isapi_heartbeat.xml"), nil, 403, "is not lane \\\"in-3\\\"'s camera", "", false},
		{"unknown lane", "/api/v1/cameras/in-9/", "application/xml", testdata(t, "isapi_heartbeat.xml"), nil, 404, "takes no Hikvision or Dahua pushes", "", false},
		{"JSON push path to a hikvision lane", "/api/v1/lanes/in-1/plate", "application/json", []byte(`{"plate":"浙B12345"}`), nil, 404, "pushes hikvision to /api/v1/cameras/in-1/", "", false},
		{"JSON camera's colour is taken", "/api/v1/lanes/in-4/plate", "", []byte(`{"plate":"浙B12345","color":"Yellow"}`), nil, 202, "", "in-4 浙B12345 yellow 1.00 placard=? pictures=false", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			reads0, heard0 := g.taken()
			path := c.path
			var code int
			var body string
			if c.name == "JSON camera's colour is taken" {
				req, _ := http.NewRequest("POST", g.srv.URL+path, bytes.NewReader(c.body))
				req.Header.Set("Authorization", "Bearer tok-in-4")
				resp, err := g.srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				code, body = resp.StatusCode, string(b)
			} else {
				code, body, _ = g.post(t, path, c.ctype, c.body, c.digest)
			}
			if code != c.code || !strings.Contains(body, c.says) {
				t.Fatalf("got %d %s, want %d saying %q", code, body, c.code, c.says)
			}
			reads, heard := g.taken()
			newReads := reads[len(reads0):]
			switch {
			case c.read == "" && len(newReads) != 0:
				t.Fatalf("delivered %q", newReads)
			case c.read != "" && (len(newReads) != 1 || newReads[0] != c.read):
				t.Fatalf("delivered %q, want %q", newReads, c.read)
			}
			if got := len(heard) > len(heard0); got != c.heard {
				t.Fatalf("heard = %t, want %t", got, c.heard)
			}
			if c.code >= 400 && !strings.Contains(g.log.String(), "plate push refused") {
				t.Fatalf("refusal not logged: %s", g.log.String())
			}
		})
	}
	// The pictures delivered are the camera's, byte for byte.
	code, _, _ := g.post(t, "/api/v1/cameras/in-1/", ctype, multi, good)
	if code != 200 || !bytes.Equal(g.last.Pictures.Plate, plateJPEG) || !bytes.Equal(g.last.Pictures.Scene, sceneJPEG) {
		t.Fatalf("pictures not the camera's: %d", code)
	}
	code, _, _ = g.post(t, "/api/v1/cameras/in-2/NotificationInfo/TollgateInfo?token=tok-in-2", "application/json", testdata(t, "itsapi_tollgate_tanker.json"), nil)
	if code != 200 || !bytes.Equal(g.last.Pictures.Plate, plateJPEG) || !bytes.Equal(g.last.Pictures.Scene, sceneJPEG) {
		t.Fatalf("dahua pictures not the camera's: %d", code)
	}
}

// TestDigestNonceExpires: an Authorization made on an old nonce is
// challenged again with stale=true, and nothing is taken.
func TestDigestNonceExpires(t *testing.T) {
	g := newGateSide(t)
	path := "/api/v1/cameras/in-1/"
	req, _ := http.NewRequest("POST", g.srv.URL+path, bytes.NewReader(plate.ISAPIHeartbeat()))
	resp, err := g.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	auth, err := plate.DigestAuthorization(resp.Header.Get("WWW-Authenticate"), "POST", path, "anpr", "pw-in-1")
	if err != nil {
		t.Fatal(err)
	}
	g.clk.Advance(6 * time.Minute)
	req, _ = http.NewRequest("POST", g.srv.URL+path, bytes.NewReader(plate.ISAPIHeartbeat()))
	req.Header.Set("Authorization", auth)
	resp, err = g.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "stale=true") {
		t.Fatalf("old nonce: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	// Another URI than the one signed is refused too.
	req, _ = http.NewRequest("POST", g.srv.URL+path+"other", bytes.NewReader(plate.ISAPIHeartbeat()))
	req.Header.Set("Authorization", auth)
	resp, _ = g.srv.Client().Do(req)
	resp.Body.Close()
	if _, heard := g.taken(); resp.StatusCode != 401 || len(heard) != 0 {
		t.Fatalf("another uri: %d, heard %v", resp.StatusCode, heard)
	}
}

// TestBuiltPushesParseAsRecorded: the simulator's pushes read as the
// recorded ones do.
func TestBuiltPushesParseAsRecorded(t *testing.T) {
	pj, sj := testdata(t, "plate.jpg"), testdata(t, "scene.jpg")
	ct, body := plate.ISAPIMultipart(plate.ISAPIAlert("浙B12345", "yellow", 97, "yes", true, true), pj, sj)
	rep, err := plate.ParseISAPI(ct, body)
	if err != nil || rep.Read.Plate != "浙B12345" || rep.Read.Color != "yellow" || rep.Read.Placard == nil || !*rep.Read.Placard || rep.Read.Pictures == nil {
		t.Fatalf("isapi %+v %v", rep, err)
	}
	rep, err = plate.ParseITSAPI("/x/NotificationInfo/TollgateInfo", plate.ITSAPITollgate("浙B12345", "Blue", 88, pj, sj))
	if err != nil || rep.Read.Color != "blue" || rep.Read.Confidence != 0.88 || !bytes.Equal(rep.Read.Pictures.Scene, sj) {
		t.Fatalf("itsapi %+v %v", rep, err)
	}
	var v any
	if json.Unmarshal(plate.ITSAPIKeepAlive("d"), &v) != nil {
		t.Fatal("keep-alive not JSON")
	}
}

// A camera refused again and again is logged once per 10 s, with the count
// of the refusals between.
func TestRefusalsLoggedRateLimited(t *testing.T) {
	g := newGateSide(t)
	for range 5 {
		g.post(t, "/api/v1/cameras/in-2/NotificationInfo/KeepAlive?token=wrong", "application/json", []byte(`{}`), nil)
	}
	if n := strings.Count(g.log.String(), "plate push refused"); n != 1 {
		t.Fatalf("logged %d times:\n%s", n, g.log.String())
	}
	g.clk.Advance(10 * time.Second)
	g.post(t, "/api/v1/cameras/in-2/NotificationInfo/KeepAlive?token=wrong", "application/json", []byte(`{}`), nil)
	if !strings.Contains(g.log.String(), "more_refused=4") {
		t.Fatalf("no count of the quiet refusals:\n%s", g.log.String())
	}
}
