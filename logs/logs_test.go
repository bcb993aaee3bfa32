package logs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hazgate/hazgate/clock"
)

func env(kv ...string) func(string) string {
	return func(k string) string {
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i] == k {
				return kv[i+1]
			}
		}
		return ""
	}
}

// Under systemd a line is one JSON object (journald keeps it whole); on a
// terminal, or a stream that is not the journal's, it is text.
func TestNewFormat(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	st := fi.Sys().(*syscall.Stat_t)
	stream := fmt.Sprintf("%d:%d", st.Dev, st.Ino)
	for _, tt := range []struct {
		name string
		env  func(string) string
		json bool
	}{
		{"terminal", env(), false},
		{"journal stream", env("JOURNAL_STREAM", stream), true},
		{"another stream inherited", env("JOURNAL_STREAM", "8:1", "INVOCATION_ID", "0123abcd"), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f.Truncate(0)
			f.Seek(0, 0)
			log, ring := New(f, Options{Getenv: tt.env})
			log.Info("lane running", "lane", "in-1")
			b, _ := os.ReadFile(f.Name())
			var obj map[string]any
			err := json.Unmarshal(b, &obj)
			if tt.json && (err != nil || obj["msg"] != "lane running" || obj["lane"] != "in-1") {
				t.Fatalf("want one JSON object, got %q (%v)", b, err)
			}
			if !tt.json && !strings.Contains(string(b), `level=INFO msg="lane running" lane=in-1`) {
				t.Fatalf("want a text line, got %q", b)
			}
			if l := ring.Lines(); len(l) != 1 || l[0].Text != `msg="lane running" lane=in-1` || l[0].Level != "INFO" {
				t.Fatalf("ring = %+v", l)
			}
		})
	}
}

// A device that fails again and again is logged Burst times a window;
// the next line after the window says how many were dropped. Other
// devices, other messages and lines without a device are untouched.
func TestLimit(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 15, 8, 0, 0, 0, time.UTC))
	var buf bytes.Buffer
	log := slog.New(NewLimit(slog.NewTextHandler(&buf, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}), clk, LimitPolicy{Burst: 3, Window: time.Minute}))
	reader := log.With("lane", "in-1", "device", "idcard")
	for i := range 10 {
		reader.Warn("device not answering", "try", i)
		log.Info("inspection committed", "lane", "in-1", "n", i)
		clk.Advance(time.Second)
	}
	log.Warn("device not answering", "lane", "in-2", "device", "idcard")
	reader.Warn("device back")
	clk.Advance(time.Minute)
	reader.Warn("device not answering", "try", 10)

	got := buf.String()
	if n := strings.Count(got, `msg="device not answering" lane=in-1 device=idcard`); n != 4 {
		t.Fatalf("in-1's reader logged %d times, want 3 in the first minute and 1 after:\n%s", n, got)
	}
	if !strings.Contains(got, "try=10 suppressed=7\n") {
		t.Fatalf("the line after the window does not say 7 were dropped:\n%s", got)
	}
	if n := strings.Count(got, "inspection committed"); n != 10 {
		t.Fatalf("%d of 10 lines without a device, want all", n)
	}
	for _, want := range []string{`msg="device not answering" lane=in-2 device=idcard`, `msg="device back" lane=in-1 device=idcard`} {
		if !strings.Contains(got, want) {
			t.Fatalf("missing %q:\n%s", want, got)
		}
	}
}

// The ring keeps the last lines, oldest first, at its level and above.
func TestRing(t *testing.T) {
	r := NewRing(3, slog.LevelInfo)
	log := slog.New(r).With("component", "kiosk")
	log.Debug("not kept")
	for i := range 5 {
		log.Info(fmt.Sprintf("line %d", i))
	}
	log.WithGroup("g").Error("bad", "k", "v")
	var texts []string
	for _, l := range r.Lines() {
		texts = append(texts, l.Level+" "+l.Text)
	}
	want := []string{"INFO msg=\"line 3\" component=kiosk", "INFO msg=\"line 4\" component=kiosk", "ERROR msg=bad component=kiosk g.k=v"}
	if strings.Join(texts, "|") != strings.Join(want, "|") {
		t.Fatalf("ring = %q, want %q", texts, want)
	}
}
