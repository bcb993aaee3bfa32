// Package waybill looks scanned waybills up on demand: the HTTP client of
// the waybill service (hazgate's contract, docs/design.md "Waybill
// lookup"; one small adapter per province speaks it) and the Looker that
// the lanes use, which judges when to ask, keeps each answer in the store
// and falls back to the registry's copy when the service does not answer.
//
// It imports checks, clock, lane (the WaybillLooker interface), registry
// and store of ours; only gate and tests import it.
package waybill

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/registry"
)

// MaxAnswerBytes bounds the service's answer: a waybill is a few KiB.
const MaxAnswerBytes = 64 << 10

// DefaultTimeout bounds one lookup when Config.Timeout is zero.
const DefaultTimeout = 3 * time.Second

// Errors of a lookup. Every one of them means: no copy from the service.
var (
	// ErrNotFound: the service does not know the waybill (HTTP 404).
	ErrNotFound = errors.New("waybill: the service does not know the waybill")
	// ErrUnavailable: the service could not be reached, did not answer in
	// time, or answered an error status.
	ErrUnavailable = errors.New("waybill: the service did not answer")
	// ErrBadAnswer: the answer is not a usable waybill (malformed JSON,
	// unknown fields, another waybill's number, too large, invalid).
	ErrBadAnswer = errors.New("waybill: the service's answer is unusable")
)

// Answer is the service's answer body: {"waybill": {...}}, the waybill in
// the registry's schema with its status.
type Answer struct {
	Waybill *registry.Waybill `json:"waybill"`
}

// Config is how to reach the waybill service.
type Config struct {
	// URL is the service's lookup endpoint; the number is sent as the
	// query parameter `number`.
	URL string
	// Timeout bounds one lookup, on Clock (default DefaultTimeout).
	Timeout time.Duration
	// Token, when set, is sent as `Authorization: Bearer <Token>`.
	Token string
	// CAFile verifies the service's certificate (default: the system's
	// roots); CertFile and KeyFile are the gate's client certificate for
	// mutual TLS.
	CAFile, CertFile, KeyFile string
	// Clock times the timeout (default the real clock).
	Clock clock.Clock
	// Transport, when set, replaces the HTTP transport (tests).
	Transport http.RoundTripper
}

// Client asks the waybill service.
type Client struct {
	cfg  Config
	http *http.Client
}

// NewClient checks cfg and loads its TLS files; a file that cannot be used
// is an error naming it.
func NewClient(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("waybill: url %q is not an http or https URL", cfg.URL)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	tr := cfg.Transport
	if tr == nil {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if cfg.CAFile != "" {
			pem, err := os.ReadFile(cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("waybill: ca_file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("waybill: ca_file %s: no PEM certificate in it", cfg.CAFile)
			}
			tc.RootCAs = pool
		}
		if (cfg.CertFile == "") != (cfg.KeyFile == "") {
			return nil, errors.New("waybill: cert_file and key_file go together")
		}
		if cfg.CertFile != "" {
			cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("waybill: cert_file/key_file: %w", err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = tc
		tr = t
	}
	return &Client{cfg: cfg, http: &http.Client{Transport: tr}}, nil
}

// Timeout is the bound of one lookup.
func (c *Client) Timeout() time.Duration { return c.cfg.Timeout }

// Fetch asks the service for waybill number, within the timeout. The
// waybill it returns has been checked whole: its number is the one asked
// for and it passes the registry's validation.
func (c *Client) Fetch(ctx context.Context, number string) (registry.Waybill, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	timedOut := make(chan struct{})
	t := c.cfg.Clock.AfterFunc(c.cfg.Timeout, func() { close(timedOut); cancel() })
	defer t.Stop()
	w, err := c.fetch(ctx, number)
	if err != nil {
		select {
		case <-timedOut:
			return registry.Waybill{}, fmt.Errorf("%w within %v", ErrUnavailable, c.cfg.Timeout)
		default:
		}
	}
	return w, err
}

func (c *Client) fetch(ctx context.Context, number string) (registry.Waybill, error) {
	u, _ := url.Parse(c.cfg.URL) // checked by NewClient
	q := u.Query()
	q.Set("number", number)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return registry.Waybill{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	req.Header.Set("Accept", "application/json")
	if c.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return registry.Waybill{}, fmt.Errorf("%w: %v", ErrUnavailable, plainNetError(err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return registry.Waybill{}, ErrNotFound
	case resp.StatusCode != http.StatusOK:
		return registry.Waybill{}, fmt.Errorf("%w: HTTP status %d", ErrUnavailable, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswerBytes+1))
	if err != nil {
		return registry.Waybill{}, fmt.Errorf("%w: reading the answer: %v", ErrUnavailable, plainNetError(err))
	}
	if len(body) > MaxAnswerBytes {
		return registry.Waybill{}, fmt.Errorf("%w: larger than %d bytes", ErrBadAnswer, MaxAnswerBytes)
	}
	return Decode(body, number)
}

// Decode reads the service's answer body for number, strictly: one JSON
// object {"waybill": {...}} with no unknown field, the waybill asked for,
// valid by the registry's rules.
func Decode(body []byte, number string) (registry.Waybill, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var a Answer
	if err := dec.Decode(&a); err != nil {
		return registry.Waybill{}, fmt.Errorf("%w: not the contract's JSON: %v", ErrBadAnswer, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return registry.Waybill{}, fmt.Errorf("%w: more after the answer's JSON object", ErrBadAnswer)
	}
	if a.Waybill == nil {
		return registry.Waybill{}, fmt.Errorf("%w: no waybill in it", ErrBadAnswer)
	}
	w := *a.Waybill
	if w.Number != number {
		return registry.Waybill{}, fmt.Errorf("%w: it is waybill %q, not %q", ErrBadAnswer, w.Number, number)
	}
	if ps := w.Validate(); len(ps) > 0 {
		msgs := make([]string, len(ps))
		for i, p := range ps {
			msgs[i] = p.Field + ": " + p.Msg
		}
		return registry.Waybill{}, fmt.Errorf("%w: %s", ErrBadAnswer, strings.Join(msgs, "; "))
	}
	return w, nil
}

// plainNetError is the last, plain part of a network error: "connection
// refused", not the chain of Go types around it.
func plainNetError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && !errors.Is(err, context.Canceled) {
		s = s[i+2:]
	}
	return s
}
