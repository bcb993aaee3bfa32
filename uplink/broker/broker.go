// Package broker is the embedded MQTT broker of `hazgate sim` and the
// demos: github.com/mochi-mqtt/server on loopback, open to every client.
// It is not for production: a park runs its own broker (see
// firmware-config/mosquitto/), which is where scale and access control live.
//
// It imports nothing of ours; only cmd/hazgate (`hazgate sim`) and tests
// import it.
package broker

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
)

// Broker is a running embedded broker.
type Broker struct {
	srv  *mqtt.Server
	addr string
	once sync.Once
	err  error
}

// Options tune Start.
type Options struct {
	// Log receives the broker's own log (default: discarded; mochi would
	// otherwise write to stdout).
	Log *slog.Logger
}

// Start serves MQTT on addr (host:port; port 0 picks a free one) until
// Close or until ctx is done. addr must be a loopback address: the embedded
// broker lets anyone in.
func Start(ctx context.Context, addr string, opts ...Options) (*Broker, error) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("broker: address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("broker: address %q is not loopback: the embedded broker has no access control", addr)
	}
	srv := mqtt.New(&mqtt.Options{InlineClient: true, Logger: o.Log})
	if err := srv.AddHook(new(auth.AllowHook), nil); err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	// The listener binds in AddListener; with port 0 it reports the port
	// it was given.
	ln := listeners.NewTCP(listeners.Config{Type: listeners.TypeTCP, ID: "tcp", Address: addr})
	if err := srv.AddListener(ln); err != nil {
		return nil, fmt.Errorf("broker: listen %s: %w", addr, err)
	}
	actual := ln.Address()
	if err := srv.Serve(); err != nil {
		srv.Close()
		return nil, fmt.Errorf("broker: serve: %w", err)
	}
	b := &Broker{srv: srv, addr: actual}
	// No goroutine waits for ctx: the Close runs in one of its own once
	// ctx ends (and does nothing when Close came first).
	context.AfterFunc(ctx, func() { b.Close() })
	return b, nil
}

// Addr is the address the broker listens on (host:port).
func (b *Broker) Addr() string { return b.addr }

// URL is the broker's tcp:// URL, for the uplink's configuration.
func (b *Broker) URL() string { return "tcp://" + b.addr }

// Publish sends a message from the embedding process (the inline client).
func (b *Broker) Publish(topic string, payload []byte, retain bool, qos byte) error {
	if err := b.srv.Publish(topic, payload, retain, qos); err != nil {
		return fmt.Errorf("broker: publish %s: %w", topic, err)
	}
	return nil
}

// Close stops the broker and disconnects its clients. It may be called more
// than once.
func (b *Broker) Close() error {
	b.once.Do(func() {
		if err := b.srv.Close(); err != nil {
			b.err = fmt.Errorf("broker: close: %w", err)
		}
	})
	return b.err
}
