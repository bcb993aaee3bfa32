package gpio

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/hazgate/hazgate/config"
)

// TestBoardPinMaps checks that each firmware-config/boards fragment, merged
// into a lane of a configuration, passes `hazgate config check` and names
// pins this package can parse.
func TestBoardPinMaps(t *testing.T) {
	files, _ := filepath.Glob("../../firmware-config/boards/*.yaml")
	if len(files) < 2 {
		t.Fatalf("want at least two board pin maps, found %v", files)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Lanes []map[string]any `yaml:"lanes"`
			}
			if err := yaml.Unmarshal(data, &doc); err != nil {
				t.Fatal(err)
			}
			for _, l := range doc.Lanes {
				l["direction"] = "out"
				if strings.HasPrefix(l["name"].(string), "in") {
					l["direction"] = "in"
					l["idcard"] = map[string]any{"port": "/dev/hazgate-idcard-" + l["name"].(string)}
					l["scanner"] = map[string]any{"port": "/dev/hazgate-scanner-" + l["name"].(string)}
				}
			}
			full, _ := yaml.Marshal(map[string]any{"park": "p1", "gate": "g1", "lanes": doc.Lanes})
			c, err := config.Parse(full, f)
			if err != nil {
				t.Fatalf("%v\n%s", err, full)
			}
			for _, l := range c.Lanes {
				for _, p := range []string{l.ArrivalLoop.Pull, l.SafetyLoop.Pull, l.Barrier.LimitPull} {
					if _, err := ParsePull(p); err != nil {
						t.Fatal(err)
					}
				}
				if l.Barrier.ClosedLimitPin == "" || !l.Barrier.RelayActiveLow {
					t.Fatalf("lane %s: %+v", l.Name, l.Barrier)
				}
			}
		})
	}
}
