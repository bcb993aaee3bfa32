// Package facematch calls the park's face-match service to compare a
// person's live face with their ID card's photo (人证对比). The wire contract
// (an adapter can translate to a vendor's API):
//
//	POST <url> {"request_id", "id_number", "card_photo_wlt": base64, "live_jpeg": base64}
//	200 {"face_found": bool, "score": 0..1, "card_photo_jpeg": base64 (optional)}
//
// The card photo is WLT-encoded on the card, which cannot be decoded in pure
// Go; a service that decodes it (most vendors' do) may return it as a JPEG in
// card_photo_jpeg, whatever face_found says. The matcher keeps it, and the
// live picture it sent, in Photos (Photos.TakeFaces) so that the inspection
// keeps them as evidence for an operator who must compare by eye. A
// card_photo_jpeg that is not a JPEG is dropped, never the score.
//
// Each attempt is bounded by a timeout, a failed attempt is retried once, and
// any failure (another status, a timeout, malformed JSON, no live picture, no
// card photo) is "no score": the identity check is then unknown, never pass.
//
// A score that is not a finite number in 0..1 (NaN, an infinity, a number
// too large for a float64) is a malformed answer, so no score.
//
// It imports checks, clock, lane (it is a lane.FaceMatcher) and strictyaml
// (its FiniteFloat) of ours; appliance and sim may import it.
package facematch

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/strictyaml"
)

var _ lane.FaceMatcher = (*Matcher)(nil)

// ErrNoScore is the class of every failure: there is no score.
var ErrNoScore = errors.New("facematch: no score")

// Sentinels, each wrapping ErrNoScore.
var (
	ErrNoFace      = fmt.Errorf("%w: no face found", ErrNoScore)
	ErrNoPhoto     = fmt.Errorf("%w: no card photo for this person", ErrNoScore)
	ErrNoLive      = fmt.Errorf("%w: no live picture", ErrNoScore)
	ErrStatus      = fmt.Errorf("%w: unexpected HTTP status", ErrNoScore)
	ErrMalformed   = fmt.Errorf("%w: malformed answer", ErrNoScore)
	ErrTimeout     = fmt.Errorf("%w: timed out", ErrNoScore)
	ErrUnreachable = fmt.Errorf("%w: service unreachable", ErrNoScore)
)

// Camera is what the matcher needs of a lane's camera (a *camera.Camera).
type Camera interface {
	Snapshot(ctx context.Context) ([]byte, error)
}

// Request is the JSON sent to the service.
type Request struct {
	RequestID    string `json:"request_id"`
	IDNumber     string `json:"id_number"`
	CardPhotoWLT []byte `json:"card_photo_wlt"` // base64 in JSON
	LiveJPEG     []byte `json:"live_jpeg"`      // base64 in JSON
}

// Response is the service's answer.
type Response struct {
	FaceFound     *bool    `json:"face_found"`
	Score         *float64 `json:"score"`
	CardPhotoJPEG []byte   `json:"card_photo_jpeg,omitempty"` // base64 in JSON
}

// Config configures a Matcher.
type Config struct {
	// URL is the service's endpoint.
	URL string
	// Timeout bounds each attempt, live picture included (default 3 s).
	Timeout time.Duration
	// Cameras returns the camera that sees the person at a lane (nil: the
	// lane has none, so there is no score).
	Cameras func(lane string) Camera
	// Photos holds the card photos the readers read.
	Photos *Photos
	Client *http.Client
	Clock  clock.Clock
	Log    *slog.Logger
}

// Matcher is the lane's FaceMatcher on the HTTP service.
type Matcher struct {
	cfg Config
}

// New returns a Matcher.
func New(cfg Config) *Matcher {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Photos == nil {
		cfg.Photos = NewPhotos(64)
	}
	if cfg.Cameras == nil {
		cfg.Cameras = func(string) Camera { return nil }
	}
	return &Matcher{cfg: cfg}
}

// Match implements lane.FaceMatcher: it returns at once and calls done once,
// from another goroutine, with the score or nil.
func (m *Matcher) Match(ctx context.Context, laneName string, p checks.PersonEvidence, done func(score *float64)) {
	// Not joined: the interface wants Match to return at once. The
	// goroutine ends with Score, that is within two attempts of at most
	// Timeout each on the clock, or sooner when ctx ends.
	go func() {
		score, err := m.Score(ctx, laneName, p.IDNumber)
		if err != nil {
			m.cfg.Log.Warn("facematch: no score", "lane", laneName, "err", err)
			done(nil)
			return
		}
		done(&score)
	}()
}

// Score compares the live face at a lane with the card photo of idNumber:
// two attempts at most, each bounded by the timeout.
func (m *Matcher) Score(ctx context.Context, laneName, idNumber string) (float64, error) {
	photo := m.cfg.Photos.Get(laneName, idNumber)
	if len(photo) == 0 {
		return 0, ErrNoPhoto
	}
	// Images left from an earlier match of this person here (one that
	// answered after its inspection was decided) go with nobody.
	m.cfg.Photos.TakeFaces(laneName, idNumber)
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		var score float64
		score, err = m.attempt(ctx, laneName, idNumber, photo)
		if err == nil || errors.Is(err, ErrNoFace) || ctx.Err() != nil {
			return score, err
		}
	}
	return 0, err
}

// attempt is one live picture and one call, within the timeout.
func (m *Matcher) attempt(ctx context.Context, laneName, idNumber string, photo []byte) (float64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	timedOut := make(chan struct{})
	t := m.cfg.Clock.AfterFunc(m.cfg.Timeout, func() { close(timedOut); cancel() })
	defer t.Stop()
	score, err := m.call(ctx, laneName, idNumber, photo)
	if err != nil {
		select {
		case <-timedOut:
			return 0, fmt.Errorf("%w after %v: %v", ErrTimeout, m.cfg.Timeout, err)
		default:
		}
	}
	return score, err
}

func (m *Matcher) call(ctx context.Context, laneName, idNumber string, photo []byte) (float64, error) {
	cam := m.cfg.Cameras(laneName)
	if cam == nil {
		return 0, fmt.Errorf("%w: lane %s has no camera", ErrNoLive, laneName)
	}
	live, err := cam.Snapshot(ctx)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrNoLive, err)
	}
	m.cfg.Photos.putFaces(laneName, idNumber, live, nil)
	body, _ := json.Marshal(Request{RequestID: requestID(), IDNumber: idNumber, CardPhotoWLT: photo, LiveJPEG: live})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := m.cfg.Client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return 0, fmt.Errorf("%w: %s", ErrStatus, resp.Status)
	}
	// The score is read as its text and parsed here, so that a number
	// beyond float64 (1e999) is seen as the infinity it is and refused by
	// strictyaml.FiniteFloat, not lost in a decoding error.
	var r struct {
		FaceFound     *bool           `json:"face_found"`
		Score         json.RawMessage `json:"score"`
		CardPhotoJPEG json.RawMessage `json:"card_photo_jpeg"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(&r); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if card := cardJPEG(r.CardPhotoJPEG); card != nil {
		m.cfg.Photos.putFaces(laneName, idNumber, live, card)
	} else if len(r.CardPhotoJPEG) > 0 && string(r.CardPhotoJPEG) != "null" {
		m.cfg.Log.Warn("facematch: the card photo answered is not a JPEG; not kept", "lane", laneName)
	}
	switch {
	case r.FaceFound == nil:
		return 0, fmt.Errorf("%w: no face_found", ErrMalformed)
	case !*r.FaceFound:
		return 0, ErrNoFace
	}
	return parseScore(r.Score)
}

// parseScore reads the answer's "score": a finite number in 0..1.
func parseScore(raw json.RawMessage) (float64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, fmt.Errorf("%w: no score", ErrMalformed)
	}
	score, err := strconv.ParseFloat(string(raw), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%w: score %s is not a number", ErrMalformed, raw)
	}
	if err := strictyaml.FiniteFloat(score); err != nil {
		return 0, fmt.Errorf("%w: score %s: %v", ErrMalformed, raw, err)
	}
	if !(score >= 0 && score <= 1) {
		return 0, fmt.Errorf("%w: score %s is not in 0..1", ErrMalformed, raw)
	}
	return score, nil
}

// cardJPEG decodes the answer's card_photo_jpeg: base64 of a JPEG (it
// starts with the SOI marker), or nil.
func cardJPEG(raw json.RawMessage) []byte {
	var b []byte
	if len(raw) == 0 || json.Unmarshal(raw, &b) != nil || len(b) < 3 || b[0] != 0xFF || b[1] != 0xD8 || b[2] != 0xFF {
		return nil
	}
	return b
}

func requestID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Photos keeps the card photos the readers read, per lane and ID number, so
// that the matcher can send them; it forgets the oldest beyond its size. It
// also keeps, until the inspection takes them (TakeFaces), the last live
// picture the matcher sent for a person and the card photo as a JPEG when
// the service answered one.
type Photos struct {
	mu    sync.Mutex
	max   int
	order []string
	m     map[string][]byte

	faceOrder []string
	faces     map[string]faces
}

// faces are the images of one person's face match: the live picture sent
// and the card photo as a JPEG (nil when the service answered none).
type faces struct {
	Live, Card []byte
}

// NewPhotos returns a store that keeps at most max photos.
func NewPhotos(max int) *Photos {
	return &Photos{max: max, m: map[string][]byte{}, faces: map[string]faces{}}
}

// putFaces keeps the live picture sent for a person, and the card photo
// answered (nil: keep the one answered before, if any, for the same
// picture).
func (p *Photos) putFaces(laneName, idNumber string, live, card []byte) {
	k := laneName + "\x00" + idNumber
	p.mu.Lock()
	defer p.mu.Unlock()
	old, ok := p.faces[k]
	if !ok {
		p.faceOrder = append(p.faceOrder, k)
	}
	if card == nil {
		card = old.Card
	}
	p.faces[k] = faces{Live: live, Card: card}
	for len(p.faceOrder) > p.max {
		delete(p.faces, p.faceOrder[0])
		p.faceOrder = p.faceOrder[1:]
	}
}

// TakeFaces returns the images of the last face match of a person at a lane
// (the live picture sent, the card photo answered or nil) and forgets them,
// so that they go with one inspection only; ok is false when there are
// none.
func (p *Photos) TakeFaces(laneName, idNumber string) (live, card []byte, ok bool) {
	k := laneName + "\x00" + idNumber
	p.mu.Lock()
	defer p.mu.Unlock()
	f, ok := p.faces[k]
	if !ok {
		return nil, nil, false
	}
	delete(p.faces, k)
	p.faceOrder = slices.DeleteFunc(p.faceOrder, func(o string) bool { return o == k })
	return f.Live, f.Card, true
}

// Put keeps the photo of the card just read at a lane.
func (p *Photos) Put(laneName, idNumber string, photo []byte) {
	k := laneName + "\x00" + idNumber
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.m[k]; !ok {
		p.order = append(p.order, k)
	}
	p.m[k] = photo
	for len(p.order) > p.max {
		delete(p.m, p.order[0])
		p.order = p.order[1:]
	}
}

// Get returns the photo, or nil.
func (p *Photos) Get(laneName, idNumber string) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.m[laneName+"\x00"+idNumber]
}
