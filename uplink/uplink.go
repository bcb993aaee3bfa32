// Package uplink connects the gate to the park's MQTT broker (MQTT 3.1.1,
// paho.mqtt.golang): it drains the store's outbox to the event topics in
// strict FIFO order, keeps the retained availability and status topics,
// publishes telemetry, receives signed commands and keeps the registry in
// sync. docs/design.md "Topics and payloads" is the contract; docs/uplink.md
// says how it is met.
//
// The SQLite outbox is the only source of truth. Each connection is its own
// paho client (a connection generation): a row is marked sent only when its
// PUBACK came back on the connection that carried it, and after any drop
// the drain starts again from the first unacknowledged row, resending it
// with the same id.
//
// It sits above store and lane and never imports lanes, kiosk or appliance;
// lanes, kiosk, appliance, sim and cmd/hazgate may import it.
package uplink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/store"
)

// Commander carries out the safety office's verified commands; the gate
// implements it. Each method may take a while (it must not be called from
// an MQTT handler, and is not): the uplink calls it from its own goroutine.
type Commander interface {
	// Open raises the barrier of lane, by the office's order.
	Open(ctx context.Context, lane, by string) error
	// Lockdown puts every lane in lock-down (on) or lifts it.
	Lockdown(ctx context.Context, on bool, by string) error
	// Release lets a held vehicle through, as an operator's release does.
	Release(ctx context.Context, lane, inspectionID, operator, reason string) error
	// Resync refreshes whatever the gate caches from the registry and its
	// devices.
	Resync(ctx context.Context) error
}

// Evacuator is a Commander that also carries out the office's signed
// evacuate (lanes.Set): every exit lane held open, every entry lane
// closed, until the office ends it. An evacuation started at the kiosk is
// not the office's to end: Evacuate(false) then fails with the reason
// (the uplink raises command_failed).
type Evacuator interface {
	Evacuate(ctx context.Context, on bool, by string) error
}

// AlarmSink records an alarm with its event in the outbox; *record.Keeper is
// one.
type AlarmSink interface {
	RaiseAlarm(ctx context.Context, lane, kind, detail string, at time.Time) error
}

// StatusSource reports the gate's lanes and devices for the status topic.
// Status must be quick and must not block; the uplink fills in the
// outbox, registry, audit and software sections itself.
type StatusSource interface {
	Status() StatusReport
}

// Alarm kinds the uplink raises. AlarmCommandRefused has the value of
// record.AlarmCommandRefused.
const (
	AlarmCommandRefused = "command_refused"
	AlarmCommandFailed  = "command_failed"
	AlarmOutboxFull     = "outbox_full"
)

// Deps is what the uplink needs from the rest of the gate.
type Deps struct {
	// Clock stamps payloads ("ts", "queued_s"), judges command expiry and
	// paces telemetry. Network pacing (reconnect back-off, polling, ack
	// timeouts) is on the real clock: it is about the wire, not the gate,
	// and must go on when a simulator's clock stands still.
	Clock clock.Clock
	// Log is the uplink's logger, the caller's child logger for it (with
	// component=uplink); default: discarded.
	Log *slog.Logger
	// Status feeds the status topic; nil publishes only what the uplink
	// knows itself.
	Status StatusSource
	// Commands carries out verified commands; nil refuses every command
	// (with an alarm).
	Commands Commander
	// Alarms records alarms (refused commands, a full outbox). Required.
	Alarms AlarmSink
	// ClockState, when set, says whether the gate's clock is known to be
	// right (the clock monitor's State): commands are judged by their
	// nonce alone while it is not, and the status carries it. Nil: the
	// clock is taken to be right and the status has no clock section.
	ClockState func() clock.State
	// ParkChanged, when set, is called when a sibling gate's passages
	// changed who is inside the park (the overstay watch looks again).
	ParkChanged func()
}

// Uplink is the gate's MQTT link. Create it with New, run it with Run.
type Uplink struct {
	cfg   Config
	st    *store.Store
	deps  Deps
	log   *slog.Logger
	clk   clock.Clock
	tls   *tlsFiles
	keys  *keyring
	nonce *nonceCache

	kick        chan struct{} // new outbox rows: drain now
	statusDue   chan struct{} // status changed: republish soon
	presenceDue chan struct{} // a record may have changed the presence view
	started     time.Time

	inbox    *inbox // commands and registry messages, off the paho goroutine
	registry *registrySync
	refusals *limiter
	// registryTopics: the registry's topics and their schemas (read-only).
	registryTopics map[string]string

	connLog     *logLimiter
	connChanged chan struct{} // signalled by setConn (tests)
	marks       *marker
	marked      chan struct{} // signalled after marks were written (tests, benchmarks)

	mu      sync.Mutex
	conn    ConnState
	gen     uint64   // the current connection generation; 0 before the first
	current *session // the connected session, nil when none
	// brokerAt is the index in cfg.Brokers of the broker the next
	// connection is made to (failover.go).
	brokerAt int

	published, acked, reconnects atomic.Int64
	outboxAlarmed                atomic.Bool
	running                      atomic.Bool
}

// ConnState is the MQTT connection's health, for the kiosk and status.
type ConnState struct {
	URL        string    `json:"url"`
	Connected  bool      `json:"connected"`
	Since      time.Time `json:"since,omitzero"` // when it connected or dropped
	LastError  string    `json:"last_error,omitempty"`
	Generation uint64    `json:"generation"` // connections made since start
	Subscribed bool      `json:"subscribed"` // the broker acknowledged the command and registry subscriptions
}

// New checks cfg, loads the TLS files, the trusted keys and the nonce cache,
// and returns an uplink ready to Run. A certificate, key or CA that cannot
// be loaded is an error: there is no plain-text fallback.
func New(cfg Config, st *store.Store, deps Deps) (*Uplink, error) {
	if st == nil {
		return nil, errors.New("uplink: no store")
	}
	if deps.Alarms == nil {
		return nil, errors.New("uplink: Deps.Alarms is required: refused commands and a full outbox raise alarms")
	}
	if deps.Clock == nil {
		deps.Clock = clock.Real{}
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	tf, err := loadTLS(cfg)
	if err != nil {
		return nil, err
	}
	keys, err := parseKeyring("trusted_keys", cfg.TrustedKeys)
	if err != nil {
		return nil, err
	}
	var regKeys *keyring
	if len(cfg.RegistryKeys) > 0 {
		if regKeys, err = parseKeyring("registry_keys", cfg.RegistryKeys); err != nil {
			return nil, err
		}
	}
	u := &Uplink{
		cfg: cfg, st: st, deps: deps, clk: deps.Clock, tls: tf, keys: keys,
		log:            deps.Log,
		kick:           make(chan struct{}, 1),
		marked:         make(chan struct{}, 1),
		statusDue:      make(chan struct{}, 1),
		presenceDue:    make(chan struct{}, 1),
		connChanged:    make(chan struct{}, 1),
		connLog:        newLogLimiter(time.Minute),
		inbox:          newInbox(cfg.InboxSize),
		refusals:       newLimiter(cfg.RefusalAlarms, time.Minute),
		registryTopics: registryTopics(cfg.RegistryTopic),
	}
	u.conn.URL = cfg.Broker
	nc, warn, err := loadNonces(cfg.NonceFile, u.clk.Now())
	if err != nil {
		return nil, err
	}
	u.nonce = nc
	if warn != nil {
		// The cache is unreadable: commands issued before now are
		// refused (they may be replays), and the office is told.
		u.log.Error("command nonce cache unusable; refusing commands issued before now", "err", warn)
		if aerr := deps.Alarms.RaiseAlarm(context.Background(), "", AlarmCommandRefused,
			fmt.Sprintf("command nonce cache %s unusable (%v): commands issued before %s are refused",
				cfg.NonceFile, warn, u.clk.Now().Format(time.RFC3339)), u.clk.Now()); aerr != nil {
			return nil, fmt.Errorf("uplink: raise alarm: %w", aerr)
		}
	}
	u.registry = newRegistrySync(u)
	u.registry.keys = regKeys
	if regKeys == nil {
		u.log.Warn("no registry keys configured (mqtt.registry_keys): registry data from MQTT is applied unsigned; anyone who may publish on the registry topic can change it")
	}
	u.marks = newMarker(u)
	return u, nil
}

// Kick tells the uplink that new rows are in the outbox, so that it sends
// them now rather than at its next poll. It never blocks.
func (u *Uplink) Kick() {
	for _, c := range []chan struct{}{u.kick, u.presenceDue} {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}

// StatusChanged tells the uplink that the gate's status changed (a lane
// moved, a device failed), so that it republishes the retained status. It
// never blocks.
func (u *Uplink) StatusChanged() {
	select {
	case u.statusDue <- struct{}{}:
	default:
	}
}

// Connection returns the connection's health.
func (u *Uplink) Connection() ConnState {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.conn
}

// Stats are counters since start, for telemetry and benchmarks.
type Stats struct {
	Published  int64 // messages handed to the connection
	Acked      int64 // messages marked sent
	Reconnects int64 // connections lost
}

// Stats returns the counters since start.
func (u *Uplink) Stats() Stats {
	return Stats{Published: u.published.Load(), Acked: u.acked.Load(), Reconnects: u.reconnects.Load()}
}

// Run connects, drains the outbox, keeps status and telemetry, and handles
// commands and registry messages until ctx is done; then it publishes a
// retained "offline", disconnects and returns nil. It returns an error only
// when it cannot start. Run may be called once.
func (u *Uplink) Run(ctx context.Context) error {
	if !u.running.CompareAndSwap(false, true) {
		return errors.New("uplink: Run called twice")
	}
	u.started = u.clk.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(4)
	markCtx, stopMarks := context.WithCancel(context.WithoutCancel(ctx))
	marksDone := make(chan struct{})
	go func() { defer close(marksDone); u.marks.run(markCtx) }()
	go func() { defer wg.Done(); u.handleInbox(ctx) }()
	go func() { defer wg.Done(); u.telemetryLoop(ctx) }()
	go func() { defer wg.Done(); u.watchOutbox(ctx) }()
	go func() { defer wg.Done(); u.pruneLoop(ctx) }()
	u.connectLoop(ctx)
	cancel()
	wg.Wait()
	// Every PUBACK that came back is written before Run returns.
	stopMarks()
	<-marksDone
	u.logOutboxAtStop()
	return nil
}

func (u *Uplink) setConn(f func(*ConnState)) {
	u.mu.Lock()
	f(&u.conn)
	u.mu.Unlock()
	u.StatusChanged()
	select {
	case u.connChanged <- struct{}{}:
	default:
	}
}

// topic returns the full topic of a suffix under the gate's root.
func (u *Uplink) topic(suffix string) string { return u.cfg.Root + "/" + suffix }
