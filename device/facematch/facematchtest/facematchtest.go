// Package facematchtest is a fake face-match service speaking facematch's
// wire contract: an http.Handler that answers each person's score as set,
// and can be told to be down, slow or to answer garbage.
//
// It imports only clock and facematch of ours; only tests and sim/simhttp
// import it.
package facematchtest

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/device/facematch"
)

// Service is the fake service.
type Service struct {
	// Clock times Slow (default: the real clock).
	Clock clock.Clock
	// CardPhoto, when set, gives the card photo answered as
	// card_photo_jpeg for an ID number (nil: none answered).
	CardPhoto func(idNumber string) []byte

	mu        sync.Mutex
	scores    map[string]*float64
	down      bool
	slow      time.Duration
	malformed bool
	requests  []facematch.Request
}

// SetScore sets the score answered for idNumber; nil answers
// face_found: false. A person without a score set gets face_found: false.
func (s *Service) SetScore(idNumber string, score *float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.scores == nil {
		s.scores = map[string]*float64{}
	}
	s.scores[idNumber] = score
}

// SetDown makes the service drop every connection (on), or answer (off).
func (s *Service) SetDown(on bool) { s.mu.Lock(); s.down = on; s.mu.Unlock() }

// SetSlow delays every answer by d on the clock.
func (s *Service) SetSlow(d time.Duration) { s.mu.Lock(); s.slow = d; s.mu.Unlock() }

// SetMalformed makes the service answer 200 with garbage.
func (s *Service) SetMalformed(on bool) { s.mu.Lock(); s.malformed = on; s.mu.Unlock() }

// Requests returns the requests received, in order.
func (s *Service) Requests() []facematch.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]facematch.Request(nil), s.requests...)
}

// ServeHTTP answers one match request.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	down, slow, malformed := s.down, s.slow, s.malformed
	s.mu.Unlock()
	if down {
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	var req facematch.Request
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<20)).Decode(&req); err != nil || req.RequestID == "" || len(req.CardPhotoWLT) == 0 || len(req.LiveJPEG) == 0 {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	score := s.scores[req.IDNumber]
	s.mu.Unlock()
	if slow > 0 {
		clk := s.Clock
		if clk == nil {
			clk = clock.Real{}
		}
		if !clock.Sleep(r.Context(), clk, slow) {
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if malformed {
		w.Write([]byte(`{"face_found": tru`))
		return
	}
	ans := facematch.Response{FaceFound: ptr(score != nil), Score: score}
	if s.CardPhoto != nil {
		ans.CardPhotoJPEG = s.CardPhoto(req.IDNumber)
	}
	json.NewEncoder(w).Encode(ans)
}

func ptr[T any](v T) *T { return &v }
