package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/hazgate/hazgate/device/camera/cameratest"
	"github.com/hazgate/hazgate/device/facematch/facematchtest"
	"github.com/hazgate/hazgate/uplink"
)

// bound is a generous bound on waiting for something the gate does.
const bound = 20 * time.Second

// TestRunComesUp runs `hazgate run` itself, from its command line and a
// configuration file, against a real Mosquitto, the face-match service and
// a digest-auth camera (their test fakes), and GPIO pins registered in
// periph's registry by the names the configuration gives. The gate comes
// up: /healthz answers, the retained "online" and a status naming the lane
// are on the broker for anyone who subscribes, the lane's reader, which
// cannot be opened, is reported in fault while the gate keeps running, and
// on cancel the command ends with status 0 after saying "offline".
//
// The command loads the GPIO driver itself (gpio.Init); on a machine
// without /dev/gpiochip* the lane's loops and barrier are in fault too, so
// the test asserts nothing about them.
func TestRunComesUp(t *testing.T) {
	broker := startBroker(t)
	dir := t.TempDir()

	face := httptest.NewServer(&facematchtest.Service{})
	defer face.Close()
	cam := httptest.NewServer(&cameratest.Camera{Username: "hazgate", Password: "secret", Auth: "digest"})
	defer cam.Close()
	pins := registerPins(t, "arrival", "safety", "open", "close")

	cfg := filepath.Join(dir, "hazgate.yaml")
	yml := fmt.Sprintf(`park: p1
gate: g1
database: %s
face_match: {url: %q, timeout: 2s}
lanes:
  - name: in-1
    direction: in
    idcard: {port: %s}
    scanner: {port: %s}
    camera: {snapshot_url: %q, username: hazgate, password: secret, auth: digest}
    arrival_loop: {pin: %s}
    safety_loop: {pin: %s}
    barrier: {open_pin: %s, close_pin: %s}
mqtt: {broker: %q, keepalive: 5s}
kiosk: {listen: "127.0.0.1:0"}
log: {level: debug}
`, filepath.Join(dir, "gate.db"), face.URL+"/v1/match", filepath.Join(dir, "no-reader"), filepath.Join(dir, "no-scanner"),
		cam.URL+"/snap.jpg", pins["arrival"], pins["safety"], pins["open"], pins["close"], broker.url())
	if err := os.WriteFile(cfg, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}

	const root = "hazgate/p1/g1"
	live := watch(t, broker.url(), "live", root+"/availability", root+"/status")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout strings.Builder
	stderr := &logLines{changed: make(chan struct{}, 1)}
	exited := make(chan int, 1)
	go func() { exited <- Main(ctx, []string{"run", "-config", cfg}, &stdout, stderr) }()
	defer func() {
		if t.Failed() {
			t.Logf("hazgate run's log:\n%s", stderr.String())
		}
	}()

	// /healthz, on the port the kiosk says it serves.
	m := stderr.await(t, exited, regexp.MustCompile(`msg="kiosk serving".* url=(http://127\.0\.0\.1:\d+)`))
	resp, err := http.Get(m[1] + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var hz map[string]string
	json.NewDecoder(resp.Body).Decode(&hz)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || hz["status"] != "ok" {
		t.Fatalf("/healthz = %d %v, want 200 ok", resp.StatusCode, hz)
	}

	// online, and a status with the lane and its reader in fault.
	live.await(t, "online", func(m message) bool { return m.topic == root+"/availability" && m.payload == "online" })
	live.await(t, "a status with in-1's reader in fault", func(m message) bool {
		if m.topic != root+"/status" {
			return false
		}
		var st uplink.StatusReport
		if err := json.Unmarshal([]byte(m.payload), &st); err != nil || st.Gate != "g1" || len(st.Lanes) != 1 || st.Lanes[0].Lane != "in-1" {
			return false
		}
		for _, d := range st.Devices {
			if d.Lane == "in-1" && d.Kind == "idcard" && d.State == "fault" {
				return true
			}
		}
		return false
	})
	// Both are retained: a subscriber that comes later is given them.
	later := watch(t, broker.url(), "later", root+"/availability", root+"/status")
	// The broker sends the retained messages in no set order: wait for both.
	var online, status bool
	later.await(t, "the retained online and status", func(m message) bool {
		online = online || m.topic == root+"/availability" && m.retained && m.payload == "online"
		status = status || m.topic == root+"/status" && m.retained
		return online && status
	})

	// A cancel ends the command cleanly, offline said.
	cancel()
	select {
	case code := <-exited:
		if code != 0 {
			t.Fatalf("hazgate run ended with status %d", code)
		}
	case <-time.After(bound):
		t.Fatalf("hazgate run did not end within %v of its context", bound)
	}
	live.await(t, "offline", func(m message) bool { return m.topic == root+"/availability" && m.payload == "offline" })
}

// registerPins registers periph gpiotest pins under names of their own, as
// the kernel's line names are registered on the gate, and unregisters them
// when the test ends. It returns each pin's registered name.
func registerPins(t *testing.T, roles ...string) map[string]string {
	t.Helper()
	names := map[string]string{}
	for i, role := range roles {
		name := fmt.Sprintf("RUNTEST_%d_%s", os.Getpid(), strings.ToUpper(role))
		p := &gpiotest.Pin{N: name, Num: 8000 + i, Fn: "GPIO", EdgesChan: make(chan gpio.Level, 8)}
		if err := gpioreg.Register(p); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { gpioreg.Unregister(name) })
		names[role] = name
	}
	return names
}

// logLines is hazgate's stderr: safe for the command's goroutines, and
// awaitable.
type logLines struct {
	mu      sync.Mutex
	b       strings.Builder
	changed chan struct{}
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.b.Write(p)
	l.mu.Unlock()
	select {
	case l.changed <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// await waits for a log line matching re and returns its submatches; it
// fails at once if the command exits first.
func (l *logLines) await(t *testing.T, exited <-chan int, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.After(bound)
	for {
		if m := re.FindStringSubmatch(l.String()); m != nil {
			return m
		}
		select {
		case <-l.changed:
		case code := <-exited:
			t.Fatalf("hazgate run exited with status %d before logging %v", code, re)
		case <-deadline:
			t.Fatalf("hazgate run did not log %v within %v", re, bound)
		}
	}
}

// message is one MQTT message a watcher received.
type message struct {
	topic, payload string
	retained       bool
}

// watcher is an MQTT subscriber whose messages a test can wait for.
type watcher struct {
	mu   sync.Mutex
	msgs []message
	seen int // how many the awaits have looked at
	more chan struct{}
}

func watch(t *testing.T, broker, id string, topics ...string) *watcher {
	t.Helper()
	w := &watcher{more: make(chan struct{}, 1)}
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(broker).SetClientID("runtest-" + id).SetCleanSession(true))
	if tok := c.Connect(); !tok.WaitTimeout(bound) || tok.Error() != nil {
		t.Fatalf("watcher %s: connect: %v", id, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	filters := map[string]byte{}
	for _, tp := range topics {
		filters[tp] = 1
	}
	tok := c.SubscribeMultiple(filters, func(_ mqtt.Client, m mqtt.Message) {
		w.mu.Lock()
		w.msgs = append(w.msgs, message{topic: m.Topic(), payload: string(m.Payload()), retained: m.Retained()})
		w.mu.Unlock()
		select {
		case w.more <- struct{}{}:
		default:
		}
	})
	if !tok.WaitTimeout(bound) || tok.Error() != nil {
		t.Fatalf("watcher %s: subscribe: %v", id, tok.Error())
	}
	return w
}

// await waits for a message, after those earlier awaits took, for which ok
// holds.
func (w *watcher) await(t *testing.T, what string, ok func(message) bool) message {
	t.Helper()
	deadline := time.After(bound)
	for {
		w.mu.Lock()
		for w.seen < len(w.msgs) {
			m := w.msgs[w.seen]
			w.seen++
			if ok(m) {
				w.mu.Unlock()
				return m
			}
		}
		got := append([]message(nil), w.msgs...)
		w.mu.Unlock()
		select {
		case <-w.more:
		case <-deadline:
			t.Fatalf("no %s on the broker within %v; got %+v", what, bound, got)
		}
	}
}

// mosquittoBroker is a real Mosquitto on a free loopback port, as the
// uplink's tests run it (their helper is not importable).
type mosquittoBroker struct{ port int }

func (b mosquittoBroker) url() string { return fmt.Sprintf("tcp://127.0.0.1:%d", b.port) }

// startBroker starts Mosquitto and stops it when the test ends. Without
// Mosquitto the test is skipped, except in CI (CI=true), where it fails.
func startBroker(t testing.TB) mosquittoBroker {
	t.Helper()
	var bin string
	for _, p := range []string{"mosquitto", "/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"} {
		if b, err := exec.LookPath(p); err == nil {
			bin = b
			break
		}
	}
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("mosquitto is not installed, and CI=true: .ci/run must install it")
		}
		t.Skip("mosquitto is not installed (apt-get install -y mosquitto); skipping")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := mosquittoBroker{port: l.Addr().(*net.TCPAddr).Port}
	l.Close()
	name := "root"
	if u, err := user.Current(); err == nil {
		name = u.Username // as root, mosquitto drops to this user; as anyone else it ignores it
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "mosquitto.conf")
	text := fmt.Sprintf("user %s\npersistence false\nlog_dest stderr\nlog_type all\nlistener %d 127.0.0.1\nallow_anonymous true\n", name, b.port)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", conf)
	out, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start mosquitto: %v", err)
	}
	running, done := make(chan struct{}), make(chan struct{})
	var logMu sync.Mutex
	var log strings.Builder
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		var once sync.Once
		for sc.Scan() {
			logMu.Lock()
			log.WriteString(sc.Text() + "\n")
			logMu.Unlock()
			if strings.Contains(sc.Text(), " running") {
				once.Do(func() { close(running) })
			}
		}
		io.Copy(io.Discard, out)
		cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		if t.Failed() {
			logMu.Lock()
			t.Logf("mosquitto's log:\n%s", log.String())
			logMu.Unlock()
		}
	})
	select {
	case <-running:
	case <-done:
		t.Fatal("mosquitto exited at start")
	case <-time.After(bound):
		t.Fatalf("mosquitto did not start within %v", bound)
	}
	return b
}

// TestFirstStartSaysWhatIsMissing runs `hazgate run` with the example
// configuration (firmware-config/hazgate.example.yaml; only the database,
// the kiosk's port and the broker changed) on a machine without the gate's
// hardware: the log has the banner and, once each, the warnings about no
// kiosk accounts, the placeholder secrets and a registry never synced;
// /readyz is 503 and names the lanes' faulted devices and the missing
// registry; the retained status lists the alarms that are on, and the
// camera and the face-match service, which cannot be reached.
func TestFirstStartSaysWhatIsMissing(t *testing.T) {
	broker := startBroker(t)
	dir := t.TempDir()
	example, err := os.ReadFile("../../firmware-config/hazgate.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	yml := string(example)
	for old, repl := range map[string]string{
		"database: /var/lib/hazgate/hazgate.db":           "database: " + filepath.Join(dir, "gate.db"),
		`listen: ":8080"`:                                 `listen: "127.0.0.1:0"`,
		"broker: tcp://127.0.0.1:1883":                    "broker: " + broker.url(),
		"/dev/hazgate-idcard-in1":                         filepath.Join(dir, "no-reader"),
		"/dev/hazgate-scanner-in1":                        filepath.Join(dir, "no-scanner"),
		"http://127.0.0.1:9600/v1/match":                  "http://127.0.0.1:1/v1/match",
		"http://192.0.2.21/ISAPI/Streaming/channels/101/": "http://127.0.0.1:1/ISAPI/Streaming/channels/101/",
	} {
		if !strings.Contains(yml, old) {
			t.Fatalf("the example configuration no longer has %q", old)
		}
		yml = strings.Replace(yml, old, repl, 1)
	}
	cfg := filepath.Join(dir, "hazgate.yaml")
	if err := os.WriteFile(cfg, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	root := "hazgate/ningbo-chem/east-1"
	feed := watch(t, broker.url(), "firststart", root+"/status")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout strings.Builder
	stderr := &logLines{changed: make(chan struct{}, 1)}
	exited := make(chan int, 1)
	go func() { exited <- Main(ctx, []string{"run", "-config", cfg}, &stdout, stderr) }()
	defer func() {
		cancel()
		<-exited
		if t.Failed() {
			t.Logf("hazgate run's log:\n%s", stderr.String())
		}
	}()

	m := stderr.await(t, exited, regexp.MustCompile(`msg="hazgate running" .*database_file=created .*registry_version=0 registry_age="never synced" kiosk_url=(http://127\.0\.0\.1:\d+) accounts=0`))
	url := m[1]
	for _, re := range []string{
		`level=WARN msg="no kiosk accounts: .*hazgate operator add -db \S+gate.db -name NAME -role supervisor"`,
		fmt.Sprintf(`level=WARN msg="placeholder secret in the configuration: .*line=%d key=password`, lineOf(t, yml, "password: change-me")),
		fmt.Sprintf(`level=WARN msg="placeholder secret in the configuration: .*line=%d key=plate_token`, lineOf(t, yml, "plate_token: change-me")),
		`level=WARN msg="the registry has never been synced: `,
	} {
		stderr.await(t, exited, regexp.MustCompile(re))
	}

	// The lanes' devices are in fault once the fault window has passed:
	// wait for the log to say so, then for /readyz to name them.
	stderr.await(t, exited, regexp.MustCompile(`msg="device fault" .*lane=in-1 .*device=idcard`))
	var reasons []map[string]string
	deadline := time.After(bound)
	for {
		resp, err := http.Get(url + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Status  string              `json:"status"`
			Reasons []map[string]string `json:"reasons"`
		}
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || body.Status != "not_ready" {
			t.Fatalf("/readyz = %d %s, want 503 not_ready", resp.StatusCode, body.Status)
		}
		reasons = body.Reasons
		if slices.ContainsFunc(reasons, func(r map[string]string) bool { return r["device"] == "in-1/idcard" }) {
			break
		}
		// The fault reaches the lane's snapshot through its runner after
		// the log line, and nothing need be logged after it: look again
		// shortly, not only when the log changes.
		select {
		case <-stderr.changed:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("/readyz never named in-1/idcard: %v", reasons)
		}
	}
	if !slices.ContainsFunc(reasons, func(r map[string]string) bool { return r["code"] == "registry_empty" && r["zh"] != "" && r["en"] != "" }) {
		t.Fatalf("/readyz reasons %v lack registry_empty", reasons)
	}
	// /healthz stays liveness.
	if resp, err := http.Get(url + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz = %v %v", resp, err)
	}

	feed.await(t, "a status listing the device_fault and registry_stale alarms", func(m message) bool {
		var st uplink.StatusReport
		if json.Unmarshal([]byte(m.payload), &st) != nil {
			return false
		}
		kinds := map[string]bool{}
		for _, a := range st.Alarms {
			kinds[a.Kind+"/"+a.Code] = a.ID != ""
		}
		probed := 0
		for _, d := range st.Devices {
			if (d.Name == "face_match" || d.Name == "in-1/camera") && d.State == "fault" && d.Code == "service_unreachable" {
				probed++
			}
		}
		return kinds["device_fault/device_unplugged"] && kinds["registry_stale/registry_empty"] && probed == 2
	})

	log := stderr.String()
	for _, warn := range []string{`msg="no kiosk accounts`, `msg="the registry has never been synced`} {
		if n := strings.Count(log, warn); n != 1 {
			t.Errorf("%s logged %d times, want once", warn, n)
		}
	}
	for _, line := range strings.Split(log, "\n") {
		if strings.Count(line, "component=") > 1 {
			t.Errorf("a line with component= twice: %s", line)
		}
	}
}

// lineOf is the line of the configuration that holds what.
func lineOf(t *testing.T, yml, what string) int {
	t.Helper()
	for i, l := range strings.Split(yml, "\n") {
		if strings.Contains(l, what) {
			return i + 1
		}
	}
	t.Fatalf("the configuration has no %q", what)
	return 0
}
