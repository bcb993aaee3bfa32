package kiosk

import (
	"context"
	"net/http"
	"time"

	"github.com/hazgate/hazgate/health"
	"github.com/hazgate/hazgate/lane"
)

// Health statuses. A source that is not wired is "unknown", never "ok".
const (
	statusOK      = "ok"
	statusWarn    = "warn"
	statusFault   = "fault"
	statusUnknown = "unknown"
)

// Thresholds of the health page.
const (
	outboxWarnAge     = 5 * time.Minute // the oldest unsent message
	diskWarnFraction  = 0.10
	diskFaultFraction = 0.02
	// DefaultRegistryMaxAge is when the registry counts as stale (the
	// checks' registry_max_age default).
	DefaultRegistryMaxAge = 24 * time.Hour
)

// healthReport is the health page.
type healthReport struct {
	Status     string         `json:"status"` // the worst of the sections
	ServerTime time.Time      `json:"server_time"`
	Devices    devicesHealth  `json:"devices"`
	Broker     brokerHealth   `json:"broker"`
	Outbox     outboxHealth   `json:"outbox"`
	Registry   registryHealth `json:"registry"`
	Disk       diskHealth     `json:"disk"`
	Lanes      []laneHealth   `json:"lanes"`
	Clock      clockHealth    `json:"clock"`
}

type devicesHealth struct {
	Status   string          `json:"status"`
	Reported bool            `json:"reported"`
	Items    []health.Device `json:"items"`
}

type brokerHealth struct {
	Status   string `json:"status"`
	Reported bool   `json:"reported"`
	BrokerStatus
}

type outboxHealth struct {
	Status     string    `json:"status"`
	Reported   bool      `json:"reported"`
	Depth      int       `json:"depth"`
	Oldest     time.Time `json:"oldest,omitzero"`
	OldestAgeS float64   `json:"oldest_age_s"`
	Error      string    `json:"error,omitempty"`
}

type registryHealth struct {
	Status   string    `json:"status"`
	Reported bool      `json:"reported"`
	Version  int64     `json:"version"`
	SyncedAt time.Time `json:"synced_at,omitzero"`
	AgeS     *float64  `json:"age_s"`
	MaxAgeS  float64   `json:"max_age_s"`
	Error    string    `json:"error,omitempty"`
}

type diskHealth struct {
	Status   string `json:"status"`
	Reported bool   `json:"reported"`
	DiskStatus
	Error string `json:"error,omitempty"`
}

type laneHealth struct {
	Lane         string              `json:"lane"`
	Status       string              `json:"status"`
	Phase        string              `json:"phase"`
	Commanded    lane.BarrierCommand `json:"barrier_commanded"`
	Reported     lane.BarrierState   `json:"barrier_reported"`
	BarrierFault bool                `json:"barrier_fault"`
	Faults       []string            `json:"faults"` // the lane's failing devices
	Lockdown     bool                `json:"lockdown"`
}

// worse returns the worse of two statuses.
func worse(a, b string) string {
	rank := map[string]int{statusOK: 0, statusUnknown: 1, statusWarn: 2, statusFault: 3}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// health reads every source.
func (s *Server) health(ctx context.Context) healthReport {
	d := s.deps
	now := d.GateClock.Now()
	rep := healthReport{ServerTime: now, Lanes: []laneHealth{}}

	rep.Devices = devicesHealth{Status: statusUnknown, Items: []health.Device{}}
	if d.Devices != nil {
		rep.Devices.Reported, rep.Devices.Status = true, statusOK
		for _, dev := range d.Devices.Devices() {
			rep.Devices.Items = append(rep.Devices.Items, dev)
			if !dev.OK {
				rep.Devices.Status = statusFault
			}
		}
	}

	rep.Broker = brokerHealth{Status: statusUnknown}
	if d.Broker != nil {
		rep.Broker.Reported, rep.Broker.BrokerStatus = true, d.Broker.Broker()
		rep.Broker.Status = statusOK
		if !rep.Broker.Connected {
			rep.Broker.Status = statusFault
		}
	}

	rep.Outbox = outboxHealth{Status: statusUnknown}
	if d.Outbox != nil {
		rep.Outbox.Reported = true
		depth, oldest, err := d.Outbox.OutboxStats(ctx)
		switch {
		case err != nil:
			rep.Outbox.Status, rep.Outbox.Error = statusFault, err.Error()
		default:
			rep.Outbox.Status, rep.Outbox.Depth, rep.Outbox.Oldest = statusOK, depth, oldest
			if !oldest.IsZero() {
				rep.Outbox.OldestAgeS = max(0, now.Sub(oldest).Seconds())
				if now.Sub(oldest) > outboxWarnAge {
					rep.Outbox.Status = statusWarn
				}
			}
		}
	}

	maxAge := s.cfg.RegistryMaxAge
	rep.Registry = registryHealth{Status: statusUnknown, MaxAgeS: maxAge.Seconds()}
	if d.Registry != nil {
		rep.Registry.Reported = true
		m, err := d.Registry.RegistryMeta(ctx)
		switch {
		case err != nil:
			rep.Registry.Status, rep.Registry.Error = statusFault, err.Error()
		case m.SyncedAt.IsZero():
			rep.Registry.Status = statusFault // never synced: every check is unknown
		default:
			age := max(0, now.Sub(m.SyncedAt).Seconds())
			rep.Registry.Version, rep.Registry.SyncedAt, rep.Registry.AgeS = m.Version, m.SyncedAt, &age
			rep.Registry.Status = statusOK
			if now.Sub(m.SyncedAt) > maxAge {
				rep.Registry.Status = statusFault
			}
		}
	}

	rep.Disk = diskHealth{Status: statusUnknown}
	if d.Disk != nil {
		rep.Disk.Reported = true
		ds, err := d.Disk.Disk()
		rep.Disk.DiskStatus = ds
		switch {
		case err != nil:
			rep.Disk.Status, rep.Disk.Error = statusUnknown, err.Error()
		case ds.Total == 0:
			rep.Disk.Status = statusUnknown
		default:
			free := float64(ds.Free) / float64(ds.Total)
			rep.Disk.Status = statusOK
			if free < diskWarnFraction {
				rep.Disk.Status = statusWarn
			}
			if free < diskFaultFraction {
				rep.Disk.Status = statusFault
			}
		}
	}

	rep.Clock = s.clockHealth()
	rep.Status = statusOK
	for _, snap := range d.Lanes.Snapshots() {
		l := laneHealth{Lane: snap.Lane, Phase: string(snap.Phase), Commanded: snap.BarrierCommanded, Reported: snap.BarrierReported,
			Lockdown: snap.Lockdown, Status: statusOK, Faults: append([]string{}, snap.Faults...)}
		switch snap.BarrierReported {
		case lane.BarrierFault, lane.BarrierUnknown:
			l.BarrierFault, l.Status = true, statusFault
		case "":
			l.Status = statusUnknown // no feedback yet
		}
		if snap.BarrierCommanded == lane.CommandUnknown {
			l.BarrierFault, l.Status = true, statusFault
		}
		if len(snap.Faults) > 0 {
			l.Status = statusFault
		}
		rep.Lanes = append(rep.Lanes, l)
		rep.Status = worse(rep.Status, l.Status)
	}
	for _, st := range []string{rep.Devices.Status, rep.Broker.Status, rep.Outbox.Status, rep.Registry.Status, rep.Disk.Status, rep.Clock.Status} {
		rep.Status = worse(rep.Status, st)
	}
	return rep
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request, _ *session) {
	writeJSON(w, http.StatusOK, s.health(r.Context()))
}

// handleHealthz answers load balancers and watchdogs: 200 while the kiosk
// serves and the store answers, 503 otherwise. It needs no sign-in and
// says nothing else.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if s.deps.Outbox != nil {
		if _, _, err := s.deps.Outbox.OutboxStats(ctx); err != nil {
			s.log.Warn("healthz: store does not answer", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// handleVerifyAudit walks the whole audit chain.
func (s *Server) handleVerifyAudit(w http.ResponseWriter, r *http.Request, _ *session) {
	res := struct {
		OK    bool   `json:"ok"`
		Error string `json:"error,omitempty"`
	}{OK: true}
	if err := s.deps.Store.VerifyAudit(r.Context()); err != nil {
		res.OK, res.Error = false, err.Error()
	}
	writeJSON(w, http.StatusOK, res)
}

// readyReason is one reason a lane cannot inspect, for /readyz.
type readyReason struct {
	Code   string `json:"code"` // device_fault, registry_empty, registry_stale, registry_unreadable
	Lane   string `json:"lane,omitempty"`
	Device string `json:"device,omitempty"`
	ZH     string `json:"zh"`
	EN     string `json:"en"`
}

// readiness lists why lanes cannot inspect: a device in fault on a lane,
// or, while there is an entry lane, a registry that is empty, stale or
// unreadable. None: every lane can inspect.
func (s *Server) readiness(ctx context.Context) []readyReason {
	d := s.deps
	reasons := []readyReason{}
	entry := false
	for _, snap := range d.Lanes.Snapshots() {
		if !snap.Exit {
			entry = true
		}
		for _, dev := range snap.Faults {
			reasons = append(reasons, readyReason{Code: "device_fault", Lane: snap.Lane, Device: dev,
				ZH: "车道 " + snap.Lane + " 的设备 " + dev + " 故障，无法检查", EN: "Lane " + snap.Lane + " cannot inspect: " + dev + " is in fault"})
		}
	}
	if entry {
		reasons = append(reasons, s.clockReadiness()...)
	}
	if !entry || d.Registry == nil {
		return reasons
	}
	m, err := d.Registry.RegistryMeta(ctx)
	switch {
	case err != nil:
		s.log.Warn("readyz: registry unreadable", "err", err)
		reasons = append(reasons, readyReason{Code: "registry_unreadable", ZH: "无法读取名录", EN: "The registry cannot be read"})
	case m.Version == 0 || m.SyncedAt.IsZero():
		reasons = append(reasons, readyReason{Code: "registry_empty", ZH: "闸口尚无名录（从未同步），检查无法通过", EN: "The gate has no registry (never synced): no inspection can pass"})
	case d.GateClock.Now().Sub(m.SyncedAt) > s.cfg.RegistryMaxAge:
		reasons = append(reasons, readyReason{Code: "registry_stale", ZH: "名录已过期，检查无法通过", EN: "The registry is stale: no inspection can pass"})
	}
	return reasons
}

// handleReadyz answers whether every lane can inspect: 200 when all can,
// 503 with the reasons (zh and en) while any cannot. /healthz is liveness;
// this is readiness. It needs no sign-in.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	reasons := s.readiness(ctx)
	if len(reasons) > 0 {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "not_ready", "reasons": reasons})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "reasons": reasons})
}
