package kiosk

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/config"
	"github.com/hazgate/hazgate/gate"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/lane/lanetest"
	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/store"
)

// t0 is the tests' gate clock at the start: the registry in testdata was
// synced an hour before.
var t0 = time.Date(2026, 3, 15, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))

// Synthetic people of testdata/registry.yaml.
var (
	driver1 = checks.PersonEvidence{IDNumber: "990001198604120110", Name: "测试一", CardValidFrom: registry.Date(2020, 1, 1), CardValidUntil: registry.Date(2040, 1, 1)}
	escort2 = checks.PersonEvidence{IDNumber: "990001198706230126", Name: "测试二", CardValidFrom: registry.Date(2020, 1, 1), CardValidUntil: registry.Date(2040, 1, 1)}
	driver3 = checks.PersonEvidence{IDNumber: "990001199003150212", Name: "测试三", CardValidFrom: registry.Date(2020, 1, 1), CardValidUntil: registry.Date(2040, 1, 1)}
	escort4 = checks.PersonEvidence{IDNumber: "99000119910722022X", Name: "测试四", CardValidFrom: registry.Date(2020, 1, 1), CardValidUntil: registry.Date(2040, 1, 1)}
)

// vehicle is what a simulated vehicle presents at a lane.
type vehicle struct {
	plate, trailer string
	driver, escort *checks.PersonEvidence
	waybill        string
}

var (
	// reviewVehicle is compliant, but the face service gives no score for
	// its escort: review.
	reviewVehicle = vehicle{plate: "浙B20001", trailer: "浙B2001挂", driver: &driver1, escort: &escort2, waybill: "YD3302002603150101"}
	// rejectVehicle carries propane in a tank not listed for it: reject.
	rejectVehicle = vehicle{plate: "浙B30002", trailer: "浙B3002挂", driver: &driver3, escort: &escort4, waybill: "YD3302002603150202"}
)

// harness is a real gate (store, checks, lane runners) on a fake gate
// clock, with the kiosk in front of it on an httptest server.
type harness struct {
	t        testing.TB
	gateClk  *clock.Fake // the lanes' clock
	wallClk  *clock.Fake // the kiosk's sessions and login limits
	st       *store.Store
	gate     *gate.Gate     // assembled as hazgate run and sim assemble theirs
	lanes    []*lane.Runner // in display order
	accounts *accounts
	barriers map[string]*lanetest.Barrier
	srv      *Server
	http     *httptest.Server
	dbPath   string // the store's file, for a second process's view of it
}

// accounts is the store as the kiosk reads its accounts, with a switch
// that makes the lookups fail, as a store on a failing disk.
type accounts struct {
	*store.Store
	mu   sync.Mutex
	fail error
}

func (a *accounts) Operator(ctx context.Context, name string) (store.Operator, error) {
	a.mu.Lock()
	fail := a.fail
	a.mu.Unlock()
	if fail != nil {
		return store.Operator{}, fail
	}
	return a.Store.Operator(ctx, name)
}

func (a *accounts) failWith(err error) {
	a.mu.Lock()
	a.fail = err
	a.mu.Unlock()
}

// newHarness starts lanes with these names (a name starting "out" is an
// exit lane) and the kiosk with cfg.
func newHarness(t testing.TB, cfg Config, names ...string) *harness {
	t.Helper()
	return newHarnessWith(t, cfg, harnessOptions{}, names...)
}

// harnessOptions change what newHarnessWith loads and hands the kiosk.
type harnessOptions struct {
	registry string      // the registry file (default testdata/registry.yaml)
	deps     func(*Deps) // changes the kiosk's dependencies before New
	// faces, when set, gives each lane's face matcher (default: scripted
	// scores).
	faces func(l *gate.Lane) lane.FaceMatcher
}

func newHarnessWith(t testing.TB, cfg Config, opts harnessOptions, names ...string) *harness {
	t.Helper()
	if opts.registry == "" {
		opts.registry = filepath.Join("testdata", "registry.yaml")
	}
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	h := &harness{t: t, gateClk: clock.NewFake(t0), wallClk: clock.NewFake(time.Date(2026, 3, 15, 1, 0, 0, 0, time.UTC)), barriers: map[string]*lanetest.Barrier{}}
	h.dbPath = filepath.Join(dir, "hazgate.db")
	st, err := store.Open(ctx, h.dbPath, store.WithClock(h.gateClk))
	if err != nil {
		t.Fatal(err)
	}
	h.st = st
	h.accounts = &accounts{Store: st}
	if err := st.ImportFile(ctx, opts.registry, t0); err != nil {
		t.Fatal(err)
	}
	if cfg.Gate == "" {
		cfg.Gate = "test-gate"
	}
	gc := config.Default()
	gc.Gate = "test-gate"
	for _, name := range names {
		dir := lane.DirectionIn
		if strings.HasPrefix(name, "out") {
			dir = lane.DirectionOut
		}
		gc.Lanes = append(gc.Lanes, config.Lane{Name: name, Direction: dir})
	}
	hw := &testHardware{
		faces:    &lanetest.FaceMatcher{Scores: map[string]float64{driver1.IDNumber: 0.93, driver3.IDNumber: 0.95, escort4.IDNumber: 0.92}},
		barriers: h.barriers, newFaces: opts.faces,
	}
	h.gate, err = gate.Assemble(ctx, &gc, st, hw, gate.Options{Clock: h.gateClk})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range h.gate.AllLanes() {
		h.lanes = append(h.lanes, l.Runner)
	}
	deps := Deps{
		Lanes: h.gate.Lanes, Store: h.accounts,
		Clock: h.wallClk, GateClock: h.gateClk, Disk: DiskAt(dir),
	}
	if opts.deps != nil {
		opts.deps(&deps)
	}
	h.srv, err = New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	h.gate.Lanes.Watch(h.srv.Publish)
	var wg sync.WaitGroup
	wg.Go(func() { h.gate.Run(ctx) })
	h.http = httptest.NewServer(h.srv.Handler())
	t.Cleanup(func() {
		h.srv.hub.close() // ends the event streams
		h.http.CloseClientConnections()
		h.http.Close()
		cancel()
		wg.Wait()
		st.Close()
	})
	return h
}

// testHardware is each lane's test barrier and the face matcher's scores.
type testHardware struct {
	faces    lane.FaceMatcher
	newFaces func(l *gate.Lane) lane.FaceMatcher
	barriers map[string]*lanetest.Barrier
}

func (hw *testHardware) Devices(l *gate.Lane) (gate.Devices, error) {
	b := &lanetest.Barrier{}
	hw.barriers[l.Config.Name] = b
	faces := hw.faces
	if hw.newFaces != nil {
		faces = hw.newFaces(l)
	}
	return gate.Devices{Barrier: b, Faces: faces}, nil
}

// addOperator adds an account (bcrypt at its cheapest cost: tests only).
func (h *harness) addOperator(name, role, password string) {
	h.t.Helper()
	hash, err := hashPassword(password, bcrypt.MinCost)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.st.AddOperator(context.Background(), store.Operator{Name: name, Role: role, PasswordHash: hash}, false, t0); err != nil {
		h.t.Fatal(err)
	}
	if name == "disabled" { // the tests' disabled account
		h.disable(name, true)
	}
}

// disable disables (or enables) an account, as `hazgate operator disable`.
func (h *harness) disable(name string, disabled bool) {
	h.t.Helper()
	if err := h.st.SetOperatorDisabled(context.Background(), name, disabled, "cli:test", t0); err != nil {
		h.t.Fatal(err)
	}
}

// runner returns the lane named name.
func (h *harness) runner(name string) *lane.Runner {
	for _, r := range h.lanes {
		if r.Name() == name {
			return r
		}
	}
	h.t.Fatalf("no lane %s", name)
	return nil
}

// send sends events to a lane and waits until it has handled them.
func (h *harness) send(name string, events ...lane.Event) {
	h.t.Helper()
	r := h.runner(name)
	for _, e := range events {
		r.Send(e)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Sync(ctx); err != nil {
		h.t.Fatalf("lane %s: %v", name, err)
	}
}

// arrive drives v through a lane's evidence, one device after another,
// the gate clock moving a second between them; leaving out the plate (or
// anything else) leaves the lane collecting.
func (h *harness) arrive(name string, v vehicle) {
	h.t.Helper()
	step := func(e lane.Event) {
		h.gateClk.Advance(time.Second)
		h.send(name, e)
	}
	step(lane.VehiclePresent{})
	if v.plate != "" {
		step(lane.PlateRead{Plate: v.plate, Trailer: v.trailer, Confidence: 1})
	}
	if v.driver != nil {
		step(lane.CardRead{Person: *v.driver, Role: registry.RoleDriver})
	}
	if v.escort != nil {
		step(lane.CardRead{Person: *v.escort, Role: registry.RoleEscort})
	}
	if v.waybill != "" {
		step(lane.WaybillScanned{Number: v.waybill})
	}
}

// client is a browser-like API client: a cookie jar and the CSRF token.
type client struct {
	t    testing.TB
	base string
	hc   *http.Client
	csrf string
	// header is added to every request.
	header http.Header
}

func (h *harness) client() *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		h.t.Fatal(err)
	}
	return &client{t: h.t, base: h.http.URL, hc: &http.Client{Jar: jar}, header: http.Header{}}
}

// clientFrom is a client whose connections come from this loopback
// address (127.0.0.0/8 is all the machine's own), as another terminal.
func (h *harness) clientFrom(ip string) *client {
	c := h.client()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c.hc.Transport = &http.Transport{DialContext: d.DialContext}
	return c
}

// answer is a response: its status, headers and body.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body.
func (a answer) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("body %q: %v", a.body, err)
	}
	return m
}

// errCode is the error answer's code ("" when there is none).
func (a answer) errCode() string {
	var m struct {
		Error struct{ Code string } `json:"error"`
	}
	json.Unmarshal(a.body, &m)
	return m.Error.Code
}

// do sends a request; a non-nil body is sent as JSON (a []byte as it is)
// with the client's CSRF token.
func (c *client) do(method, path string, body any) answer {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, ok := body.([]byte)
		if !ok {
			var err error
			if b, err = json.Marshal(body); err != nil {
				c.t.Fatal(err)
			}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.csrf != "" {
		req.Header.Set(csrfHeader, c.csrf)
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return answer{status: res.StatusCode, header: res.Header, body: b}
}

// login signs in and keeps the CSRF token; it returns the answer.
func (c *client) login(name, password string) answer {
	c.t.Helper()
	a := c.do(http.MethodPost, "/api/v1/login", map[string]string{"name": name, "password": password})
	if a.status == http.StatusOK {
		c.csrf = a.json(c.t)["csrf"].(string)
	}
	return a
}

// mustLogin signs in or fails the test.
func (c *client) mustLogin(name, password string) *client {
	c.t.Helper()
	if a := c.login(name, password); a.status != http.StatusOK {
		c.t.Fatalf("login %s: %d %s", name, a.status, a.body)
	}
	return c
}

// auditActions lists the actions of the audit entries about subject.
func (h *harness) auditActions(subject string) []string {
	h.t.Helper()
	es, err := h.st.AuditFor(context.Background(), subject)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Action)
	}
	return out
}
