package gate

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/config"
	"github.com/hazgate/hazgate/device/idcard"
	"github.com/hazgate/hazgate/device/scanner"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/lane/lanetest"
	"github.com/hazgate/hazgate/store"
)

var t0 = time.Date(2026, 3, 15, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))

// testHardware gives every lane a test barrier and records the lanes it
// was asked for.
type testHardware struct {
	mu    sync.Mutex
	asked []string
	fail  string // a lane whose devices cannot be built
}

func (h *testHardware) Devices(l *Lane) (Devices, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.asked = append(h.asked, l.Config.Name)
	if l.Config.Name == h.fail {
		return Devices{}, errors.New("no such port")
	}
	return Devices{Barrier: &lanetest.Barrier{}}, nil
}

func testConfig(t *testing.T) *config.Config {
	c := config.Default()
	c.Park, c.Gate = "test-park", "east-1"
	c.Database = filepath.Join(t.TempDir(), "hazgate.db")
	c.Lanes = []config.Lane{
		{Name: "in-1", Direction: lane.DirectionIn, PlateToken: "tok-in-1"},
		{Name: "out-1", Direction: lane.DirectionOut},
	}
	return &c
}

func openStore(t *testing.T, cfg *config.Config, clk clock.Clock) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), cfg.Database, store.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestAssembleBuildsTheConfiguredLanes(t *testing.T) {
	cfg := testConfig(t)
	clk := clock.NewFake(t0)
	hw := &testHardware{}
	g, err := Assemble(context.Background(), cfg, openStore(t, cfg, clk), hw, Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(hw.asked, []string{"in-1", "out-1"}) {
		t.Fatalf("hardware asked for %v", hw.asked)
	}
	var names []string
	for _, s := range g.Lanes.Snapshots() {
		names = append(names, s.Lane)
	}
	if !slices.Equal(names, []string{"in-1", "out-1"}) {
		t.Fatalf("lanes %v", names)
	}
	if g.Uplink != nil {
		t.Fatal("an uplink without a broker")
	}
	if g.Lane("out-1") == nil || g.Lane("nope") != nil {
		t.Fatal("Lane lookup")
	}
}

func TestAssembleRefusesALaneWithoutDevices(t *testing.T) {
	cfg := testConfig(t)
	clk := clock.NewFake(t0)
	_, err := Assemble(context.Background(), cfg, openStore(t, cfg, clk), &testHardware{fail: "out-1"}, Options{Clock: clk})
	if err == nil || !strings.Contains(err.Error(), "lane out-1") {
		t.Fatalf("err = %v, want one naming lane out-1", err)
	}
}

// run runs the gate until the test ends, then stops it and waits.
func run(t *testing.T, g *Gate) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

func sync1(t *testing.T, l *Lane) lane.Snapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := l.Runner.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	return l.Runner.Snapshot()
}

// vehicleAtIn1 runs the test gate with a vehicle on in-1's arrival loop,
// the barrier closed and the loop under it free.
func vehicleAtIn1(t *testing.T) (*Gate, *Lane) {
	t.Helper()
	cfg := testConfig(t)
	clk := clock.NewFake(t0)
	g, err := Assemble(context.Background(), cfg, openStore(t, cfg, clk), &testHardware{}, Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	run(t, g)
	l := g.Lane("in-1")
	l.BarrierState(lane.BarrierClosed)
	l.SafetyLoop(false)
	l.ArrivalLoop(true)
	return g, l
}

// The adapters turn device events into lane events: a card, a scan, the
// loops and the barrier's state reach the lane; a fault is the device's
// health, reported once however often it repeats, and its recovery too.
func TestAdapters(t *testing.T) {
	g, l := vehicleAtIn1(t)
	card := &idcard.Card{IDNumber: "11010519491231002X", Name: "测试"}
	l.Card(DeviceIDCard, "", idcard.Event{Kind: idcard.EventCard, Card: card})
	l.Scan(DeviceScanner, scanner.Event{Kind: scanner.EventScan, Waybill: "YD0001"})
	s := sync1(t, l)
	if s.BarrierReported != lane.BarrierClosed {
		t.Fatalf("barrier %q", s.BarrierReported)
	}
	if s.Evidence.Driver == nil || s.Evidence.Driver.IDNumber != card.IDNumber {
		t.Fatalf("driver %+v", s.Evidence.Driver)
	}
	if s.Evidence.Waybill != "YD0001" {
		t.Fatalf("waybill %q", s.Evidence.Waybill)
	}

	for range 3 {
		l.Card(DeviceIDCard, "", idcard.Event{Kind: idcard.EventFault, Err: errors.New("unplugged")})
	}
	g.clk.(*clock.Fake).Advance(DefaultFaultWindow)
	s = sync1(t, l)
	if got := s.Faults; len(got) != 1 {
		t.Fatalf("device faults %v, want in-1/idcard once", got)
	}
	health := func() (ok bool, detail string) {
		for _, d := range g.Lanes.Devices() {
			if d.Name == "in-1/idcard" {
				return d.OK, d.Detail
			}
		}
		t.Fatal("no health for in-1/idcard")
		return
	}
	if ok, detail := health(); ok || detail != "ID-card reader in-1/idcard is in fault" {
		t.Fatalf("health ok=%v detail=%q", ok, detail)
	}
	l.Card(DeviceIDCard, "", idcard.Event{Kind: idcard.EventRecovered})
	s = sync1(t, l)
	if len(s.Faults) != 0 {
		t.Fatalf("device faults after recovery %v", s.Faults)
	}
	if ok, _ := health(); !ok {
		t.Fatal("health still in fault after recovery")
	}
}

// The plate push endpoint delivers a camera's read to its lane with the
// lane's token and refuses another token.
func TestPlatePushReachesItsLane(t *testing.T) {
	g, l := vehicleAtIn1(t)
	push := func(token string) int {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/lanes/in-1/plate", bytes.NewReader([]byte(`{"plate":"浙B12345","confidence":1}`)))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		g.PlatePush.ServeHTTP(rec, req)
		return rec.Code
	}
	if code := push("wrong"); code == http.StatusAccepted {
		t.Fatal("a wrong token was accepted")
	}
	if code := push("tok-in-1"); code != http.StatusAccepted {
		t.Fatalf("push = %d", code)
	}
	if s := sync1(t, l); s.Evidence.Plate != "浙B12345" {
		t.Fatalf("plate %q", s.Evidence.Plate)
	}
}

// A lock-down kept in the store is restored at assembly: every lane starts
// locked down.
func TestAssembleRestoresALockdown(t *testing.T) {
	cfg := testConfig(t)
	clk := clock.NewFake(t0)
	st := openStore(t, cfg, clk)
	if err := st.SetLockdown(context.Background(), true, "operator:sup", t0); err != nil {
		t.Fatal(err)
	}
	g, err := Assemble(context.Background(), cfg, st, &testHardware{}, Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if !g.Lockdown.On || g.Lockdown.By != "operator:sup" || g.LockdownErr != nil {
		t.Fatalf("restored %+v, %v", g.Lockdown, g.LockdownErr)
	}
	run(t, g)
	for _, l := range g.AllLanes() {
		if !sync1(t, l).Lockdown {
			t.Fatalf("lane %s is not locked down", l.Config.Name)
		}
	}
}
