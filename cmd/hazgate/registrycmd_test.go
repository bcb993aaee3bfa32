package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/registry/registrytest"
)

// Each bad registry of issue 15 is refused by `hazgate registry import`,
// as YAML and as JSON, with an error that names its field, and leaves the
// registry tables and version byte for byte as they were; the same file
// with -force is refused too, except the version jump, which -force lets
// through.
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
				if c.Name == "version jump" {
					return
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
}
