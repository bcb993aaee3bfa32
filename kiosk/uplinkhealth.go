package kiosk

import "github.com/hazgate/hazgate/uplink"

// UplinkBroker reports the uplink's MQTT connection on the health page.
func UplinkBroker(u *uplink.Uplink) BrokerHealth {
	return BrokerFunc(func() BrokerStatus {
		c := u.Connection()
		return BrokerStatus{URL: c.URL, Connected: c.Connected, Since: c.Since, LastError: c.LastError}
	})
}
