package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `hazgate config check` on each of config's refused files (issue 19)
// fails, and says, in plain words on stderr, the field the file gets wrong:
// each line is file:line: field: what is wrong, never a Go error's dump.
func TestConfigCheckRefusedValues(t *testing.T) {
	files, err := filepath.Glob("../../config/testdata/refused/*.yaml")
	if err != nil || len(files) < 60 {
		t.Fatalf("%d files, %v", len(files), err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			code, out, errs := run(t, "config", "check", f)
			if code != 1 || out != "" {
				t.Fatalf("exit %d, stdout %q; want 1 and nothing", code, out)
			}
			for _, l := range strings.Split(string(data), "\n") {
				if w, ok := strings.CutPrefix(l, "# want: "); ok && !strings.Contains(errs, w) {
					t.Errorf("stderr %q\nwant it to say %q", errs, w)
				}
			}
			for _, l := range strings.Split(strings.TrimRight(errs, "\n"), "\n") {
				if !strings.HasPrefix(l, f+":") || strings.ContainsAny(l, "{}") || strings.Contains(l, "%!") || strings.Contains(l, "stat ") {
					t.Errorf("line %q is not file:line: field: plain words", l)
				}
			}
		})
	}
}
