package uplink

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"
)

// natsNode is one node of a NATS cluster with JetStream and MQTT, run from
// firmware-config/nats/node.conf.tmpl.
type natsNode struct {
	t                            testing.TB
	Name, Dir                    string
	Client, Monitor, Route, MQTT int
	Routes                       []int
	conf                         string
	mu                           sync.Mutex
	cmd                          *exec.Cmd
	done                         chan struct{}
	log                          strings.Builder
}

func (n *natsNode) url() string { return fmt.Sprintf("tcp://127.0.0.1:%d", n.MQTT) }

// natsBin finds Debian's nats-server, or skips (fails under CI=true).
func natsBin(t testing.TB) string {
	t.Helper()
	for _, p := range []string{os.Getenv("HAZGATE_NATS_SERVER"), "nats-server", "/usr/sbin/nats-server", "/usr/bin/nats-server"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	msg := "the cluster test needs nats-server: apt-get install nats-server (or set HAZGATE_NATS_SERVER)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// startNATSCluster writes the three nodes' configurations and starts them,
// returning once every node's MQTT listener takes connections and the
// cluster has a JetStream meta leader.
func startNATSCluster(t testing.TB) []*natsNode {
	t.Helper()
	bin := natsBin(t)
	tmpl, err := template.ParseFiles(filepath.Join("..", "firmware-config", "nats", "node.conf.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	nodes := make([]*natsNode, 3)
	for i := range nodes {
		nodes[i] = &natsNode{t: t, Name: fmt.Sprintf("n%d", i+1), Dir: t.TempDir(),
			Client: freePort(t), Monitor: freePort(t), Route: freePort(t), MQTT: freePort(t)}
	}
	for i, n := range nodes {
		for j, o := range nodes {
			if i != j {
				n.Routes = append(n.Routes, o.Route)
			}
		}
		n.conf = filepath.Join(n.Dir, "node.conf")
		f, err := os.Create(n.conf)
		if err != nil {
			t.Fatal(err)
		}
		if err := tmpl.Execute(f, n); err != nil {
			t.Fatal(err)
		}
		f.Close()
		n.cmd = nil
		t.Cleanup(func() {
			n.kill()
			if t.Failed() {
				t.Logf("%s log:\n%s", n.Name, n.logText())
			}
		})
	}
	for _, n := range nodes {
		n.start(bin)
	}
	for _, n := range nodes {
		n.waitReady()
	}
	return nodes
}

func (n *natsNode) logText() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.log.String()
}

func (n *natsNode) start(bin string) {
	n.t.Helper()
	cmd := exec.Command(bin, "-c", n.conf)
	out, err := cmd.StderrPipe()
	if err != nil {
		n.t.Fatal(err)
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		n.t.Fatalf("start %s: %v", n.Name, err)
	}
	done := make(chan struct{})
	n.mu.Lock()
	n.cmd, n.done = cmd, done
	n.mu.Unlock()
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			n.mu.Lock()
			n.log.WriteString(sc.Text() + "\n")
			n.mu.Unlock()
		}
		io.Copy(io.Discard, out)
		cmd.Wait()
	}()
}

// waitReady waits until the node's JetStream is up in the cluster (its
// health endpoint answers ok) and its MQTT listener takes connections.
func (n *natsNode) waitReady() {
	n.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	url := fmt.Sprintf("http://127.0.0.1:%d/healthz?js-enabled-only=true", n.Monitor)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("%s not ready in 60 s:\n%s", n.Name, n.logText())
		}
		select {
		case <-n.done:
			n.t.Fatalf("%s exited at start:\n%s", n.Name, n.logText())
		case <-time.After(100 * time.Millisecond): // the server's health endpoint is polled
		}
	}
}

func (n *natsNode) kill() {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.cmd = nil
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Kill()
	<-done
}
