package kiosk

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hazgate/hazgate/lane"
)

func TestHubBounds(t *testing.T) {
	hb := newHub(2, 3)
	a, b := [32]byte{'a'}, [32]byte{'b'}
	a1, _, err := hb.subscribe(a)
	if err != nil {
		t.Fatal(err)
	}
	_, cancelA2, err := hb.subscribe(a)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = hb.subscribe(b)
	if err != nil {
		t.Fatal(err)
	}
	// b is under its bound but the kiosk is at its total.
	if _, _, err := hb.subscribe(b); !errors.Is(err, errTooManyStreams) {
		t.Fatalf("b's second stream at the total = %v, want errTooManyStreams", err)
	}
	// a's third supersedes a's first (the total does not refuse it: it
	// takes the first's place).
	_, _, err = hb.subscribe(a)
	if err != nil {
		t.Fatalf("a's third stream = %v", err)
	}
	select {
	case <-a1.superseded:
	default:
		t.Fatal("a's oldest stream was not superseded")
	}
	if total, mine := hb.streams(a); total != 3 || mine != 2 {
		t.Fatalf("streams %d, a's %d; want 3 and 2", total, mine)
	}
	cancelA2()
	cancelA2() // again: harmless
	if total, mine := hb.streams(a); total != 2 || mine != 1 {
		t.Fatalf("after a cancel: streams %d, a's %d; want 2 and 1", total, mine)
	}
	if _, _, err := hb.subscribe(b); err != nil {
		t.Fatalf("b's second stream after a cancel = %v", err)
	}
}

// streamStatus asks for the event stream and returns the answer's status
// (a 200 stream is closed at once).
func streamStatus(t *testing.T, c *client, ctx context.Context) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", c.base+"/api/v1/events", nil)
	res, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// sessionKey is the client's session, as the kiosk keys it.
func sessionKey(t *testing.T, c *client) [32]byte {
	t.Helper()
	u, err := url.Parse(c.base)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range c.hc.Jar.Cookies(u) {
		if k.Name == sessionCookie {
			return sha256.Sum256([]byte(k.Value))
		}
	}
	t.Fatal("no session cookie")
	return [32]byte{}
}

// TestStreamsPerSession opens many more live streams from one session than
// it may keep: each new one past 8 supersedes the session's oldest, which
// is told so and ends, so the kiosk holds 8 whatever the session asks.
// Another session's streams are untouched, and the kiosk's total is
// refused with 429.
func TestStreamsPerSession(t *testing.T) {
	h := newHarness(t, Config{MaxStreams: 20}, "in-1")
	h.addOperator("op", RoleOperator, opPassword)
	h.addOperator("sup", RoleSupervisor, supPassword)
	op := h.client().mustLogin("op", opPassword)
	sup := h.client().mustLogin("sup", supPassword)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	other := stream(t, sup, ctx)
	next(t, other, func(e sseEvent) bool { return e.name == "hello" })
	base := runtime.NumGoroutine()
	var chans []<-chan sseEvent
	for i := range 200 {
		ch := stream(t, op, ctx)
		next(t, ch, func(e sseEvent) bool { return e.name == "hello" })
		chans = append(chans, ch)
		if i >= DefaultStreamsPerSession {
			// The oldest still open gives way, says so and ends.
			old := chans[i-DefaultStreamsPerSession]
			e := next(t, old, func(e sseEvent) bool { return e.name == "superseded" })
			if !strings.Contains(e.data, `"max":8`) {
				t.Fatalf("superseded %q", e.data)
			}
			ended(t, old)
		}
		if total, mine := h.srv.hub.streams(sessionKey(t, op)); mine != min(i+1, DefaultStreamsPerSession) || total != mine+1 {
			t.Fatalf("after %d streams: %d in all, %d of the session", i+1, total, mine)
		}
	}
	// What the kiosk holds is bounded by the 8 streams, not the 200 asked
	// for: no handler of a superseded stream is left (each would hold a
	// goroutine on either side of its connection).
	// About 5 goroutines per live stream (the handler, the server's and
	// the client's connection, this test's reader): 200 held would be a
	// thousand; 8 are about 45. The bound leaves room for connections
	// still closing.
	if n := runtime.NumGoroutine(); n-base > 150 {
		t.Fatalf("goroutines: %d before the 200 streams, %d after: the superseded ones are held", base, n)
	}
	// The other session's stream still gets the lanes.
	h.send("in-1", lane.VehiclePresent{})
	next(t, other, func(e sseEvent) bool { return e.name == "lane" && strings.Contains(e.data, `"phase":"collecting"`) })

	// The kiosk's total (20 here): op's 8, sup's 8 and 4 of a third
	// session; its 5th is refused.
	for range DefaultStreamsPerSession - 1 {
		stream(t, sup, ctx)
	}
	third := h.client().mustLogin("op", opPassword)
	for range 4 {
		stream(t, third, ctx)
	}
	if status := streamStatus(t, third, ctx); status != http.StatusTooManyRequests {
		t.Fatalf("the 21st stream = %d, want 429", status)
	}
}

// ended waits for a stream's end.
func ended(t *testing.T, ch <-chan sseEvent) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("the superseded stream did not end within 10 s")
		}
	}
}
