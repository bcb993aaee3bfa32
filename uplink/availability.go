package uplink

import (
	"context"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// The gate reads its own retained availability while it is connected. A
// broker cluster may publish the last will of a connection it has already
// replaced after the new connection's "online" (seen on NATS when a node
// died: the will of the session the dead node held came seconds later), and
// the platform would then see a working gate as offline until it next
// reconnected. When the gate reads "offline" about itself while connected,
// it says "online" again. Its own clean stop says "offline" after this
// connection's loops have ended, so that one is never answered.

// onAvailability is the handler of the gate's own availability topic: it
// only signals keepOnline, never blocks.
func (s *session) onAvailability(_ mqtt.Client, m mqtt.Message) {
	if string(m.Payload()) != "offline" {
		return
	}
	select {
	case s.saidOffline <- struct{}{}:
	default: // one is already waiting
	}
}

// keepOnline publishes the retained "online" again each time the gate's own
// availability reads "offline" while this connection is up, until the
// connection drops or ctx is done.
func (s *session) keepOnline(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.lost:
			return
		case <-s.saidOffline:
		}
		if ctx.Err() != nil || s.isLost() {
			return
		}
		s.u.log.Warn("mqtt: the gate's availability read offline while it is connected (a replaced connection's last will); saying online again", "broker", s.broker)
		err := s.publishWait(ctx, "availability", true, []byte("online"))
		if err != nil && ctx.Err() == nil && !s.isLost() {
			s.drop(err)
			return
		}
		// A broker that keeps delivering a stale will must not make the
		// gate publish in a tight loop.
		select {
		case <-ctx.Done():
			return
		case <-s.lost:
			return
		case <-time.After(time.Second):
		}
	}
}
