package config

import (
	"testing"
	"time"

	"github.com/hazgate/hazgate/checks"
)

func TestWaybillSection(t *testing.T) {
	c, err := Parse([]byte(minimal), "minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Waybill.URL != "" || c.Waybill.Timeout.D() != 3*time.Second || c.Waybill.MaxAge.D() != 15*time.Minute || c.Params().Appointments != "" {
		t.Fatalf("defaults: %+v, appointments %q", c.Waybill, c.Params().Appointments)
	}
	y := minimal + `
waybill:
  url: https://waybills.example/api/v1/waybill
  timeout: 2s
  max_age: 5m
  token: abc
checks:
  appointments: required
`
	c, err = Parse([]byte(y), "waybill.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Waybill.Timeout.D() != 2*time.Second || c.Waybill.MaxAge.D() != 5*time.Minute || c.Waybill.Token != "abc" {
		t.Fatalf("waybill %+v", c.Waybill)
	}
	if p := c.Params(); p.Appointments != checks.AppointmentsRequired || p.FaceThreshold != 0.80 {
		t.Fatalf("params %+v", p)
	}
}
