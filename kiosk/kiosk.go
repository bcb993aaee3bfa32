// Package kiosk is the gate operator's screen: an HTTP server of its own
// that serves the UI (embedded) and the JSON API the UI uses, live lane
// views over server-sent events, the operator's decisions, the inspection
// history, the gate's health, /healthz and /metrics.
//
// The kiosk decides nothing itself: an operator's release, refusal, typed
// plate or lock-down is sent to the lane as an event, and the lane records
// it (record.Keeper.RecordDecision) before it acts. Every action taken at the kiosk
// is audited (store.Audit) before it is sent.
//
// It sits above lane, store and uplink and beside lanes (neither imports the
// other); only appliance and cmd/hazgate may import it.
package kiosk

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/prompt"
)

// Config is the kiosk's settings.
type Config struct {
	// Addr is the listen address for ListenAndServe (default ":8080").
	Addr string
	// TLSCertFile and TLSKeyFile, both set, serve HTTPS; New loads them
	// and fails when they do not load. Session cookies are then Secure.
	TLSCertFile, TLSKeyFile string
	// SecureCookies marks cookies Secure without TLS here (a TLS proxy in
	// front of the kiosk).
	SecureCookies bool
	// Gate is the gate's name, shown in the title bar.
	Gate string
	// Location is the park's time zone: history dates and the CSV export's
	// days are in it (default Asia/Shanghai).
	Location *time.Location
	// SessionIdle signs a session out after this long without a request
	// (default 2 h); SessionMax after this long in any case (default 12 h,
	// a shift).
	SessionIdle, SessionMax time.Duration
	// Login limits failed sign-ins (defaults: see DefaultLoginLimit).
	Login LoginLimit
	// Heartbeat is how often, on Deps.Clock, an open event stream gets a
	// keep-alive comment and keeps its session alive (default
	// DefaultHeartbeat).
	Heartbeat time.Duration
	// RegistryMaxAge is when the health page calls the registry stale
	// (default DefaultRegistryMaxAge; pass the checks' registry_max_age).
	RegistryMaxAge time.Duration
	// StreamsPerSession bounds one session's live-update streams (default
	// DefaultStreamsPerSession): a new one past it closes the session's
	// oldest. MaxStreams bounds them all (default DefaultMaxStreams): a
	// new one past it is refused with 429.
	StreamsPerSession, MaxStreams int
	// PlatePush, when set, takes the plate cameras' pushes: requests to
	// POST /api/v1/lanes/{lane}/plate that carry a bearer token
	// (device/plate's handler checks it).
	PlatePush http.Handler
	// Display is the outdoor displays' settings, /display/<lane>
	// (display.go).
	Display DisplayConfig
}

// LoginLimit bounds failed sign-ins: after PerAccount failures for one
// account from one address, or PerIP failures from one address, within
// Window, further attempts from that address are refused (429) until the
// oldest failure is Window old. Failures from one address never lock an
// account out from another, and a supervisor or `hazgate operator unlock`
// clears an account's.
type LoginLimit struct {
	PerAccount int
	PerIP      int
	Window     time.Duration
}

// DefaultLoginLimit is 5 failures per account and address and 20 per
// address in 15 minutes.
var DefaultLoginLimit = LoginLimit{PerAccount: 5, PerIP: 20, Window: 15 * time.Minute}

// DefaultStreamsPerSession is a session's live streams: a browser with a
// few tabs of the kiosk open. DefaultMaxStreams is every session's: a gate
// house's screens many times over.
const (
	DefaultStreamsPerSession = 8
	DefaultMaxStreams        = 256
)

func (c Config) withDefaults() Config {
	if c.StreamsPerSession <= 0 {
		c.StreamsPerSession = DefaultStreamsPerSession
	}
	if c.MaxStreams <= 0 {
		c.MaxStreams = DefaultMaxStreams
	}
	if c.Addr == "" {
		c.Addr = ":8080"
	}
	if c.Gate == "" {
		c.Gate = "gate"
	}
	if c.Location == nil {
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			loc = time.FixedZone("CST", 8*3600)
		}
		c.Location = loc
	}
	if c.SessionIdle <= 0 {
		c.SessionIdle = 2 * time.Hour
	}
	if c.SessionMax <= 0 {
		c.SessionMax = 12 * time.Hour
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = DefaultHeartbeat
	}
	if c.RegistryMaxAge <= 0 {
		c.RegistryMaxAge = DefaultRegistryMaxAge
	}
	if c.Login.PerAccount <= 0 {
		c.Login.PerAccount = DefaultLoginLimit.PerAccount
	}
	if c.Login.PerIP <= 0 {
		c.Login.PerIP = DefaultLoginLimit.PerIP
	}
	if c.Display.MaxScreens <= 0 {
		c.Display.MaxScreens = DefaultMaxScreens
	}
	if c.Display.Words == nil {
		c.Display.Words = prompt.Defaults()
	}
	if c.Login.Window <= 0 {
		c.Login.Window = DefaultLoginLimit.Window
	}
	return c
}

// Deps are what the kiosk shows and drives. Lanes and Store are required;
// every health source may be nil and is then shown as "not reported" (never
// as healthy).
type Deps struct {
	Lanes Lanes
	Store Store
	// Devices, Broker and Disk report health. Outbox and Registry default
	// to Store when it provides them (a *store.Store does).
	Devices  DeviceHealth
	Broker   BrokerHealth
	Outbox   OutboxHealth
	Registry RegistryHealth
	Disk     DiskHealth
	// Presence says which vehicles are inside the park (default: Store,
	// when it provides it; nil: the lanes page shows no count).
	Presence Presence
	// Arrivals are the appointments and their pre-clearances (default:
	// Store, when it provides them; nil: no expected arrivals).
	Arrivals Arrivals
	// Faces reads the face images kept with inspections (default: Store,
	// when it provides them; nil: none are shown).
	Faces FaceImages
	// Clock times sessions and login limits (default: the real clock).
	Clock clock.Clock
	// GateClock is the lanes' time: deadlines, countdowns and the audit
	// entries' timestamps (default: Clock). The simulator passes its
	// scenario clock.
	GateClock clock.Clock
	// ClockState, when set, is the gate's clock monitor's state: the
	// health page shows it and /readyz is not ready while the clock is
	// not trusted (clockhealth.go). Nil: the clock is not shown.
	ClockState func() clock.State
	// Log receives the kiosk's log, the caller's child logger for it (with
	// component=kiosk); default: discarded.
	Log *slog.Logger
	// Logs is the gate's last log lines, shown to supervisors on the
	// health page (nil: not reported).
	Logs LogLines
}

// Server is the kiosk. Create it with New; feed it every lane change with
// Publish (lane.Deps.OnChange); serve it with ListenAndServe, Serve or
// Handler.
type Server struct {
	cfg      Config
	deps     Deps
	log      *slog.Logger
	tls      *tls.Config
	handler  http.Handler
	hub      *hub
	displays *displays
	auth     *sessions
	limit    *limiter
	metrics  *metrics
	cop      *http.CrossOriginProtection
	routes   []route // the API's routes, for 405 answers
}

// New returns a kiosk with cfg over deps. It loads the TLS key pair when one
// is configured.
func New(cfg Config, deps Deps) (*Server, error) {
	cfg = cfg.withDefaults()
	if deps.Lanes == nil || deps.Store == nil {
		return nil, errors.New("kiosk: Deps.Lanes and Deps.Store are required")
	}
	if deps.Clock == nil {
		deps.Clock = clock.Real{}
	}
	if deps.GateClock == nil {
		deps.GateClock = deps.Clock
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	if deps.Outbox == nil {
		deps.Outbox, _ = deps.Store.(OutboxHealth)
	}
	if deps.Presence == nil {
		deps.Presence, _ = deps.Store.(Presence)
	}
	if deps.Registry == nil {
		deps.Registry, _ = deps.Store.(RegistryHealth)
	}
	if deps.Arrivals == nil {
		deps.Arrivals, _ = deps.Store.(Arrivals)
	}
	if deps.Faces == nil {
		deps.Faces, _ = deps.Store.(FaceImages)
	}
	s := &Server{cfg: cfg, deps: deps, log: deps.Log}
	if (cfg.TLSCertFile == "") != (cfg.TLSKeyFile == "") {
		return nil, errors.New("kiosk: TLS needs both a certificate and a key file")
	}
	if cfg.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("kiosk: TLS key pair: %w", err)
		}
		s.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	s.cop = http.NewCrossOriginProtection()
	s.hub = newHub(s.cfg.StreamsPerSession, s.cfg.MaxStreams)
	s.displays = newDisplays(s.cfg.Display)
	s.auth = newSessions(deps.Clock, cfg.SessionIdle, cfg.SessionMax)
	s.limit = newLimiter(deps.Clock, cfg.Login)
	s.metrics = newMetrics(s)
	for _, snap := range deps.Lanes.Snapshots() {
		s.metrics.seen(snap)
	}
	s.handler = s.buildRoutes()
	return s, nil
}

// Publish takes a lane's new view and passes it on to every live screen. It
// never blocks: a slow screen gets the latest view of each lane when it
// catches up. Call it from lane.Deps.OnChange.
func (s *Server) Publish(snap lane.Snapshot) {
	s.metrics.observe(snap, s.deps.GateClock.Now())
	s.hub.publish(snap)
	s.displays.publish(snap)
}

// Handler returns the kiosk's handler: UI, /api/v1/, /healthz, /metrics.
func (s *Server) Handler() http.Handler { return s.handler }

// Secure reports whether the kiosk serves HTTPS.
func (s *Server) Secure() bool { return s.tls != nil }

// ListenAndServe listens on Config.Addr and serves until ctx is done, then
// shuts down (waiting up to 5 s for requests in flight).
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("kiosk: listen: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln (HTTPS when TLS is configured) until ctx is done, then
// shuts down and closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// No WriteTimeout: the event stream is long-lived; its writes
		// carry their own deadlines.
		ErrorLog:  slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		TLSConfig: s.tls,
	}
	scheme := "http"
	if s.tls != nil {
		scheme = "https"
	}
	s.log.Info("kiosk serving", "url", scheme+"://"+ln.Addr().String())
	errc := make(chan error, 1)
	go func() {
		if s.tls != nil {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("kiosk: serve: %w", err)
	case <-ctx.Done():
	}
	s.hub.close()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("kiosk: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("kiosk: serve: %w", err)
	}
	return nil
}
