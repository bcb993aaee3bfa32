package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/registry"
)

// tablesState is the registry tables' rows and the registry's version and
// sync time: what an import writes, apart from where it came from.
func tablesState(t *testing.T, s *Store) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT plate || doc FROM vehicles ORDER BY plate`, `SELECT id || pos || doc FROM tanks ORDER BY id`,
		`SELECT id_number || doc FROM persons ORDER BY id_number`, `SELECT number || doc FROM waybills ORDER BY number`,
		`SELECT kind || value || reason FROM blacklist ORDER BY kind, value`,
		`SELECT version || synced_at FROM registry_meta`,
	} {
		rows, err := s.reader.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			b.WriteString(v + "\n")
		}
		rows.Close()
	}
	return b.String()
}

// ImportFile reads a YAML file as a stream (registry.StreamYAML) and a
// JSON file as a stream, and both give the same registry, tables and
// in-memory index, as the whole file decoded by registry.Decode and
// imported by ImportSnapshot (as ImportFile did before); a bad YAML file
// is refused with its line and field, and changes nothing.
func TestImportFileStreamsAsBefore(t *testing.T) {
	ctx := context.Background()
	snap := bigSnapshot(t, 2000)
	snap.Version = 7
	snap.SyncedAt = registry.Instant(t0.Add(-time.Hour))
	snap.Blacklist = []registry.BlacklistEntry{{Kind: registry.BlacklistCarrier, Value: "坏运输公司", Reason: "test"}}
	dir := t.TempDir()
	var yb bytes.Buffer
	enc := yaml.NewEncoder(&yb)
	enc.SetIndent(2)
	if err := enc.Encode(snap); err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	yamlFile, jsonFile := filepath.Join(dir, "r.yaml"), filepath.Join(dir, "r.json")
	if err := os.WriteFile(yamlFile, yb.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(jsonFile, jb, 0o600); err != nil {
		t.Fatal(err)
	}

	before, _ := openTest(t)
	decoded, err := registry.Decode(yb.Bytes(), yamlFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := before.ImportSnapshot(ctx, decoded, yamlFile, t0); err != nil {
		t.Fatal(err)
	}
	want := tablesState(t, before)
	wantIx, err := before.Lookup(ctx, checks.Evidence{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(want, "TK-01999") || !strings.Contains(want, "坏运输公司") {
		t.Fatalf("the registry imported the old way is not the whole snapshot:\n%.400s", want)
	}
	for _, file := range []string{yamlFile, jsonFile} {
		s, _ := openTest(t)
		if err := s.ImportFile(ctx, file, t0); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if got := tablesState(t, s); got != want {
			t.Fatalf("%s: the tables differ from the old import", file)
		}
		ix, err := s.Lookup(ctx, checks.Evidence{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ix, wantIx) {
			t.Fatalf("%s: the in-memory index differs from the old import's", file)
		}
	}

	// A bad record deep in the file: its line and field; nothing changed.
	s, _ := openTest(t)
	if err := s.ImportFile(ctx, jsonFile, t0); err != nil {
		t.Fatal(err)
	}
	held := tablesState(t, s)
	bad := strings.Replace(yb.String(), "  - plate: 浙B01500\n    kind: tractor\n", "  - plate: 浙B01500\n    kind: bus\n", 1)
	line := strings.Count(bad[:strings.Index(bad, "kind: bus")], "\n") + 1
	badFile := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badFile, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	err = s.ImportFile(ctx, badFile, t0)
	if wantErr := fmt.Sprintf("%s:%d: vehicles[1500].kind", badFile, line); err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), wantErr) {
		t.Fatalf("ImportFile = %v, want ErrInvalid naming %s", err, wantErr)
	}
	if tablesState(t, s) != held {
		t.Fatal("a refused file changed the registry")
	}
}
