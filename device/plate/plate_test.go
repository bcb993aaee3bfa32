package plate_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/hazgate/hazgate/device/plate"
	"github.com/hazgate/hazgate/lane"
)

type sink struct {
	mu  sync.Mutex
	got []string
}

func (s *sink) deliver(l string, r lane.PlateRead) error {
	if l == "in-9" {
		return errors.New("lane stopped")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, l+" "+r.String())
	return nil
}

func TestPush(t *testing.T) {
	s := &sink{}
	h := plate.NewHandler(plate.Config{Tokens: map[string]string{"in-1": "tok-in-1", "in-2": "tok-in-2", "in-9": "tok-in-9"}, Deliver: s.deliver})
	mux := http.NewServeMux()
	mux.Handle(plate.Pattern, h)
	for _, c := range []struct {
		name, method, path, token, ctype, body string
		code                                   int
		says                                   string
	}{
		{"good", "POST", "/api/v1/lanes/in-1/plate", "tok-in-1", "application/json", `{"plate":"浙B12345","trailer":"浙B6789挂","color":"yellow","confidence":0.97}`, 202, ""},
		{"no confidence counts as sure", "POST", "/api/v1/lanes/in-1/plate", "tok-in-1", "", `{"plate":"浙B12345"}`, 202, ""},
		{"no token", "POST", "/api/v1/lanes/in-1/plate", "", "application/json", `{"plate":"浙B12345"}`, 401, "missing Authorization"},
		{"another lane's token", "POST", "/api/v1/lanes/in-1/plate", "tok-in-2", "application/json", `{"plate":"浙B12345"}`, 401, "invalid token"},
		{"unknown lane", "POST", "/api/v1/lanes/in-7/plate", "tok-in-1", "application/json", `{"plate":"浙B12345"}`, 404, "takes no plate pushes"},
		{"not JSON", "POST", "/api/v1/lanes/in-1/plate", "tok-in-1", "text/plain", `浙B12345`, 415, "application/json"},
		{"malformed", "POST", "/api/v1/lanes/in-1/plate", "tok-in-1", "application/json", `{"plate":`, 400, "not the JSON"},
		{"no plate", "POST", "/api/v1/lanes/in-1/plate", "tok-in-1", "application/json", `{"trailer":"浙B6789挂"}`, 400, "plate"},
		{"confidence out of range", "POST", "/api/v1/lanes/in-1/plate", "tok-in-1", "application/json", `{"plate":"浙B12345","confidence":97}`, 400, "confidence"},
		{"confidence beyond float64", "POST", "/api/v1/lanes/in-1/plate", "tok-in-1", "application/json", `{"plate":"浙B12345","confidence":1e999}`, 400, `\"confidence\" 1e999: +Inf is not a finite number`},
		{"confidence beyond float64, negative", "POST", "/api/v1/lanes/in-1/plate", "tok-in-1", "application/json", `{"plate":"浙B12345","confidence":-1e999}`, 400, `\"confidence\" -1e999: -Inf is not a finite number`},
		{"confidence NaN as a string", "POST", "/api/v1/lanes/in-1/plate", "tok-in-1", "application/json", `{"plate":"浙B12345","confidence":"NaN"}`, 400, `\"confidence\" \"NaN\" is not a number`},
		{"confidence NaN as a bare word", "POST", "/api/v1/lanes/in-1/plate", "tok-in-1", "application/json", `{"plate":"浙B12345","confidence":NaN}`, 400, "not the JSON"},
		{"confidence below 0", "POST", "/api/v1/lanes/in-1/plate", "tok-in-1", "application/json", `{"plate":"浙B12345","confidence":-0.5}`, 400, `\"confidence\" -0.5 is not in 0..1`},
		{"lane cannot take it", "POST", "/api/v1/lanes/in-9/plate", "tok-in-9", "application/json", `{"plate":"浙B12345"}`, 503, "cannot take"},
		{"too big", "POST", "/api/v1/lanes/in-1/plate", "tok-in-1", "application/json", `{"plate":"浙B12345","image":"` + strings.Repeat("A", 2<<20) + `"}`, 413, "body over"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
			if c.token != "" {
				req.Header.Set("Authorization", "Bearer "+c.token)
			}
			if c.ctype != "" {
				req.Header.Set("Content-Type", c.ctype)
			}
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			if rec.Code != c.code || !strings.Contains(rec.Body.String(), c.says) {
				t.Fatalf("got %d %s, want %d saying %q", rec.Code, rec.Body, c.code, c.says)
			}
		})
	}
	if len(s.got) != 2 || s.got[0] != `in-1 PlateRead{"浙B12345" "浙B6789挂" 0.97}` || s.got[1] != `in-1 PlateRead{"浙B12345" "" 1.00}` {
		t.Fatalf("delivered %q", s.got)
	}
	// Mounted without the pattern, the lane comes from the path; GET is
	// refused.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/lanes/in-1/plate", nil))
	if rec.Code != 405 || rec.Header().Get("Allow") != "POST" {
		t.Fatalf("GET: %d", rec.Code)
	}
}
