// Package camera takes JPEG snapshots from an IP camera's HTTP snapshot URL
// (as ISAPI, ONVIF snapshot URIs and most cameras expose), with no, basic or
// digest authentication and a timeout.
//
// It imports only clock of ours; appliance and sim may import it.
package camera

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/hazgate/hazgate/digest"

	"github.com/hazgate/hazgate/clock"
)

// ErrUnavailable is the class of every snapshot failure: the camera did not
// give a picture this time.
var ErrUnavailable = errors.New("camera: no snapshot")

// Sentinels, each wrapping ErrUnavailable.
var (
	ErrUnauthorized = fmt.Errorf("%w: credentials refused", ErrUnavailable)
	ErrStatus       = fmt.Errorf("%w: unexpected HTTP status", ErrUnavailable)
	ErrNotJPEG      = fmt.Errorf("%w: not a JPEG", ErrUnavailable)
	ErrTimeout      = fmt.Errorf("%w: timed out", ErrUnavailable)
)

// Auth schemes.
const (
	AuthNone   = "none"
	AuthBasic  = "basic"
	AuthDigest = "digest"
)

// maxSnapshot bounds a snapshot's size.
const maxSnapshot = 16 << 20

// Config configures a camera.
type Config struct {
	// URL is the snapshot URL.
	URL string
	// Username and Password are the camera's credentials.
	Username, Password string
	// Auth is AuthNone (default when no username), AuthBasic or AuthDigest.
	Auth string
	// Timeout bounds one snapshot, authentication included (default 5 s).
	Timeout time.Duration
	// Client is the HTTP client (default: a plain one).
	Client *http.Client
	// Clock times the timeout (default: the real clock).
	Clock clock.Clock
}

// Camera takes snapshots. It is safe for concurrent use.
type Camera struct {
	cfg Config

	mu        sync.Mutex
	challenge *digest.Challenge // the last digest challenge, reused until stale
}

// New returns a camera.
func New(cfg Config) (*Camera, error) {
	if cfg.URL == "" {
		return nil, errors.New("camera: no snapshot URL")
	}
	if cfg.Auth == "" {
		cfg.Auth = AuthNone
		if cfg.Username != "" {
			cfg.Auth = AuthDigest
		}
	}
	switch cfg.Auth {
	case AuthNone, AuthBasic, AuthDigest:
	default:
		return nil, fmt.Errorf("camera: auth %q is not none, basic or digest", cfg.Auth)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	return &Camera{cfg: cfg}, nil
}

// Snapshot returns one JPEG from the camera.
func (c *Camera) Snapshot(ctx context.Context) ([]byte, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	timedOut := make(chan struct{})
	t := c.cfg.Clock.AfterFunc(c.cfg.Timeout, func() { close(timedOut); cancel() })
	defer t.Stop()
	b, err := c.snapshot(ctx)
	if err != nil {
		select {
		case <-timedOut:
			return nil, fmt.Errorf("%w after %v: %s", ErrTimeout, c.cfg.Timeout, c.cfg.URL)
		default:
		}
	}
	return b, err
}

func (c *Camera) snapshot(ctx context.Context) ([]byte, error) {
	resp, err := c.get(ctx, c.authorization())
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized && c.cfg.Auth == AuthDigest {
		ch, perr := digest.ParseChallenge(resp.Header.Values("WWW-Authenticate"))
		drain(resp)
		if perr != nil {
			return nil, fmt.Errorf("%w: camera: %v", ErrUnauthorized, perr)
		}
		c.mu.Lock()
		c.challenge = ch
		c.mu.Unlock()
		if resp, err = c.get(ctx, c.authorization()); err != nil {
			return nil, err
		}
	}
	defer drain(resp)
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("%w: %s from %s", ErrUnauthorized, resp.Status, c.cfg.URL)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%w: %s from %s", ErrStatus, resp.Status, c.cfg.URL)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxSnapshot+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading %s: %w", ErrUnavailable, c.cfg.URL, err)
	}
	if len(b) > maxSnapshot || !bytes.HasPrefix(b, []byte{0xFF, 0xD8}) {
		return nil, fmt.Errorf("%w: %d bytes of %s from %s", ErrNotJPEG, len(b), resp.Header.Get("Content-Type"), c.cfg.URL)
	}
	return b, nil
}

func (c *Camera) get(ctx context.Context, authz string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	req.Header.Set("Accept", "image/jpeg")
	if authz != "" {
		req.Header.Set("Authorization", authz)
	} else if c.cfg.Auth == AuthBasic {
		req.SetBasicAuth(c.cfg.Username, c.cfg.Password)
	}
	resp, err := c.cfg.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return resp, nil
}

// authorization returns the digest Authorization header for the last
// challenge, or "".
func (c *Camera) authorization() string {
	if c.cfg.Auth != AuthDigest {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.challenge == nil {
		return ""
	}
	req, _ := http.NewRequest(http.MethodGet, c.cfg.URL, nil)
	return c.challenge.Authorize(c.cfg.Username, c.cfg.Password, http.MethodGet, req.URL.RequestURI())
}

func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}
