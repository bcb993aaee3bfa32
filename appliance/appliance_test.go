package appliance

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/config"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/sim/simgpio"
	"github.com/hazgate/hazgate/sim/simreader"
	"github.com/hazgate/hazgate/sim/simscanner"
	"github.com/hazgate/hazgate/store"
)

// watcher collects lane snapshots and lets a test wait for one.
type watcher struct {
	mu   sync.Mutex
	cond *sync.Cond
	last map[string]lane.Snapshot
}

func newWatcher() *watcher {
	w := &watcher{last: map[string]lane.Snapshot{}}
	w.cond = sync.NewCond(&w.mu)
	return w
}

func (w *watcher) see(s lane.Snapshot) {
	w.mu.Lock()
	w.last[s.Lane] = s
	w.mu.Unlock()
	w.cond.Broadcast()
}

// wait waits (at most 20 s) until ok holds for the lane's latest snapshot.
func (w *watcher) wait(t *testing.T, name, what string, ok func(lane.Snapshot) bool) lane.Snapshot {
	t.Helper()
	deadline := time.AfterFunc(20*time.Second, w.cond.Broadcast)
	defer deadline.Stop()
	end := time.Now().Add(20 * time.Second)
	w.mu.Lock()
	defer w.mu.Unlock()
	for !ok(w.last[name]) {
		if time.Now().After(end) {
			t.Fatalf("lane %s: waited 20s for %s; last %+v", name, what, w.last[name])
		}
		w.cond.Wait()
	}
	return w.last[name]
}

const (
	driverID = "990001198001010019"
	escortID = "990001198505050022"
)

func testRegistry(now time.Time) *registry.Snapshot {
	d := func(s string) registry.Validity { v, _ := registry.ParseValidity(s); return v }
	return &registry.Snapshot{
		Vehicles: []registry.Vehicle{
			{Plate: "浙B10001", Kind: "tractor", LicenceValidUntil: d("2099-01-01"), PermitNo: "1", PermitValidUntil: d("2099-01-01"), PermitClasses: []string{"2"}, InspectionValidUntil: d("2099-01-01"), RatedLoadKg: 40000},
			{Plate: "浙B1001挂", Kind: "trailer", LicenceValidUntil: d("2099-01-01"), PermitNo: "2", PermitValidUntil: d("2099-01-01"), PermitClasses: []string{"2"}, InspectionValidUntil: d("2099-01-01"), RatedLoadKg: 25000},
		},
		Tanks: []registry.Tank{{ID: "TK1", Vehicle: "浙B1001挂", InspectionValidUntil: d("2099-01-01"), Media: []string{"UN1077"}}},
		Persons: []registry.Person{
			{IDNumber: driverID, Name: "测试一", Certificates: []registry.Certificate{{Role: "driver", Number: "D", ValidUntil: d("2099-01-01")}}},
			{IDNumber: escortID, Name: "测试二", Certificates: []registry.Certificate{{Role: "escort", Number: "E", ValidUntil: d("2099-01-01")}}},
		},
		Waybills: []registry.Waybill{{Number: "YD0001", Vehicle: "浙B10001", Trailer: "浙B1001挂", Driver: driverID, Escort: escortID,
			ValidFrom: registry.Instant(now.Add(-time.Hour)), ValidUntil: registry.Instant(now.Add(time.Hour)),
			Goods: []registry.Good{{UN: "UN1077", Name: "丙烯", Class: "2.1", QuantityKg: 20000}}}},
		SyncedAt: registry.Instant(now),
	}
}

// TestRunWiresRealDevices runs the appliance on simulated hardware at the
// protocol level: a GA 467 reader and a scanner on ptys, GPIO pins in
// periph's registry. Lane in-1 decides a vehicle end to end; lane in-2's
// reader and scanner cannot be opened, so it is in fault with an alarm
// recorded, and in-1 keeps working.
func TestRunWiresRealDevices(t *testing.T) {
	dir := t.TempDir()
	reader, err := simreader.New(filepath.Join(dir, "idcard-in1"))
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	scan, err := simscanner.New(filepath.Join(dir, "scanner-in1"), "\r\n")
	if err != nil {
		t.Fatal(err)
	}
	defer scan.Close()
	pins := map[string]map[string]string{}
	var gl []*simgpio.Lane
	for _, name := range []string{"in-1", "in-2"} {
		l, err := simgpio.NewLane(simgpio.LaneConfig{Name: fmt.Sprintf("%s-%d", name, time.Now().UnixNano()), Travel: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		gl = append(gl, l)
		pins[name] = l.PinNames()
	}
	laneYAML := func(name, idcard, scanner string) string {
		p := pins[name]
		return fmt.Sprintf(`  - name: %s
    direction: in
    deadline: 30s
    idcard: {port: %s}
    scanner: {port: %s}
    plate_token: tok-%s
    arrival_loop: {pin: %s, debounce: 10ms}
    safety_loop: {pin: %s, debounce: 10ms}
    barrier: {mode: pulse, open_pin: %s, close_pin: %s, open_limit_pin: %s, closed_limit_pin: %s, pulse: 20ms, feedback_timeout: 2s}
`, name, idcard, scanner, name, p["arrival_loop"], p["safety_loop"], p["open_pin"], p["close_pin"], p["open_limit_pin"], p["closed_limit_pin"])
	}
	yml := fmt.Sprintf("park: p1\ngate: g1\ndatabase: %s\nkiosk: {listen: \"127.0.0.1:0\"}\nlanes:\n", filepath.Join(dir, "gate.db")) +
		laneYAML("in-1", reader.Path(), scan.Path()) + laneYAML("in-2", filepath.Join(dir, "no-such-reader"), filepath.Join(dir, "no-such-scanner"))
	ctx := context.Background()
	a, w := startAppliance(t, yml, func(a *Appliance) {
		if err := a.Store().ImportSnapshot(ctx, testRegistry(time.Now()), "test", time.Now()); err != nil {
			t.Fatal(err)
		}
	})

	w.wait(t, "in-2", "its reader in fault", func(s lane.Snapshot) bool { return slices.Contains(s.Faults, "in-2/idcard") })

	in1 := gl[0]
	in1.SetArrival(true)
	w.wait(t, "in-1", "collecting", func(s lane.Snapshot) bool { return s.Phase == lane.PhaseCollecting })
	req := httptest.NewRequest(http.MethodPost, "/api/v1/lanes/in-1/plate", bytes.NewBufferString(`{"plate":"浙B10001","trailer":"浙B1001挂","confidence":0.97}`))
	req.Header.Set("Authorization", "Bearer tok-in-1")
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, req)
	if rec.Code/100 != 2 {
		t.Fatalf("plate push: %d %s", rec.Code, rec.Body)
	}
	for _, p := range []checks.PersonEvidence{{IDNumber: driverID, Name: "测试一"}, {IDNumber: escortID, Name: "测试二"}} {
		if err := reader.Present(simreader.CardFor(p, registry.Person{})); err != nil {
			t.Fatal(err)
		}
		w.wait(t, "in-1", "card "+p.IDNumber, func(s lane.Snapshot) bool {
			return (s.Evidence.Driver != nil && s.Evidence.Driver.IDNumber == p.IDNumber) || (s.Evidence.Escort != nil && s.Evidence.Escort.IDNumber == p.IDNumber)
		})
		reader.Remove()
	}
	if err := scan.Scan("https://ydzx.example/waybill?ydh=YD0001"); err != nil {
		t.Fatal(err)
	}
	// No face service is configured: no score, so identity is unknown and
	// the gate asks the operator.
	held := w.wait(t, "in-1", "a decision", func(s lane.Snapshot) bool { return s.Phase == lane.PhaseHeld && s.Outcome != nil })
	if held.Outcome.Verdict != checks.VerdictReview {
		t.Fatalf("verdict %s, want review: %+v", held.Outcome.Verdict, held.Outcome.Checks)
	}
	for _, c := range held.Outcome.Checks {
		if c.ID != checks.Identity && c.Result != checks.Pass {
			t.Fatalf("%s = %s %v, want pass", c.ID, c.Result, c.Codes())
		}
	}
	ins, err := a.Store().GetInspection(ctx, held.InspectionID)
	if err != nil || ins.Evidence.Waybill != "YD0001" {
		t.Fatalf("inspection %+v %v", ins, err)
	}
	// The operator releases; the barrier opens through the relays, the
	// vehicle crosses, the barrier closes behind it.
	a.Lanes().Send("in-1", lane.OperatorRelease{Operator: "op", Reason: "faces checked in person", InspectionID: held.InspectionID})
	w.wait(t, "in-1", "the barrier open", func(s lane.Snapshot) bool { return s.BarrierReported == lane.BarrierOpen })
	in1.SetSafety(true)
	in1.SetArrival(false)
	w.wait(t, "in-1", "the vehicle on the safety loop", func(s lane.Snapshot) bool { return s.SafetyOccupied })
	in1.SetSafety(false)
	w.wait(t, "in-1", "idle with the barrier closed", func(s lane.Snapshot) bool {
		return s.Phase == lane.PhaseIdle && s.BarrierReported == lane.BarrierClosed
	})
	if in1.Barrier.State() != "closed" {
		t.Fatalf("simulated barrier %s, want closed", in1.Barrier.State())
	}
	// in-2's fault is on record as an alarm, and in the devices' health.
	bad := 0
	for _, d := range a.Lanes().Devices() {
		if d.Lane == "in-2" && !d.OK {
			bad++
		}
	}
	if bad == 0 {
		t.Fatalf("devices %+v: in-2's are not in fault", a.Lanes().Devices())
	}
	rows, err := a.Store().PendingOutbox(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	faults := 0
	for _, r := range rows {
		if r.Topic == "events/alarm" && r.Lane == "in-2" && strings.Contains(string(r.Payload), `"device_fault"`) {
			faults++
		}
	}
	if faults == 0 {
		t.Fatal("no device_fault alarm for lane in-2 in the outbox")
	}
}

// A lock-down recorded before a restart (or a power cut) is back on every
// lane when the appliance starts again, whatever its devices are doing.
func TestLockdownSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "gate.db")
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetLockdown(context.Background(), true, "remote:office", time.Now()); err != nil {
		t.Fatal(err)
	}
	st.Close()
	yml := fmt.Sprintf(`park: p1
gate: g1
database: %s
kiosk: {listen: "127.0.0.1:0"}
lanes:
  - name: in-1
    direction: in
    idcard: {port: %s}
    scanner: {port: %s}
    arrival_loop: {pin: NO_SUCH_PIN_1}
    safety_loop: {pin: NO_SUCH_PIN_2}
    barrier: {open_pin: NO_SUCH_PIN_3, close_pin: NO_SUCH_PIN_4}
`, db, filepath.Join(dir, "no-reader"), filepath.Join(dir, "no-scanner"))
	_, w := startAppliance(t, yml, nil)
	w.wait(t, "in-1", "locked down", func(s lane.Snapshot) bool { return s.Lockdown })
}

// startAppliance builds the appliance from the configuration yml (its GPIO
// pins from periph's registry), calls before (when not nil) and runs it
// until the test ends, its lanes watched.
func startAppliance(t *testing.T, yml string, before func(*Appliance)) (*Appliance, *watcher) {
	t.Helper()
	cfg, err := config.Parse([]byte(yml), "hazgate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	// The host's clock may not be synchronised (a container): the gate is
	// told it is.
	a, err := New(ctx, cfg, Options{GPIOInit: func() error { return nil }, ClockSource: clock.NewFakeSource(clock.Real{})})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if before != nil {
		before(a)
	}
	w := newWatcher()
	a.Lanes().Watch(w.see)
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return a, w
}
