// Package health is a gate device's health: what the lanes record when a
// device fails or comes back, the uplink publishes in its status and the
// kiosk shows on its health page.
package health

import "time"

// Device is one device's health.
type Device struct {
	Name   string `json:"name"`           // e.g. "in-1/idcard"
	Kind   string `json:"kind"`           // idcard, scanner, loop, barrier, camera, facematch...
	Lane   string `json:"lane,omitempty"` // "" for gate-wide devices
	OK     bool   `json:"ok"`
	State  string `json:"state"`            // a word: ok, fault, disconnected, timeout...
	Code   string `json:"code,omitempty"`   // the fault's stable reason code (device_unplugged...)
	Detail string `json:"detail,omitempty"` // what is wrong, in plain English (the driver's error goes to the log)
	// DetailZH is Detail in Chinese.
	DetailZH string    `json:"detail_zh,omitempty"`
	Since    time.Time `json:"since,omitzero"` // when State began
}

// New is a device's health since at: "ok" when fault is "", else "fault"
// with fault as its detail.
func New(name, kind, lane, fault string, at time.Time) Device {
	d := Device{Name: name, Kind: kind, Lane: lane, OK: fault == "", State: "ok", Since: at}
	if fault != "" {
		d.State, d.Detail = "fault", fault
	}
	return d
}
