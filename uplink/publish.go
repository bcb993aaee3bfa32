package uplink

import (
	"context"
	"fmt"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// PublishAll connects to broker as clientID, publishes each payload on
// topic at QoS 1 (retained when asked), each acknowledged before the next,
// and disconnects: the platform's side of a registry update, for the
// simulator's own platform. It gives up when ctx ends or a step takes
// longer than timeout.
func PublishAll(ctx context.Context, broker, clientID, topic string, retained bool, payloads [][]byte, timeout time.Duration) error {
	cli := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(broker).SetClientID(clientID).
		SetCleanSession(true).SetAutoReconnect(false).SetConnectTimeout(timeout).SetWriteTimeout(timeout))
	wait := func(what string, tok mqtt.Token) error {
		select {
		case <-tok.Done():
			if err := tok.Error(); err != nil {
				return fmt.Errorf("%s %s: %w", what, broker, err)
			}
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(timeout):
			return fmt.Errorf("%s %s: no answer in %v", what, broker, timeout)
		}
	}
	if err := wait("connecting to", cli.Connect()); err != nil {
		return err
	}
	defer cli.Disconnect(100)
	for _, p := range payloads {
		if err := wait("publishing to "+topic+" on", cli.Publish(topic, 1, retained, p)); err != nil {
			return err
		}
	}
	return nil
}
