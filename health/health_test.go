package health

import (
	"encoding/json"
	"testing"
	"time"
)

func TestNew(t *testing.T) {
	at := time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name  string
		fault string
		want  Device
	}{
		{"ok", "", Device{Name: "in-1/idcard", Kind: "idcard", Lane: "in-1", OK: true, State: "ok", Since: at}},
		{"fault", "unplugged", Device{Name: "in-1/idcard", Kind: "idcard", Lane: "in-1", State: "fault", Detail: "unplugged", Since: at}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := New("in-1/idcard", "idcard", "in-1", c.fault, at); got != c.want {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

// TestJSON pins the wire format: the uplink's status payload and the
// kiosk's health page both carry it.
func TestJSON(t *testing.T) {
	for _, c := range []struct {
		name string
		d    Device
		want string
	}{
		{"fault", New("in-1/idcard", "idcard", "in-1", "unplugged", time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC)),
			`{"name":"in-1/idcard","kind":"idcard","lane":"in-1","ok":false,"state":"fault","detail":"unplugged","since":"2026-03-15T09:00:00Z"}`},
		{"gate-wide, no time", Device{Name: "uplink", Kind: "mqtt", OK: true, State: "ok"},
			`{"name":"uplink","kind":"mqtt","ok":true,"state":"ok"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := json.Marshal(c.d)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != c.want {
				t.Fatalf("got  %s\nwant %s", b, c.want)
			}
		})
	}
}
