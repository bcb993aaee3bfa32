package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/registry/registrytest"
	"github.com/hazgate/hazgate/store"
)

// Each bad registry of issue 15 is refused by `hazgate registry import`,
// as YAML and as JSON, with an error that names its field, and leaves the
// registry tables and version byte for byte as they were; the same file
// with -force is refused too, except the version jump and going back to
// an older version, which -force lets through (an installer restoring a
// registry).
func TestRegistryImportRefusesBadRegistries(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "gate.db")
	write := func(name string, data []byte) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := registrytest.Good(time.Now().Add(-time.Hour))
	goodYAML, err := yaml.Marshal(good)
	if err != nil {
		t.Fatal(err)
	}
	if code, _, errs := run(t, "registry", "import", write("good.yaml", goodYAML), "-db", db); code != 0 {
		t.Fatalf("good registry: %d %s", code, errs)
	}
	dump := func() string {
		t.Helper()
		h, err := sql.Open("sqlite", db)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		d, err := registrytest.Dump(context.Background(), h)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	before := dump()
	if !strings.Contains(before, "浙B10001") || !strings.Contains(before, "registry_meta") {
		t.Fatalf("the dump does not show the good registry:\n%s", before)
	}
	n := 0
	for _, c := range registrytest.Cases() {
		files := map[string][]byte{}
		if c.YAML != "" {
			files["yaml"] = []byte(c.YAML)
		} else if s := c.Import(good); s != nil {
			b, err := yaml.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			files["yaml"] = b
			if b, err := json.Marshal(s); err == nil { // JSON cannot carry every case
				files["json"] = b
			}
		}
		for ext, data := range files {
			t.Run(c.Name+"/"+ext, func(t *testing.T) {
				n++
				file := write("bad."+ext, data)
				field := c.FieldAt("", 1)
				code, out, errs := run(t, "registry", "import", file, "-db", db)
				if code != 1 || !strings.Contains(errs, field) || !strings.Contains(errs, "not imported") {
					t.Fatalf("import = %d %q %q; want 1 and an error naming %s", code, out, errs, field)
				}
				if strings.Contains(errs, "store: ") {
					t.Errorf("the error is a Go error chain: %q", errs)
				}
				if after := dump(); after != before {
					t.Fatalf("a refused import changed the registry:\nbefore\n%s\nafter\n%s", before, after)
				}
				if c.Name == "version jump" || c.Name == "version not above the held one" {
					return // what -force is for: tested below
				}
				if code, _, _ := run(t, "registry", "import", file, "-db", db, "-force"); code != 1 {
					t.Fatalf("-force imported it: %d", code)
				}
			})
		}
	}
	if n < 40 {
		t.Fatalf("only %d imports tried", n)
	}

	// -force lets a large jump through, and only that.
	jump := registrytest.Good(time.Now())
	jump.Version = registrytest.HeldVersion + registry.MaxVersionJump + 1
	b, _ := yaml.Marshal(jump)
	file := write("jump.yaml", b)
	if code, _, errs := run(t, "registry", "import", file, "-db", db, "-force"); code != 0 {
		t.Fatalf("-force: %d %s", code, errs)
	}
	if after := dump(); !strings.Contains(after, "1000011") {
		t.Fatalf("the forced version is not held:\n%s", after)
	}
	// Going back to an older version: refused, then with -force taken.
	back := registrytest.Good(time.Now())
	back.Version = registrytest.HeldVersion
	b, _ = yaml.Marshal(back)
	file = write("back.yaml", b)
	if code, _, errs := run(t, "registry", "import", file, "-db", db); code != 1 || !strings.Contains(errs, "-force to go back to it") {
		t.Fatalf("an older version without -force: %d %s", code, errs)
	}
	if code, _, errs := run(t, "registry", "import", file, "-db", db, "-force"); code != 0 {
		t.Fatalf("-force back to an older version: %d %s", code, errs)
	}
	if m, err := openMeta(t, db); err != nil || m != registrytest.HeldVersion {
		t.Fatalf("held version %d %v after going back to %d", m, err, registrytest.HeldVersion)
	}
}

// openMeta is the registry version db holds.
func openMeta(t *testing.T, db string) (int64, error) {
	t.Helper()
	st, err := store.Open(context.Background(), db)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	m, err := st.RegistryMeta(context.Background())
	return m.Version, err
}

// BenchmarkRegistryImportRSS measures the peak resident memory of
// `hazgate registry import` of a 33 MB registry as JSON, and of 8 MiB and
// 33 MB registries as YAML (both read as a stream, registry.StreamYAML): a
// child process (this test binary running TestRegistryImportRSSChild)
// reads its baseline, runs the command, and reports VmHWM.
func BenchmarkRegistryImportRSS(b *testing.B) {
	for _, tc := range []struct {
		name, format string
		size         int
		refused      bool
	}{
		{"json-33MB", "json", 33_000_000, false},
		{"yaml-8MiB", "yaml", 7_700_000, false},
		{"yaml-33MB", "yaml", 33_000_000, false},
	} {
		format := tc.format
		b.Run(tc.name, func(b *testing.B) {
			dir := b.TempDir()
			file := filepath.Join(dir, "registry."+format)
			var buf bytes.Buffer
			if _, err := registrytest.WriteBig(&buf, tc.size, 5, time.Now().Add(-time.Minute)); err != nil {
				b.Fatal(err)
			}
			data := buf.Bytes()
			if format == "yaml" {
				// JSON is YAML; written as block YAML, one record a line.
				var s registry.Snapshot
				if err := json.Unmarshal(data, &s); err != nil {
					b.Fatal(err)
				}
				var out bytes.Buffer
				enc := yaml.NewEncoder(&out)
				if err := enc.Encode(&s); err != nil {
					b.Fatal(err)
				}
				data = out.Bytes()
			}
			if err := os.WriteFile(file, data, 0o600); err != nil {
				b.Fatal(err)
			}
			size := len(data)
			data = nil
			buf = bytes.Buffer{}
			for b.Loop() {
				cmd := exec.Command(os.Args[0], "-test.run=^TestRegistryImportRSSChild$", "-test.count=1", "-test.v")
				cmd.Env = append(os.Environ(), "HAZGATE_RSS_CHILD="+file, "HAZGATE_RSS_DB="+filepath.Join(b.TempDir(), "gate.db"),
					fmt.Sprintf("HAZGATE_RSS_REFUSED=%v", tc.refused))
				out, err := cmd.CombinedOutput()
				if err != nil {
					b.Fatalf("child: %v\n%s", err, out)
				}
				var base, peak int64
				for _, l := range strings.Split(string(out), "\n") {
					if i := strings.Index(l, "rss: "); i >= 0 {
						fmt.Sscanf(l[i:], "rss: baseline=%d peak=%d", &base, &peak)
					}
				}
				if peak == 0 {
					b.Fatalf("the child reported no peak:\n%s", out)
				}
				b.ReportMetric(float64(size)/(1<<20), "file-MiB")
				b.ReportMetric(float64(base)/(1<<20), "baseline-MiB")
				b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
				b.ReportMetric(float64(peak-base)/float64(size), "over-baseline/file")
			}
		})
	}
}

// TestRegistryImportRSSChild is BenchmarkRegistryImportRSS's child process.
func TestRegistryImportRSSChild(t *testing.T) {
	file := os.Getenv("HAZGATE_RSS_CHILD")
	if file == "" {
		t.Skip("run by BenchmarkRegistryImportRSS")
	}
	runtime.GC()
	debug.FreeOSMemory()
	if err := registrytest.ResetPeakRSS(); err != nil {
		t.Fatal(err)
	}
	_, base, err := registrytest.PeakRSS()
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	if os.Getenv("HAZGATE_RSS_REFUSED") == "true" {
		want = 1
	}
	if code, _, errs := run(t, "registry", "import", file, "-db", os.Getenv("HAZGATE_RSS_DB")); code != want {
		t.Fatalf("import: %d %s; want %d", code, errs, want)
	}
	peak, _, err := registrytest.PeakRSS()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("rss: baseline=%d peak=%d", base, peak)
}

// A database that cannot be opened is said in words, not as a Go chain.
func TestRegistryImportUnopenableDatabase(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "r.yaml")
	if err := os.WriteFile(file, []byte("vehicles: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "missing-dir", "gate.db")
	code, _, errs := run(t, "registry", "import", file, "-db", db)
	if code != 1 || !strings.Contains(errs, "the database "+db+" cannot be opened or created") || strings.Contains(errs, "store: ") {
		t.Fatalf("import into %s: %d %q", db, code, errs)
	}
}
