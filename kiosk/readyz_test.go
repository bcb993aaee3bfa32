package kiosk

import (
	"context"
	"testing"

	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/registry"
)

// /readyz is 200 while every lane can inspect and 503, naming each reason
// in zh and en, while one cannot: a device in fault, or no registry.
func TestReadyz(t *testing.T) {
	h := newHarness(t, Config{}, "in-1", "out-1")
	anon := h.client()
	ready := func(wantStatus int, wantCodes ...string) {
		t.Helper()
		a := anon.do("GET", "/readyz", nil)
		body := a.json(t)
		reasons, _ := body["reasons"].([]any)
		var codes []string
		for _, r := range reasons {
			m := r.(map[string]any)
			if m["zh"] == "" || m["en"] == "" {
				t.Fatalf("reason without words: %v", m)
			}
			codes = append(codes, m["code"].(string))
		}
		if a.status != wantStatus || len(codes) != len(wantCodes) {
			t.Fatalf("/readyz = %d %v, want %d %v", a.status, codes, wantStatus, wantCodes)
		}
		for i := range codes {
			if codes[i] != wantCodes[i] {
				t.Fatalf("/readyz reasons %v, want %v", codes, wantCodes)
			}
		}
	}
	ready(200)
	h.send("in-1", lane.DeviceFault{Device: "in-1/idcard", Fault: true, Detail: "unplugged"})
	ready(503, "device_fault")
	h.send("in-1", lane.DeviceFault{Device: "in-1/idcard", Fault: false})
	ready(200)

	empty := newHarnessWith(t, Config{}, harnessOptions{deps: func(d *Deps) { d.Registry = noRegistry{} }}, "in-1")
	if a := empty.client().do("GET", "/readyz", nil); a.status != 503 || a.json(t)["reasons"].([]any)[0].(map[string]any)["code"] != "registry_empty" {
		t.Fatalf("/readyz without a registry = %d %s", a.status, a.body)
	}
}

type noRegistry struct{}

func (noRegistry) RegistryMeta(context.Context) (registry.Meta, error) { return registry.Meta{}, nil }
