package uplink

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// mosquitto is a real Mosquitto broker run by a test on a free loopback
// port with a temporary configuration. Its persistence file lives in the
// test's directory, so a restart keeps retained messages and persistent
// sessions, as a park broker does.
type mosquitto struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	conf string

	mu   sync.Mutex
	cmd  *exec.Cmd
	log  strings.Builder
	done chan struct{}
}

// mosquittoBin finds the mosquitto binary. When it is absent the test is
// skipped, except in CI (CI=true), where a missing broker fails it: CI must
// install it (.ci/run: apt-get install mosquitto mosquitto-clients).
func mosquittoBin(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"mosquitto", "/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"} {
		if bin, err := exec.LookPath(p); err == nil {
			return bin
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("mosquitto is not installed, and CI=true: .ci/run must install it (apt-get install -y mosquitto mosquitto-clients)")
	}
	t.Skip("mosquitto is not installed (apt-get install -y mosquitto mosquitto-clients); skipping the broker tests")
	return ""
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// newMosquitto writes a configuration (extra is appended to the listener
// section) but does not start the broker.
func newMosquitto(t testing.TB, extra string) *mosquitto {
	t.Helper()
	m := &mosquitto{t: t, bin: mosquittoBin(t), dir: t.TempDir(), port: freePort(t)}
	name := "root"
	if u, err := user.Current(); err == nil {
		name = u.Username // mosquitto running as root drops to this user; as anyone else it ignores it
	}
	m.conf = filepath.Join(m.dir, "mosquitto.conf")
	conf := fmt.Sprintf(`# written by the uplink tests
user %s
per_listener_settings false
persistence true
persistence_location %s/
log_dest stderr
log_type error
log_type warning
log_type notice
log_type information
connection_messages true
max_queued_messages 1000000
max_inflight_messages 100
set_tcp_nodelay true
listener %d 127.0.0.1
%s
`, name, m.dir, m.port, extra)
	if err := os.WriteFile(m.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		m.kill()
		if t.Failed() {
			t.Logf("mosquitto log:\n%s", m.logText())
		}
	})
	return m
}

// startMosquitto starts a plain broker that lets everyone in.
func startMosquitto(t testing.TB) *mosquitto {
	m := newMosquitto(t, "allow_anonymous true")
	m.start()
	return m
}

func (m *mosquitto) url() string  { return fmt.Sprintf("tcp://127.0.0.1:%d", m.port) }
func (m *mosquitto) addr() string { return fmt.Sprintf("127.0.0.1:%d", m.port) }

// start runs the broker and returns once it says it is running.
func (m *mosquitto) start() {
	m.t.Helper()
	cmd := exec.Command(m.bin, "-c", m.conf)
	// What mosquitto says before its log is set up (a listener it cannot
	// open) goes to stdout: kept in the log too, for a start that fails.
	cmd.Stdout = logWriter{m}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		m.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		m.t.Fatalf("start mosquitto: %v", err)
	}
	running := make(chan struct{})
	done := make(chan struct{})
	m.mu.Lock()
	m.cmd, m.done = cmd, done
	m.mu.Unlock()
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		once := sync.Once{}
		for sc.Scan() {
			line := sc.Text()
			m.mu.Lock()
			m.log.WriteString(line + "\n")
			m.mu.Unlock()
			if strings.Contains(line, " running") {
				once.Do(func() { close(running) })
			}
		}
		io.Copy(io.Discard, stderr)
		cmd.Wait()
	}()
	select {
	case <-running:
	case <-done:
		m.t.Fatalf("mosquitto exited at start:\n%s", m.logText())
	case <-time.After(20 * time.Second):
		m.t.Fatalf("mosquitto did not start in 20 s:\n%s", m.logText())
	}
}

// stop ends the broker cleanly (SIGTERM: it saves its persistence file).
func (m *mosquitto) stop() { m.signal(syscall.SIGTERM) }

// kill ends the broker at once (SIGKILL: what it had not saved is lost).
func (m *mosquitto) kill() { m.signal(syscall.SIGKILL) }

func (m *mosquitto) signal(sig syscall.Signal) {
	m.mu.Lock()
	cmd, done := m.cmd, m.done
	m.cmd = nil
	m.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

func (m *mosquitto) logText() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.log.String()
}

// logWriter appends to a broker's log.
type logWriter struct{ m *mosquitto }

func (w logWriter) Write(p []byte) (int, error) {
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	return w.m.log.Write(p)
}
