package main

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hazgate/hazgate/config"
)

// unitSettings reads a systemd unit's Key=Value lines (every value of a key
// repeated, in order).
func unitSettings(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: %q is not Key=Value", path, line)
		}
		out[k] = append(out[k], v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// The service unit holds to what the code does: notify with a watchdog,
// a stop timeout above hazgate's own stop bound, the group the udev rules
// give the devices, and the example configuration's database directory
// writable.
func TestServiceUnitMatchesTheCode(t *testing.T) {
	u := unitSettings(t, "../../firmware-config/systemd/hazgate.service")
	one := func(k string) string {
		t.Helper()
		if len(u[k]) != 1 {
			t.Fatalf("%s: %q, want one value", k, u[k])
		}
		return u[k][0]
	}
	for k, want := range map[string]string{
		"Type": "notify", "Restart": "on-failure", "NoNewPrivileges": "yes", "ProtectSystem": "strict",
		"PrivateTmp": "yes", "ProtectHome": "yes", "DevicePolicy": "closed",
	} {
		if got := one(k); got != want {
			t.Errorf("%s=%s, want %s", k, got, want)
		}
	}
	wd, err := time.ParseDuration(one("WatchdogSec"))
	if err != nil || wd < 10*time.Second {
		t.Errorf("WatchdogSec=%s: want a duration of 10s or more (%v)", one("WatchdogSec"), err)
	}
	stop, err := time.ParseDuration(one("TimeoutStopSec"))
	if err != nil || stop <= stopBound {
		t.Errorf("TimeoutStopSec=%s: want more than hazgate's own %v (%v)", one("TimeoutStopSec"), stopBound, err)
	}
	if !strings.Contains(one("ExecStart"), " run -config ") {
		t.Errorf("ExecStart=%s does not run the gate", one("ExecStart"))
	}

	// Every device the udev rules hand over goes to the unit's group.
	rules, err := os.ReadFile("../../firmware-config/udev/99-hazgate.rules")
	if err != nil {
		t.Fatal(err)
	}
	groups := regexp.MustCompile(`GROUP="([^"]+)"`).FindAllStringSubmatch(string(rules), -1)
	if len(groups) == 0 {
		t.Fatal("no GROUP= in the udev rules")
	}
	for _, g := range groups {
		if g[1] != one("Group") {
			t.Errorf("udev gives a device to group %s, the unit runs in group %s", g[1], one("Group"))
		}
	}
	for _, class := range []string{"char-ttyUSB", "char-ttyACM", "char-gpiochip"} {
		found := false
		for _, d := range u["DeviceAllow"] {
			found = found || strings.HasPrefix(d, class+" ")
		}
		if !found {
			t.Errorf("DeviceAllow has no %s", class)
		}
	}

	cfg, err := config.Load("../../firmware-config/hazgate.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if rw := one("ReadWritePaths"); rw != filepath.Dir(cfg.Database) {
		t.Errorf("ReadWritePaths=%s, the example's database is in %s", rw, filepath.Dir(cfg.Database))
	}
}
