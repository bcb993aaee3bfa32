package config

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/hazgate/hazgate/prompt"
)

func TestVoiceAndDisplay(t *testing.T) {
	c, err := Parse([]byte(`park: p1
gate: g1
lanes:
  - name: in-1
    direction: in
    idcard: {port: /dev/ttyUSB0}
    scanner: {port: /dev/ttyUSB1}
    arrival_loop: {pin: GPIO17}
    safety_loop: {pin: GPIO27}
    barrier: {open_pin: GPIO22, close_pin: GPIO23}
    voice: {port: /dev/ttyS3/}
    display: {allow: [10.0.5.0/24, 192.168.1.20, "::ffff:10.0.6.1"]}
prompts:
  pass: {zh: 核验通过，请缓慢通行, en: "Checks passed, drive on slowly"}
`), "hazgate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	v := c.Lanes[0].Voice
	if v == nil || v.Port != "/dev/ttyS3" || v.Baud != 9600 || v.Encoding != "gbk" || v.Timeout.D() != time.Second {
		t.Fatalf("voice %+v: want the port cleaned and the defaults", v)
	}
	got := c.Lanes[0].Display.AllowedPrefixes()
	want := []netip.Prefix{netip.MustParsePrefix("10.0.5.0/24"), netip.MustParsePrefix("192.168.1.20/32"), netip.MustParsePrefix("10.0.6.1/32")}
	if !slices.Equal(got, want) {
		t.Fatalf("allowed %v, want %v", got, want)
	}
	w := c.Words()
	if w[prompt.Pass].ZH != "核验通过，请缓慢通行" || w[prompt.SwipeDriver] != prompt.Defaults()[prompt.SwipeDriver] {
		t.Fatalf("words: the configured one over the defaults, got %v", w)
	}
}
