package simhttp

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/registry"
)

// Waybill is a simulated waybill service: it speaks hazgate's contract
// (docs/design.md, "Waybill lookup": GET ?number=N answers
// {"waybill": {...}}, 404 for a waybill it does not know) and can be made
// down (503), slow (answering after a delay on the scenario's clock), or
// made to answer a waybill as cancelled.
type Waybill struct {
	s   *server
	clk clock.Clock

	mu       sync.Mutex
	waybills map[string]registry.Waybill
	down     bool
	delay    time.Duration
	asked    int
}

// NewWaybill starts a waybill service on loopback serving ws; delays run
// on clk (an AfterFunc whose timer parks the request until it fires).
func NewWaybill(clk clock.Clock, ws []registry.Waybill) (*Waybill, error) {
	w := &Waybill{clk: clk, waybills: map[string]registry.Waybill{}}
	for _, x := range ws {
		w.waybills[x.Number] = x.Clone()
	}
	s, err := listen(w)
	if err != nil {
		return nil, err
	}
	w.s = s
	return w, nil
}

// URL is what waybill.url is set to.
func (w *Waybill) URL() string { return w.s.url + "/api/v1/waybill" }

// Close stops the service.
func (w *Waybill) Close() error { return w.s.close() }

// SetDown makes the service answer 503 (on) or work again (off).
func (w *Waybill) SetDown(on bool) {
	w.mu.Lock()
	w.down = on
	w.mu.Unlock()
}

// SetDelay makes the service answer d after each request, on its clock (0:
// at once).
func (w *Waybill) SetDelay(d time.Duration) {
	w.mu.Lock()
	w.delay = d
	w.mu.Unlock()
}

// Cancel makes the service answer the waybill number as cancelled; it
// reports whether the service holds that waybill.
func (w *Waybill) Cancel(number string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	x, ok := w.waybills[number]
	if ok {
		x.Status = registry.WaybillCancelled
		w.waybills[number] = x
	}
	return ok
}

// Asked is how many requests the service has had.
func (w *Waybill) Asked() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.asked
}

func (w *Waybill) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	w.asked++
	down, delay := w.down, w.delay
	x, ok := w.waybills[r.URL.Query().Get("number")]
	w.mu.Unlock()
	if delay > 0 {
		ready := make(chan struct{})
		t := w.clk.AfterFunc(delay, func() { close(ready) })
		select {
		case <-ready:
		case <-r.Context().Done():
			t.Stop()
			return // the client gave up: nobody reads an answer
		}
	}
	switch {
	case r.Method != http.MethodGet:
		http.Error(rw, "GET only", http.StatusMethodNotAllowed)
	case down:
		http.Error(rw, "service unavailable", http.StatusServiceUnavailable)
	case !ok:
		http.Error(rw, "no such waybill", http.StatusNotFound)
	default:
		rw.Header().Set("Content-Type", "application/json")
		json.NewEncoder(rw).Encode(map[string]any{"waybill": x})
	}
}
