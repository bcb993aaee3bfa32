package uplink

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The gate process is killed with SIGKILL at random points while it records
// and sends thousands of events, and started again each time: nothing is
// lost, no seq gap is ever visible, duplicates carry the same id, and the
// last will says offline when the process dies.
func TestCrashNothingLost(t *testing.T) {
	if os.Getenv("UPLINK_CRASH_CHILD") != "" {
		t.Skip("the child runs TestCrashChild")
	}
	n, kills := 3000, 10
	if testing.Short() {
		n, kills = 600, 4
	}
	m := startMosquitto(t)
	s := subscribe(t, m.url(), "platform", nil, "hazgate/#")
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for k := 0; k <= kills; k++ {
		c := startChild(t, dir, m.url(), n)
		if k == kills {
			c.wait(t) // the last run finishes: every event recorded and sent
			break
		}
		// Kill at a random point of recording and sending.
		c.killAfter(time.Duration(rng.IntN(400)) * time.Millisecond)
	}
	got := s.waitFor(t, "every event", haveAll(int64(n)))
	dups := checkEvents(t, got, int64(n))
	offline := 0
	for _, a := range on(got, "/availability") {
		if string(a.payload) == "offline" {
			offline++
		}
	}
	t.Logf("%d events over %d kills: %d duplicates, %d offline (will or clean stop)", n, kills, dups, offline)
	if offline < 2 {
		t.Fatalf("the last will never said offline (%d offline messages)", offline)
	}
}

// child is a re-executed test binary that runs TestCrashChild.
type child struct {
	cmd      *exec.Cmd
	done     chan struct{}
	out      strings.Builder
	ok       bool
	produced chan struct{} // closed when the child says PRODUCED
	started  chan struct{} // closed when the child says STARTED: connected, about to record
}

func startChild(t testing.TB, dir, broker string, n int) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "UPLINK_CRASH_CHILD=1", "UPLINK_CRASH_DIR="+dir,
		"UPLINK_CRASH_BROKER="+broker, "UPLINK_CRASH_N="+strconv.Itoa(n))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, done: make(chan struct{}), produced: make(chan struct{}), started: make(chan struct{})}
	go func() {
		defer close(c.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.out.WriteString(sc.Text() + "\n")
			switch sc.Text() {
			case "CHILD DONE":
				c.ok = true
			case "PRODUCED":
				close(c.produced)
			case "STARTED":
				close(c.started)
			}
		}
		cmd.Wait()
	}()
	return c
}

// killAfter kills the child d after it is connected and recording (a
// child that takes long to start, on a busy machine, is not killed before
// it did anything: then no will would say offline).
func (c *child) killAfter(d time.Duration) {
	select {
	case <-c.done:
		return
	case <-c.started:
	case <-time.After(2 * wait):
	}
	select {
	case <-c.done: // finished before its time: fine
		return
	case <-time.After(d):
	}
	c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// killAfterProduced kills the child once it has recorded every event.
func (c *child) killAfterProduced(t testing.TB) {
	select {
	case <-c.produced:
	case <-c.done:
		t.Fatalf("child ended before producing:\n%s", c.out.String())
	case <-time.After(2 * wait):
		t.Fatalf("child did not produce in time:\n%s", c.out.String())
	}
	c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

func (c *child) wait(t testing.TB) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(2 * wait):
		c.cmd.Process.Kill()
		<-c.done
		t.Fatalf("child did not finish:\n%s", c.out.String())
	}
	if !c.ok {
		t.Fatalf("child failed:\n%s", c.out.String())
	}
}

// TestCrashChild is the gate process of TestCrashNothingLost: it records
// events through the gate until the gate's event seq reaches N, sending
// them with the uplink, and says CHILD DONE once the outbox is empty.
func TestCrashChild(t *testing.T) {
	if os.Getenv("UPLINK_CRASH_CHILD") == "" {
		t.Skip("run by TestCrashNothingLost")
	}
	dir, broker := os.Getenv("UPLINK_CRASH_DIR"), os.Getenv("UPLINK_CRASH_BROKER")
	n, _ := strconv.Atoi(os.Getenv("UPLINK_CRASH_N"))
	r := newRig(t, dir, testConfig(broker))
	waitConn(t, r.u, "connected", func(c ConnState) bool { return c.Connected })
	fmt.Println("STARTED")
	db, err := sql.Open("sqlite", filepath.Join(dir, "gate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for {
		var seq int
		if err := db.QueryRowContext(context.Background(), `SELECT value FROM counters WHERE name = 'event_seq'`).Scan(&seq); err != nil {
			t.Fatal(err)
		}
		if seq >= n {
			break
		}
		r.alarm(t, seq+1)
	}
	fmt.Println("PRODUCED")
	r.waitDrained(t)
	r.stop()
	fmt.Println("CHILD DONE")
}
