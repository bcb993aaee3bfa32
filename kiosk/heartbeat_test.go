package kiosk

import (
	"bufio"
	"context"
	"net/http"
	"testing"
	"time"
)

func TestHeartbeatDefault(t *testing.T) {
	if got := (Config{}).withDefaults().Heartbeat; got != DefaultHeartbeat || DefaultHeartbeat != 15*time.Second {
		t.Fatalf("default heartbeat %v (DefaultHeartbeat %v), want 15s", got, DefaultHeartbeat)
	}
}

// An open event stream beats every Heartbeat of the kiosk's clock: a
// keep-alive comment, and its session kept alive past SessionIdle while
// the screen makes no request of its own.
func TestHeartbeatKeepsTheSessionAlive(t *testing.T) {
	const beat, idle = time.Minute, 90 * time.Second
	h := newHarness(t, Config{Heartbeat: beat, SessionIdle: idle}, "in-1")
	h.addOperator("op", RoleOperator, opPassword)
	op := h.client().mustLogin("op", opPassword)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", op.base+"/api/v1/events", nil)
	res, err := op.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("events = %d", res.StatusCode)
	}
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	await := func(want string) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("the stream ended before %q", want)
				}
				if l == want {
					return
				}
			case <-deadline:
				t.Fatalf("no %q on the stream within 10 s", want)
			}
		}
	}
	await("event: hello") // the heartbeat is armed by now

	start := h.wallClk.Now()
	for i := 1; i <= 3; i++ {
		next, ok := h.wallClk.Next()
		if want := start.Add(time.Duration(i) * beat); !ok || !next.Equal(want) {
			t.Fatalf("beat %d: next timer at %v (set %v), want %v", i, next, ok, want)
		}
		h.wallClk.AdvanceTo(next)
		await(": keep-alive")
	}
	// Three minutes since the screen's last request, twice SessionIdle:
	// the beats kept the session.
	if a := op.do("GET", "/api/v1/lanes", nil); a.status != http.StatusOK {
		t.Fatalf("after %v of beats, GET /api/v1/lanes = %d %s; want the session alive", 3*beat, a.status, a.body)
	}
}
