package appliance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hazgate/hazgate/config"
	"github.com/hazgate/hazgate/lane"
)

// notifySocket is a fake systemd notify socket: a unixgram socket the
// appliance finds in $NOTIFY_SOCKET.
type notifySocket struct {
	t    *testing.T
	conn *net.UnixConn
}

func newNotifySocket(t *testing.T, watchdog time.Duration) *notifySocket {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", strconv.FormatInt(watchdog.Microseconds(), 10))
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	return &notifySocket{t: t, conn: conn}
}

// read returns the next datagram, or "" when none comes within wait.
func (n *notifySocket) read(wait time.Duration) string {
	n.t.Helper()
	buf := make([]byte, 4096)
	n.conn.SetReadDeadline(time.Now().Add(wait))
	k, err := n.conn.Read(buf)
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return ""
		}
		n.t.Fatal(err)
	}
	return string(buf[:k])
}

// want reads datagrams (for at most 20 s) until one is msg.
func (n *notifySocket) want(msg string) {
	n.t.Helper()
	end := time.Now().Add(20 * time.Second)
	for time.Now().Before(end) {
		if got := n.read(time.Until(end)); got == msg {
			return
		}
	}
	n.t.Fatalf("no %q on the notify socket within 20s", msg)
}

// logLines hands the test every log message that contains a word.
type logLines struct {
	word string
	ch   chan string
}

func (l *logLines) Enabled(context.Context, slog.Level) bool { return true }
func (l *logLines) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logLines) WithGroup(string) slog.Handler            { return l }
func (l *logLines) Handle(_ context.Context, r slog.Record) error {
	if !strings.Contains(r.Message, l.word) {
		return nil
	}
	line := r.Message
	r.Attrs(func(a slog.Attr) bool { line += " " + a.String(); return true })
	select {
	case l.ch <- line:
	default: // the test has what it needs
	}
	return nil
}

func (l *logLines) next(t *testing.T) string {
	t.Helper()
	select {
	case s := <-l.ch:
		return s
	case <-time.After(20 * time.Second):
		t.Fatalf("no log line with %q within 20s", l.word)
		return ""
	}
}

// The gate tells systemd it is ready once its lanes run, then pings the
// watchdog; when one lane's loop is stuck (blocked here inside a lane
// watcher, which the lane goroutine calls), the pings stop, and resume
// when it turns again; on shutdown it says STOPPING=1.
func TestSystemdReadyAndWatchdog(t *testing.T) {
	sock := newNotifySocket(t, 200*time.Millisecond) // pings every 100 ms
	dir := t.TempDir()
	lanesYAML := ""
	for i, name := range []string{"in-1", "in-2"} {
		lanesYAML += fmt.Sprintf(`  - name: %s
    direction: in
    idcard: {port: %s}
    scanner: {port: %s}
    arrival_loop: {pin: NO_SUCH_PIN_%d1}
    safety_loop: {pin: NO_SUCH_PIN_%d2}
    barrier: {open_pin: NO_SUCH_PIN_%d3, close_pin: NO_SUCH_PIN_%d4}
`, name, filepath.Join(dir, "no-reader-"+name), filepath.Join(dir, "no-scanner-"+name), i, i, i, i)
	}
	yml := fmt.Sprintf("park: p1\ngate: g1\ndatabase: %s\nkiosk: {listen: \"127.0.0.1:0\"}\nlanes:\n%s", filepath.Join(dir, "gate.db"), lanesYAML)
	cfg, err := config.Parse([]byte(yml), "hazgate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	withheld := &logLines{word: "withheld", ch: make(chan string, 100)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := New(ctx, cfg, Options{GPIOInit: func() error { return nil }, Log: slog.New(withheld)})
	if err != nil {
		t.Fatal(err)
	}
	// The store says which gate it belongs to (for hazgate restore).
	if id, err := a.Store().GateIdentity(ctx); err != nil || id.String() != "p1/g1" {
		t.Fatalf("gate identity %v %v, want p1/g1", id, err)
	}
	entered, unblock := make(chan struct{}), make(chan struct{})
	var once, unblockOnce sync.Once
	release := func() { unblockOnce.Do(func() { close(unblock) }) }
	defer release()
	a.Lanes().Watch(func(s lane.Snapshot) {
		if s.Lane == "in-2" && s.Lockdown {
			once.Do(func() { close(entered); <-unblock })
		}
	})
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()

	if got := sock.read(20 * time.Second); got != "READY=1" {
		t.Fatalf("first notification %q, want READY=1", got)
	}
	sock.want("WATCHDOG=1")
	sock.want("WATCHDOG=1")

	a.Lanes().Send("in-2", lane.Lockdown{On: true})
	<-entered
	if line := withheld.next(t); !strings.Contains(line, "lane in-2 is stuck") {
		t.Fatalf("withheld ping: %q, want lane in-2 named", line)
	}
	// Drop the pings sent before the first withheld one (they are queued
	// on the socket by now), then see two more rounds withheld: nothing
	// may have been sent in between, since each round either pings or
	// withholds, one after the other.
	for sock.read(10*time.Millisecond) != "" {
	}
	withheld.next(t)
	withheld.next(t)
	if got := sock.read(10 * time.Millisecond); got != "" {
		t.Fatalf("%q on the notify socket while lane in-2 is stuck", got)
	}

	release()
	sock.want("WATCHDOG=1")
	cancel()
	sock.want("STOPPING=1")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
