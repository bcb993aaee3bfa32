package kiosk

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/lane"
)

// metrics are the kiosk's Prometheus figures, in a registry of their own.
// Inspections, check failures and decision times are counted from the lane
// views that Publish receives (each inspection once); the health figures
// are read from the health sources at each scrape.
type metrics struct {
	reg        *prometheus.Registry
	verdicts   *prometheus.CounterVec
	failures   *prometheus.CounterVec
	unknowns   *prometheus.CounterVec
	decision   prometheus.Histogram
	operator   *prometheus.HistogramVec
	logins     *prometheus.CounterVec
	mu         sync.Mutex
	lastSeen   map[string]string    // lane -> last inspection counted
	verdictsAt map[string]time.Time // lane -> when its held inspection's verdict was seen
}

// Buckets for times from arrival to verdict and from verdict to an
// operator's decision, in seconds: the design's targets are 2 minutes
// and the 120 s deadline.
var (
	decisionBuckets = []float64{5, 10, 15, 20, 25, 30, 45, 60, 90, 120, 180, 300}
	operatorBuckets = []float64{5, 10, 20, 30, 60, 120, 300, 600, 1800}
)

func newMetrics(s *Server) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		verdicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hazgate_inspections_total", Help: "Inspections decided, by lane and verdict.",
		}, []string{"lane", "verdict"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hazgate_check_failures_total", Help: "Checks that failed, by check and reason code.",
		}, []string{"check", "reason"}),
		unknowns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hazgate_check_unknown_total", Help: "Checks that could not be judged (unknown), by check and reason code.",
		}, []string{"check", "reason"}),
		decision: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hazgate_decision_seconds", Help: "Time from a vehicle's arrival to its verdict.", Buckets: decisionBuckets,
		}),
		operator: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hazgate_operator_decision_seconds", Help: "Time from a held verdict to the operator's release or refusal at the kiosk.", Buckets: operatorBuckets,
		}, []string{"action"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hazgate_kiosk_logins_total", Help: "Kiosk sign-in attempts, by result (ok, failed, limited).",
		}, []string{"result"}),
		lastSeen:   map[string]string{},
		verdictsAt: map[string]time.Time{},
	}
	m.reg.MustRegister(m.verdicts, m.failures, m.unknowns, m.decision, m.operator, m.logins, &healthCollector{s: s})
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// seen marks the lane's current inspection as already counted.
func (m *metrics) seen(snap lane.Snapshot) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lastSeen[snap.Lane] = snap.InspectionID
}

// observe counts a lane view's inspection the first time it is seen with
// its outcome.
func (m *metrics) observe(snap lane.Snapshot, now time.Time) {
	if snap.InspectionID == "" || snap.Outcome == nil {
		return
	}
	m.mu.Lock()
	if m.lastSeen[snap.Lane] == snap.InspectionID {
		m.mu.Unlock()
		return
	}
	m.lastSeen[snap.Lane] = snap.InspectionID
	m.verdictsAt[snap.Lane] = now
	m.mu.Unlock()
	out := snap.Outcome
	m.verdicts.WithLabelValues(snap.Lane, string(out.Verdict)).Inc()
	for _, c := range out.Checks {
		vec := m.failures
		switch c.Result {
		case checks.Pass:
			continue
		case checks.Unknown:
			vec = m.unknowns
		}
		for _, r := range c.Reasons {
			vec.WithLabelValues(c.ID, r.Code).Inc()
		}
	}
	if a := snap.Evidence.Arrived; !a.IsZero() && !now.Before(a) {
		m.decision.Observe(now.Sub(a).Seconds())
	}
}

// decided records how long the lane's vehicle waited for the operator.
func (m *metrics) decided(laneName, action string, now time.Time) {
	m.mu.Lock()
	at, ok := m.verdictsAt[laneName]
	m.mu.Unlock()
	if ok && !now.Before(at) {
		m.operator.WithLabelValues(action).Observe(now.Sub(at).Seconds())
	}
}

// healthCollector reads the health sources at each scrape; a source that
// is not wired gives no series.
type healthCollector struct {
	s *Server
}

var (
	descOutboxDepth  = prometheus.NewDesc("hazgate_outbox_depth", "Messages waiting in the outbox.", nil, nil)
	descOutboxOldest = prometheus.NewDesc("hazgate_outbox_oldest_age_seconds", "Age of the oldest message waiting in the outbox (0 when empty).", nil, nil)
	descDeviceOK     = prometheus.NewDesc("hazgate_device_ok", "1 when the device reports healthy, 0 when faulty.", []string{"device", "kind", "lane"}, nil)
	descDeviceFaults = prometheus.NewDesc("hazgate_device_faults", "Devices reporting a fault now: the device sources' and the lanes' (barriers included).", nil, nil)
	descBroker       = prometheus.NewDesc("hazgate_broker_connected", "1 while the MQTT connection is up.", nil, nil)
	descRegistryVer  = prometheus.NewDesc("hazgate_registry_version", "The registry's version.", nil, nil)
	descRegistryAge  = prometheus.NewDesc("hazgate_registry_age_seconds", "Time since the registry's last sync.", nil, nil)
	descLockdown     = prometheus.NewDesc("hazgate_lane_lockdown", "1 while the lane is locked down.", []string{"lane"}, nil)
	descDiskFree     = prometheus.NewDesc("hazgate_disk_free_bytes", "Free space where the database lives.", nil, nil)
)

func (h *healthCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descOutboxDepth, descOutboxOldest, descDeviceOK, descDeviceFaults, descBroker, descRegistryVer, descRegistryAge, descLockdown, descDiskFree} {
		ch <- d
	}
}

func (h *healthCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rep := h.s.health(ctx)
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	if o := rep.Outbox; o.Reported && o.Error == "" {
		gauge(descOutboxDepth, float64(o.Depth))
		gauge(descOutboxOldest, o.OldestAgeS)
	}
	faults := 0
	for _, d := range rep.Devices.Items {
		gauge(descDeviceOK, boolFloat(d.OK), d.Name, d.Kind, d.Lane)
		if !d.OK {
			faults++
		}
	}
	for _, l := range rep.Lanes {
		gauge(descLockdown, boolFloat(l.Lockdown), l.Lane)
		if l.BarrierFault {
			faults++
		}
		faults += len(l.Faults)
	}
	gauge(descDeviceFaults, float64(faults))
	if b := rep.Broker; b.Reported {
		gauge(descBroker, boolFloat(b.Connected))
	}
	if r := rep.Registry; r.Reported && r.Error == "" {
		gauge(descRegistryVer, float64(r.Version))
		if r.AgeS != nil {
			gauge(descRegistryAge, *r.AgeS)
		}
	}
	if d := rep.Disk; d.Reported && d.Error == "" {
		gauge(descDiskFree, float64(d.Free))
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
