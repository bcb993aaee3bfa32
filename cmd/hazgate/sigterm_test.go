package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// builtHazgate is hazgate built once for the tests that run it as a
// process (SIGTERM, SIGKILL, update).
var builtHazgate = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "hazgate-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "hazgate")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

func hazgateBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds hazgate and runs it")
	}
	bin, err := builtHazgate()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// On SIGTERM `hazgate run`, connected to a real Mosquitto, says each step
// of its stop in order: the barriers left fail-secure, the outbox flushed
// (or what waits for the restart), the database closed; it exits 0 and
// says offline on the broker.
func TestSIGTERMStepsInOrder(t *testing.T) {
	bin := hazgateBinary(t)
	broker := startBroker(t)
	dir := t.TempDir()
	cfg, db := runConfig(t, dir, silentPty(t).Name(), silentPty(t).Name())
	text, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	yml := regexp.MustCompile(`mqtt: \{broker: "[^"]*"`).ReplaceAllString(string(text), fmt.Sprintf(`mqtt: {broker: %q`, broker.url()))
	if err := os.WriteFile(cfg, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	const root = "hazgate/p1/g1"
	live := watch(t, broker.url(), "live", root+"/availability")
	p := start(t, bin, "run", "-config", cfg)
	p.stderr.await(t, p.exited, regexp.MustCompile(`msg="hazgate running"`))
	live.await(t, "online", func(m message) bool { return m.payload == "online" })
	p.signal(t, syscall.SIGTERM)
	if code := p.wait(t); code != 0 {
		t.Fatalf("exit status %d, want 0\n%s", code, p.stderr.String())
	}
	live.await(t, "offline", func(m message) bool { return m.payload == "offline" })
	// The barriers and the outbox stop side by side; the database is
	// closed after both.
	log := p.stderr.String()
	at := func(step string) int {
		i := strings.Index(log, step)
		if i < 0 {
			t.Fatalf("the stop does not say %q:\n%s", step, log)
		}
		return i
	}
	signalled := at("hazgate run: stopping on SIGTERM")
	barriers := at(`msg="stop: barriers left closed, relays de-energised (fail-secure)"`)
	// What the uplink's flush sent (TestStopFlushesTheOutbox has the
	// details); a row its last read missed (the telemetry loop's, say) is
	// said to wait for the restart.
	outbox := strings.Index(log, `msg="outbox flushed: nothing left to send"`)
	if outbox < 0 {
		outbox = at(`msg="outbox not empty at the stop: the rest is sent after the restart"`)
	}
	closed := at(`msg="stop: database closed"`)
	stopped := at("hazgate run: stopped\n")
	if !(signalled < barriers && signalled < outbox && barriers < closed && outbox < closed && closed < stopped) {
		t.Fatalf("the stop's steps are out of order:\n%s", log)
	}
	if _, err := os.Stat(db + "-wal"); !os.IsNotExist(err) {
		t.Fatalf("%s-wal is still there (%v): the store was not closed", db, err)
	}
}
