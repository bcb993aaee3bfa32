package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/hazgate/hazgate/sim/simreader"
)

// exitBound is how long a stop test waits for the command to exit after a
// signal: far beyond its own stopBound, so that no test fails on a busy
// machine's timing.
const exitBound = 30 * time.Second

// The command stops by itself when it can; when it cannot (a part that
// ignores its context), it is ended when the bound is up, saying what was
// still running, after its halts; a second signal ends it at once.
func TestUntilSignalled(t *testing.T) {
	t.Run("stops by itself", func(t *testing.T) {
		sigs := make(chan os.Signal, 2)
		var log bytes.Buffer
		sigs <- syscall.SIGTERM
		code := untilSignalled(sigs, &log, "hazgate x", time.Hour, func(ctx context.Context) int {
			<-ctx.Done()
			return 7
		})
		if code != 7 || log.String() != "hazgate x: stopping on SIGTERM; it is ended anyway in 1h0m0s, or at once on a second signal\nhazgate x: stopped\n" {
			t.Fatalf("status %d, log %q", code, log.String())
		}
	})
	// stuck is a command that says what it runs, then is signalled, and
	// never stops.
	stuck := func(halted chan<- struct{}, sigs chan<- os.Signal, send ...os.Signal) func(ctx context.Context) int {
		return func(ctx context.Context) int {
			p := partsOf(ctx)
			p.start("the opening")
			p.start("lane in-1's reader")
			p.watch(func() []string { return []string{"the uplink"} })
			p.onEnd(func() { close(halted) })
			for _, s := range send {
				sigs <- s
			}
			select {}
		}
	}
	t.Run("bound", func(t *testing.T) {
		sigs := make(chan os.Signal, 2)
		var log bytes.Buffer
		halted := make(chan struct{})
		// The bound is up at once: what matters is that the command
		// never stops.
		code := untilSignalled(sigs, &log, "hazgate x", time.Nanosecond, stuck(halted, sigs, os.Interrupt))
		if code != exitStopTimeout || !strings.Contains(log.String(), "hazgate x: did not stop within 1ns of SIGINT (still running: the uplink, lane in-1's reader, the opening); ending anyway, exit status 3\n") {
			t.Fatalf("status %d, log %q", code, log.String())
		}
		<-halted
	})
	t.Run("second signal", func(t *testing.T) {
		sigs := make(chan os.Signal, 2)
		var log bytes.Buffer
		halted := make(chan struct{})
		code := untilSignalled(sigs, &log, "hazgate x", time.Hour, stuck(halted, sigs, syscall.SIGTERM, os.Interrupt))
		if code != 130 || !strings.Contains(log.String(), "hazgate x: SIGINT again: ending at once (still running: the uplink, lane in-1's reader, the opening); exit status 130\n") {
			t.Fatalf("status %d, log %q", code, log.String())
		}
		<-halted
	})
}

// TestStopOnSignal runs each long-running command as a process, from the
// binary, with a lane stuck on a device that never answers, and signals it.
func TestStopOnSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds hazgate and runs it")
	}
	bin := filepath.Join(t.TempDir(), "hazgate")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	// hazgate run: its reader and scanner are ptys where nothing answers,
	// its broker takes the connection and never answers CONNACK. It stops
	// by itself: status 0, the store closed (no WAL left behind).
	t.Run("run", func(t *testing.T) {
		dir := t.TempDir()
		cfg, db := runConfig(t, dir, silentPty(t).Name(), silentPty(t).Name())
		p := start(t, bin, "run", "-config", cfg)
		p.stderr.await(t, p.exited, regexp.MustCompile(`msg="hazgate running"`))
		p.stderr.await(t, p.exited, regexp.MustCompile(`msg="device fault".*device=idcard`))
		p.signal(t, syscall.SIGTERM)
		if code := p.wait(t); code != 0 {
			t.Fatalf("exit status %d, want 0\n%s", code, p.stderr.String())
		}
		p.said(t, "hazgate run: stopping on SIGTERM;", "hazgate run: stopped\n", `msg="hazgate stopping`)
		if _, err := os.Stat(db + "-wal"); !os.IsNotExist(err) {
			t.Fatalf("%s-wal is still there (%v): the store was not closed", db, err)
		}
	})

	// hazgate run with its reader's line wedged: the driver's write never
	// returns, so the lane cannot stop. The command is ended when its bound
	// is up, naming the reader, with its own status.
	t.Run("run wedged", func(t *testing.T) {
		dir := t.TempDir()
		reader := silentPty(t)
		wedge(t, reader)
		cfg, db := runConfig(t, dir, reader.Name(), silentPty(t).Name())
		p := start(t, bin, "run", "-config", cfg)
		p.stderr.await(t, p.exited, regexp.MustCompile(`msg="hazgate running"`))
		p.awaitWedged(t, reader)
		p.signal(t, syscall.SIGTERM)
		if code := p.wait(t); code != exitStopTimeout {
			t.Fatalf("exit status %d, want %d\n%s", code, exitStopTimeout, p.stderr.String())
		}
		p.said(t, "hazgate run: stopping on SIGTERM;", "hazgate run: did not stop within 5s of SIGTERM (still running: ", "in-1/idcard")
		// Ended without closing the store: its WAL is left for the next
		// start to recover (which the clean stop above does not leave).
		if _, err := os.Stat(db + "-wal"); err != nil {
			t.Fatalf("%s-wal: %v; want it left behind by a process ended without closing its store", db, err)
		}
	})

	// hazgate sim -scenario, in real time, while a vehicle waits at a
	// lane whose escort's reader never answers: it stops, saying the run
	// did not finish.
	t.Run("sim scenario", func(t *testing.T) {
		p := start(t, bin, "sim", "-scenario", "testdata/stuck-reader.yaml", "-speed", "1")
		p.stdout.await(t, p.exited, regexp.MustCompile(`device in-1/escort_idcard fault: `))
		p.signal(t, syscall.SIGTERM)
		if code := p.wait(t); code != 1 {
			t.Fatalf("exit status %d, want 1\n%s", code, p.stderr.String())
		}
		p.said(t, "hazgate sim: stopping on SIGTERM;", "hazgate sim: stopped before it finished\n", "hazgate sim: stopped\n")
	})

	// hazgate sim, the demo staying up after its run: Ctrl-C ends it.
	t.Run("sim demo", func(t *testing.T) {
		p := start(t, bin, "sim", "-speed", "0", "-kiosk", "127.0.0.1:0", "-db", filepath.Join(t.TempDir(), "demo.db"))
		p.stderr.await(t, p.exited, regexp.MustCompile(`staying up until interrupted`))
		p.signal(t, os.Interrupt)
		if code := p.wait(t); code != 0 {
			t.Fatalf("exit status %d, want 0\n%s", code, p.stderr.String())
		}
		p.said(t, "hazgate sim: stopping on SIGINT;", "hazgate sim: stopped\n")
	})

	// hazgate idcard read, waiting for a card that never comes.
	t.Run("idcard read", func(t *testing.T) {
		r, err := simreader.New(filepath.Join(t.TempDir(), "hazgate-idcard-in1"))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		p := start(t, bin, "idcard", "read", "-port", r.Path(), "-timeout", "1h")
		p.stderr.await(t, p.exited, regexp.MustCompile(`waiting up to 1h0m0s for a card`))
		p.signal(t, syscall.SIGTERM)
		if code := p.wait(t); code != 1 {
			t.Fatalf("exit status %d, want 1\n%s", code, p.stderr.String())
		}
		p.said(t, "hazgate idcard read: stopping on SIGTERM;", "hazgate idcard: stopped before it finished\n", "hazgate idcard read: stopped\n")
	})

	// hazgate idcard read on a reader whose line is wedged: it cannot stop
	// by itself; a second signal ends it at once.
	t.Run("idcard read, second signal", func(t *testing.T) {
		reader := silentPty(t)
		wedge(t, reader)
		p := start(t, bin, "idcard", "read", "-port", reader.Name(), "-timeout", "1h")
		p.stderr.await(t, p.exited, regexp.MustCompile(`waiting up to 1h0m0s for a card`))
		p.awaitWedged(t, reader)
		p.signal(t, syscall.SIGTERM)
		p.stderr.await(t, p.exited, regexp.MustCompile(`hazgate idcard read: stopping on SIGTERM;`))
		p.signal(t, os.Interrupt)
		if code := p.wait(t); code != 130 {
			t.Fatalf("exit status %d, want 130\n%s", code, p.stderr.String())
		}
		p.said(t, "hazgate idcard read: SIGINT again: ending at once (still running: the ID-card reader on "+reader.Name())
		if strings.Contains(p.stderr.String(), "did not stop within") {
			t.Fatalf("ended by the bound, not by the second signal:\n%s", p.stderr.String())
		}
	})
}

// runConfig writes a configuration for `hazgate run` with one entry lane
// whose reader and scanner are at the given ports, GPIO lines that do not
// exist (the lane's loops and barrier in fault, the relays never driven),
// and a broker that takes connections and never answers.
func runConfig(t *testing.T, dir, reader, scanner string) (cfg, db string) {
	t.Helper()
	db = filepath.Join(dir, "gate.db")
	cfg = filepath.Join(dir, "hazgate.yaml")
	yml := fmt.Sprintf(`park: p1
gate: g1
database: %s
lanes:
  - name: in-1
    direction: in
    idcard: {port: %s}
    scanner: {port: %s}
    arrival_loop: {pin: STOPTEST_NO_ARRIVAL}
    safety_loop: {pin: STOPTEST_NO_SAFETY}
    barrier: {open_pin: STOPTEST_NO_OPEN, close_pin: STOPTEST_NO_CLOSE}
mqtt: {broker: %q, keepalive: 5s}
kiosk: {listen: "127.0.0.1:0"}
log: {level: debug}
`, db, reader, scanner, silentBroker(t))
	if err := os.WriteFile(cfg, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg, db
}

// silentPty is a pty's device side, which a driver opens, with nothing
// answering on the other side; its file is the test's own handle.
func silentPty(t *testing.T) *os.File {
	t.Helper()
	master, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { master.Close(); tty.Close() })
	return tty
}

// wedge stops the pty's output (tcflow TCOOFF, as a device holding off
// flow control does): a driver's write to it blocks in the kernel, where
// no context, close or deadline reaches it.
func wedge(t *testing.T, tty *os.File) {
	t.Helper()
	if err := unix.IoctlSetInt(int(tty.Fd()), unix.TCXONC, unix.TCOOFF); err != nil {
		t.Fatalf("stopping the pty's output: %v", err)
	}
	t.Cleanup(func() { unix.IoctlSetInt(int(tty.Fd()), unix.TCXONC, unix.TCOON) })
}

// silentBroker is a TCP listener that takes connections and never writes
// (no CONNACK); it returns its URL.
func silentBroker(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "tcp://" + ln.Addr().String()
}

// proc is hazgate running as a process.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr *logLines
	exited         chan int // its status, once
}

func start(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...), stdout: &logLines{changed: make(chan struct{}, 1)}, stderr: &logLines{changed: make(chan struct{}, 1)}, exited: make(chan int, 1)}
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		p.cmd.Wait()
		p.exited <- p.cmd.ProcessState.ExitCode()
		close(done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("hazgate %s's stdout:\n%s\nits stderr:\n%s", strings.Join(args, " "), p.stdout.String(), p.stderr.String())
		}
	})
	return p
}

func (p *proc) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
}

// wait waits for the process to exit, at most exitBound, and returns its
// status.
func (p *proc) wait(t *testing.T) int {
	t.Helper()
	select {
	case code := <-p.exited:
		return code
	case <-time.After(exitBound):
		t.Fatalf("still running %v after the signal", exitBound)
		return 0
	}
}

// said checks that stderr has each of the texts.
func (p *proc) said(t *testing.T, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if !strings.Contains(p.stderr.String(), s) {
			t.Fatalf("stderr does not say %q:\n%s", s, p.stderr.String())
		}
	}
}

// awaitWedged waits until one of the process's threads is blocked writing
// to tty (which wedge stopped), as /proc/<pid>/task/*/syscall shows.
func (p *proc) awaitWedged(t *testing.T, tty *os.File) {
	t.Helper()
	pid := p.cmd.Process.Pid
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(bound)
	for {
		fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/syscall", pid))
		for _, fd := range fds {
			if link, err := os.Readlink(fd); err != nil || link != tty.Name() {
				continue
			}
			want := fmt.Sprintf("%d 0x%x ", unix.SYS_WRITE, atoi(filepath.Base(fd)))
			for _, task := range tasks {
				b, err := os.ReadFile(task)
				if err != nil && os.IsPermission(err) {
					t.Skipf("cannot read %s (%v): cannot tell when the command is wedged", task, err)
				}
				if strings.HasPrefix(string(b), want) {
					return
				}
			}
		}
		select {
		case <-tick.C:
		case code := <-p.exited:
			t.Fatalf("exited with status %d before writing to %s", code, tty.Name())
		case <-deadline:
			t.Fatalf("no thread blocked writing to %s within %v", tty.Name(), bound)
		}
	}
}

func atoi(s string) int {
	n := 0
	fmt.Sscan(s, &n)
	return n
}
