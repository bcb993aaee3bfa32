package kiosk

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hazgate/hazgate/gate"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/lane/lanetest"
)

// screens counts what the kiosk told of each lane's display screens.
type screens struct {
	mu   sync.Mutex
	n    map[string]int
	wake chan struct{}
}

func newScreens() *screens { return &screens{n: map[string]int{}, wake: make(chan struct{}, 1)} }

func (s *screens) set(name string, n int) {
	s.mu.Lock()
	s.n[name] = n
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *screens) wait(t *testing.T, name string, want int) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		s.mu.Lock()
		got := s.n[name]
		s.mu.Unlock()
		if got == want {
			return
		}
		select {
		case <-s.wake:
		case <-timeout:
			t.Fatalf("screens of %s: %d, want %d", name, got, want)
		}
	}
}

// allFaces scores every test person's face: a compliant vehicle passes.
func allFaces(*gate.Lane) lane.FaceMatcher {
	return &lanetest.FaceMatcher{Scores: map[string]float64{driver1.IDNumber: 0.93, escort2.IDNumber: 0.91, driver3.IDNumber: 0.95, escort4.IDNumber: 0.92}}
}

func displayHarness(t *testing.T, sc *screens) *harness {
	cfg := Config{Display: DisplayConfig{
		Allow:   map[string][]netip.Prefix{"in-1": {netip.MustParsePrefix("127.0.0.1/32")}},
		Screens: sc.set,
	}}
	return newHarnessWith(t, cfg, harnessOptions{faces: allFaces}, "in-1", "in-2")
}

func TestDisplayAddresses(t *testing.T) {
	h := displayHarness(t, newScreens())
	for _, tc := range []struct {
		name, from, path string
		want             int
	}{
		{"the lane's screen", "127.0.0.1", "/display/in-1", http.StatusOK},
		{"another address", "127.0.0.2", "/display/in-1", http.StatusForbidden},
		{"another address's stream", "127.0.0.2", "/display/in-1/events", http.StatusForbidden},
		{"a lane without a limit", "127.0.0.2", "/display/in-2", http.StatusOK},
		{"no such lane", "127.0.0.1", "/display/in-9", http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := h.clientFrom(tc.from).do(http.MethodGet, tc.path, nil)
			if a.status != tc.want {
				t.Fatalf("%s from %s: %d, want %d", tc.path, tc.from, a.status, tc.want)
			}
			if tc.want == http.StatusOK && !strings.Contains(string(a.body), "/ui/display.js") {
				t.Fatalf("not the display page: %s", a.body)
			}
		})
	}
}

// The stream: the whole view on connect, with the plate and the prompt and
// never a person's name or ID number; a screen connected counts for the
// display's health.
func TestDisplayStream(t *testing.T) {
	sc := newScreens()
	h := displayHarness(t, sc)
	h.arrive("in-1", vehicle{plate: "浙B20001", trailer: "浙B2001挂", driver: &driver1})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.http.URL+"/display/in-1/events", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	sc.wait(t, "in-1", 1)
	rd := bufio.NewReader(res.Body)
	next := func() (string, map[string]any) {
		t.Helper()
		var data string
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				t.Fatalf("stream: %v", err)
			}
			line = strings.TrimRight(line, "\n")
			if d, ok := strings.CutPrefix(line, "data: "); ok {
				data = d
			}
			if line == "" && data != "" {
				var m map[string]any
				if err := json.Unmarshal([]byte(data), &m); err != nil {
					t.Fatal(err)
				}
				return data, m
			}
		}
	}
	raw, v := next()
	if v["prompt"] != "swipe_escort" || v["zh"] != "押运员请刷身份证" || v["plate"] != "浙B20001" || v["deadline"] == nil {
		t.Fatalf("view on connect: %s", raw)
	}
	for _, secret := range []string{driver1.IDNumber, driver1.Name, "id_number", "evidence"} {
		if strings.Contains(raw, secret) {
			t.Fatalf("the display's view carries %q: %s", secret, raw)
		}
	}
	h.send("in-1", lane.CardRead{Person: escort2}, lane.WaybillScanned{Number: reviewVehicle.waybill})
	for {
		raw, v = next()
		if v["prompt"] == "pass" {
			break
		}
	}
	if v["verdict"] != "pass" || v["en"] != "Checks passed, drive on" || strings.Contains(raw, escort2.IDNumber) {
		t.Fatalf("passed: %s", raw)
	}
	cancel()
	sc.wait(t, "in-1", 0)
}
