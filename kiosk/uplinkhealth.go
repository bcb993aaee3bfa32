package kiosk

import "github.com/hazgate/hazgate/uplink"

// UplinkBroker reports the uplink's MQTT connection on the health page.
func UplinkBroker(u *uplink.Uplink) BrokerHealth {
	return BrokerFunc(func() BrokerStatus {
		c := u.Connection()
		return BrokerStatus{URL: c.URL, Connected: c.Connected, Since: c.Since, LastError: c.LastError}
	})
}

// DevicesOf reports devices from the gate's device health list (the lanes'
// SetDevice records).
func DevicesOf(list func() []uplink.DeviceHealth) DeviceHealth {
	return DevicesFunc(func() []DeviceStatus {
		var out []DeviceStatus
		for _, d := range list() {
			out = append(out, DeviceStatus{Name: d.Name, Kind: d.Kind, Lane: d.Lane, OK: d.OK, State: d.State, Detail: d.Detail, Since: d.Since})
		}
		return out
	})
}
