package clock

import (
	"context"
	"sync"
	"time"
)

// A board without a battery-backed clock boots in 1970, or at the time it
// last saved, until NTP (chrony, systemd-timesyncd) has set its clock. The
// gate must not judge a validity date on such a clock: Monitor tells the
// rest of the gate whether the wall clock can be trusted, and notices when
// it is stepped backwards.

// Reasons the clock is not trusted (State.Reason).
const (
	ReasonNotChecked   = "not_checked"          // the monitor has not looked yet
	ReasonUnsynced     = "kernel_unsynced"      // the kernel says no time service has synchronised the clock
	ReasonBeforeFloor  = "before_trusted_after" // the wall clock reads before clock.trusted_after
	ReasonSourceFailed = "source_failed"        // the sync status could not be read
)

// Sources of trust (State.Source).
const (
	SourceKernel = "kernel" // adjtimex: synchronised by NTP and not since set by hand
	SourceNone   = "none"   // nothing is asked: the clock is trusted from trusted_after on
	SourceSim    = "sim"    // the simulator's scenario says
)

// Reading is one look at the wall clock and what vouches for it.
type Reading struct {
	// Wall is the wall clock now (no monotonic reading: a step of the
	// clock shows in it).
	Wall time.Time
	// Synced: the source vouches for the clock (the kernel's sync status).
	Synced bool
	// Detail is what a person may want to know (the kernel's estimated
	// maximum error); may be empty.
	Detail string
}

// SyncSource reads the wall clock and whether it is synchronised.
type SyncSource interface {
	Read() (Reading, error)
}

// State is what the gate knows of its wall clock.
type State struct {
	Synced bool   `json:"synced"`
	Source string `json:"source"`           // kernel, none, sim
	Reason string `json:"reason,omitempty"` // why not synced (Reason* codes)
	// Checked is when the monitor last looked, by the wall clock it
	// looked at.
	Checked time.Time `json:"checked,omitzero"`
	Detail  string    `json:"detail,omitempty"`
	// Err is why the source could not be read, for the log (never sent:
	// Detail says it in plain words).
	Err error `json:"-"`
}

// Jump is a step of the wall clock backwards.
type Jump struct {
	From time.Time     // where the wall clock should have been
	To   time.Time     // where it was
	By   time.Duration // how far back, > 0
}

// MonitorConfig is how the monitor judges the clock.
type MonitorConfig struct {
	// Source names what Read's Synced means: SourceKernel and SourceSim
	// need it; with SourceNone it is not asked for (TrustedAfter alone).
	Source string
	// TrustedAfter: a wall clock that reads before it is never trusted,
	// whatever the source says (zero: no floor).
	TrustedAfter time.Time
	// MaxBackwardJump: a step backwards larger than this raises OnJump
	// (zero or less: none is reported).
	MaxBackwardJump time.Duration
	// Every is how often Run looks (zero or less: Run looks once).
	Every time.Duration
}

// Monitor watches the wall clock: whether it can be trusted, and steps
// backwards. Its checks are scheduled on a Clock (the real clock's timers
// and readings are monotonic, so a step of the wall clock does not move
// them) and the wall clock is read from the SyncSource, so a test drives
// both by hand.
type Monitor struct {
	clk Clock
	src SyncSource
	cfg MonitorConfig
	// OnChange is called (from Check, outside the lock) when the state's
	// Synced or Reason changes, and at the first check.
	OnChange func(ctx context.Context, s State)
	// OnJump is called (from Check) when the wall clock stepped back by
	// more than MaxBackwardJump since the last look.
	OnJump func(ctx context.Context, j Jump)

	// checking is held through a whole Check: two looks from two
	// goroutines (Run's timer, a simulator's fault) never interleave, so
	// the state is always that of the latest reading.
	checking sync.Mutex
	mu       sync.Mutex
	state    State
	looked   bool
	prevMono time.Time // clk.Now() at the last look
	prevWall time.Time // the wall clock at the last look
}

// NewMonitor returns a monitor that has not looked yet: until its first
// Check the clock is not trusted.
func NewMonitor(c Clock, src SyncSource, cfg MonitorConfig) *Monitor {
	if cfg.Source == "" {
		cfg.Source = SourceKernel
	}
	return &Monitor{clk: c, src: src, cfg: cfg, state: State{Source: cfg.Source, Reason: ReasonNotChecked}}
}

// State is the clock's state at the last check.
func (m *Monitor) State() State {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state
}

// Synced reports whether the clock was trusted at the last check.
func (m *Monitor) Synced() bool { return m.State().Synced }

// Run checks now, then every cfg.Every on the monitor's clock, until ctx
// ends.
func (m *Monitor) Run(ctx context.Context) {
	stop := m.Start(ctx)
	<-ctx.Done()
	stop()
}

// Start checks now and schedules the next checks every cfg.Every on the
// monitor's clock (none when Every is zero or less); stop ends them. On
// the fake clock each check runs inside Advance, so a test needs no
// goroutine.
func (m *Monitor) Start(ctx context.Context) (stop func()) {
	m.Check(ctx)
	if m.cfg.Every <= 0 {
		return func() {}
	}
	var (
		mu       sync.Mutex
		next     Timer
		stopped  bool
		inFlight sync.WaitGroup // the check under way: stop waits for it
	)
	var tick func()
	tick = func() {
		mu.Lock()
		if stopped || ctx.Err() != nil {
			mu.Unlock()
			return
		}
		inFlight.Add(1) // under mu, before stopped is set: never after stop's Wait began
		mu.Unlock()
		defer inFlight.Done()
		m.Check(ctx)
		mu.Lock()
		defer mu.Unlock()
		if !stopped {
			next = m.clk.AfterFunc(m.cfg.Every, tick)
		}
	}
	mu.Lock()
	next = m.clk.AfterFunc(m.cfg.Every, tick)
	mu.Unlock()
	return func() {
		mu.Lock()
		stopped = true
		next.Stop()
		mu.Unlock()
		inFlight.Wait() // a check already under way finishes first
	}
}

// Check looks at the clock once: it updates the state, calls OnChange if
// it changed and OnJump if the wall clock stepped back, and returns the
// state. The callbacks must not call Check.
func (m *Monitor) Check(ctx context.Context) State {
	m.checking.Lock()
	defer m.checking.Unlock()
	mono := m.clk.Now()
	r, err := m.src.Read()
	s := State{Source: m.cfg.Source, Checked: r.Wall, Detail: r.Detail}
	switch {
	case err != nil:
		s.Reason, s.Detail, s.Err = ReasonSourceFailed, "the clock's sync status could not be read", err
	case m.cfg.Source != SourceNone && !r.Synced:
		s.Reason = ReasonUnsynced
	case !m.cfg.TrustedAfter.IsZero() && r.Wall.Before(m.cfg.TrustedAfter):
		s.Reason = ReasonBeforeFloor
	default:
		s.Synced = true
	}
	m.mu.Lock()
	changed := !m.looked || s.Synced != m.state.Synced || s.Reason != m.state.Reason
	var jump *Jump
	if m.looked && err == nil && !m.prevWall.IsZero() && m.cfg.MaxBackwardJump > 0 {
		elapsed := mono.Sub(m.prevMono)
		want := m.prevWall.Add(elapsed)
		if back := want.Sub(r.Wall); back > m.cfg.MaxBackwardJump {
			jump = &Jump{From: want, To: r.Wall, By: back}
		}
	}
	m.looked, m.state = true, s
	if err == nil { // a failed read leaves the last good one to compare with
		m.prevMono, m.prevWall = mono, r.Wall
	}
	m.mu.Unlock()
	if jump != nil && m.OnJump != nil {
		m.OnJump(ctx, *jump)
	}
	if changed && m.OnChange != nil {
		m.OnChange(ctx, s)
	}
	return s
}

// FakeSource is a SyncSource set by hand, for tests and the simulator: its
// wall clock is Clock's time moved by the steps so far.
type FakeSource struct {
	mu     sync.Mutex
	Clock  Clock
	offset time.Duration
	synced bool
	err    error
}

// NewFakeSource returns a source that reads c's time and is synchronised.
func NewFakeSource(c Clock) *FakeSource { return &FakeSource{Clock: c, synced: true} }

// SetSynced sets whether the source vouches for the clock.
func (f *FakeSource) SetSynced(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.synced = on
}

// Step moves the wall clock the source reads by d (negative: backwards),
// as settimeofday would; Clock itself is not moved.
func (f *FakeSource) Step(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.offset += d
}

// SetErr makes Read fail with err (nil: read again).
func (f *FakeSource) SetErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

// Read returns Clock's time moved by the steps so far.
func (f *FakeSource) Read() (Reading, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return Reading{}, f.err
	}
	return Reading{Wall: f.Clock.Now().Add(f.offset), Synced: f.synced}, nil
}
