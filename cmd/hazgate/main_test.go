package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hazgate/hazgate/store"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestVersionAndUsage(t *testing.T) {
	if code, out, _ := run(t, "version"); code != 0 || !strings.HasPrefix(out, "hazgate ") {
		t.Fatalf("version: %d %q", code, out)
	}
	if code, _, errs := run(t, "frobnicate"); code != 2 || !strings.Contains(errs, "unknown command") {
		t.Fatalf("unknown command: %d %q", code, errs)
	}
	if code, _, _ := run(t); code != 2 {
		t.Fatalf("no command: %d", code)
	}
}

func TestConfigCheck(t *testing.T) {
	if code, out, errs := run(t, "config", "check", "../../firmware-config/hazgate.example.yaml"); code != 0 || !strings.Contains(out, ": ok") {
		t.Fatalf("example: %d %q %q", code, out, errs)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("park: p\ngate: g\nlanes: []\nwat: 1\n"), 0o644)
	code, _, errs := run(t, "config", "check", bad)
	if code != 1 || !strings.Contains(errs, "bad.yaml:4: wat: unknown key") {
		t.Fatalf("bad config: %d %q", code, errs)
	}
}

func TestRegistryImport(t *testing.T) {
	db := filepath.Join(t.TempDir(), "gate.db")
	code, out, errs := run(t, "registry", "import", "testdata/registry.yaml", "-db", db)
	if code != 0 || !strings.Contains(out, "registry version 7") {
		t.Fatalf("import: %d %q %q", code, out, errs)
	}
	code, _, errs = run(t, "registry", "import", "testdata/registry-bad.yaml", "-db", db)
	if code != 1 || !strings.Contains(errs, "registry-bad.yaml:3: vehicles[1].permit_classes[0]") {
		t.Fatalf("bad import: %d %q", code, errs)
	}
	// The bad file changed nothing: the first registry is still there.
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m, err := st.RegistryMeta(context.Background())
	if err != nil || m.Version != 7 {
		t.Fatalf("after a bad import: version %d, %v; want 7", m.Version, err)
	}
	if code, _, _ := run(t, "registry", "import", "testdata/registry.yaml"); code != 2 {
		t.Fatalf("import without -db: %d, want 2", code)
	}
}

func TestSimScenarioReport(t *testing.T) {
	rep := filepath.Join(t.TempDir(), "report.json")
	code, out, errs := run(t, "sim", "-once", "-speed", "0", "-report", rep)
	if code != 0 || lastLine(out) != "11 passed, 0 failed" {
		t.Fatalf("demo: %d, last line %q\n%s%s", code, lastLine(out), out, errs)
	}
	var r struct {
		Scenario    string
		Inspections []struct {
			Lane, Plate, Trailer, Verdict string
			Checks                        map[string]struct {
				Result  string
				Reasons []string
			}
			OK bool
		}
		Passed, Failed int
	}
	b, err := os.ReadFile(rep)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if r.Passed != 11 || len(r.Inspections) != 11 || r.Inspections[0].Verdict != "pass" || len(r.Inspections[0].Checks) != 7 {
		t.Fatalf("report: %+v", r)
	}
	if got := r.Inspections[1].Checks["inspection_validity"]; got.Result != "fail" || len(got.Reasons) == 0 {
		t.Fatalf("second vehicle's inspection_validity = %+v", got)
	}
}

func TestSimExitsOneWhenAVerdictDiffers(t *testing.T) {
	code, out, _ := run(t, "sim", "-scenario", "testdata/differs.yaml")
	if code != 1 || lastLine(out) != "0 passed, 1 failed" || !strings.Contains(out, "DIFFERS") {
		t.Fatalf("differs: %d\n%s", code, out)
	}
}

func TestSimBadScenario(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("name: x\nclock: 2026-03-15T09:00:00+08:00\narrivals:\n  - at: 1s\n    lane: in-1\n    plate: A\n    expect: {verdict: perhaps}\n"), 0o644)
	code, _, errs := run(t, "sim", "-scenario", bad)
	if code != 1 || !strings.Contains(errs, "bad.yaml:7: arrivals[0].expect.verdict") {
		t.Fatalf("bad scenario: %d %q", code, errs)
	}
}

func TestSimFlags(t *testing.T) {
	// -h is asked for: the usage, exit 0, and -speed shows only its own
	// words about its default.
	code, _, errs := run(t, "sim", "-h")
	if code != 0 || !strings.Contains(errs, "-speed N") || strings.Contains(errs, "(default -1)") || strings.Contains(errs, "help requested") {
		t.Fatalf("sim -h: %d %q", code, errs)
	}
	for _, bad := range []string{"-3", "nan", "inf", "fast"} {
		code, _, errs := run(t, "sim", "-speed", bad)
		if code != 2 || !strings.Contains(errs, "is not a speed") {
			t.Errorf("sim -speed %s: %d %q", bad, code, errs)
		}
	}
}

func TestSimSaysTheKioskPortIsTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	code, out, errs := run(t, "sim", "-scenario", "../../sim/testdata/01-compliant-tractor-trailer.yaml", "-kiosk", ln.Addr().String(), "-db", filepath.Join(t.TempDir(), "g.db"))
	if code != 0 {
		t.Fatalf("sim: %d %s %s", code, out, errs)
	}
	if !strings.Contains(out, "kiosk: "+ln.Addr().String()+" is taken") || !strings.Contains(out, "kiosk: http://127.0.0.1:") {
		t.Fatalf("sim did not say the kiosk's port was taken:\n%s", out)
	}
}
