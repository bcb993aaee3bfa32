package uplink

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/hazgate/hazgate/clock"
)

// A session is one connection generation: one paho client, connected once
// and never reused. paho's Disconnect may return before its goroutines are
// done, so a client is not reconnected; a new one is made. AutoReconnect is
// off and CleanSession on, so a publish token of this client that completes
// without error means a PUBACK came back on this very connection, and a
// connection that drops fails every token still waiting.
type session struct {
	u      *Uplink
	gen    uint64
	cli    mqtt.Client
	broker string // the broker of this connection (failover.go)

	lost     chan struct{} // closed when the connection is gone
	lostOnce sync.Once
	lostErr  error
	// saidOffline: the gate's own retained availability read "offline"
	// while this connection is up (availability.go).
	saidOffline chan struct{}
}

// connectLoop makes one session after another until ctx is done, backing
// off (jittered, doubling up to MaxBackoff) while connections keep
// dropping.
func (u *Uplink) connectLoop(ctx context.Context) {
	var backoff time.Duration
	for ctx.Err() == nil {
		u.mu.Lock()
		u.gen++
		gen := u.gen
		u.mu.Unlock()
		s := &session{u: u, gen: gen, lost: make(chan struct{}), broker: u.broker(), saidOffline: make(chan struct{}, 1)}
		up := s.run(ctx)
		if ctx.Err() != nil {
			return
		}
		u.failover()
		switch {
		case up > time.Minute:
			backoff = 0
		case backoff == 0:
			backoff = 100 * time.Millisecond
		default:
			backoff = min(2*backoff, u.cfg.MaxBackoff)
		}
		// The real clock: the broker and the network keep real time.
		if !clock.Sleep(ctx, clock.Real{}, jitter(backoff)) {
			return
		}
	}
}

// run connects, announces the gate, subscribes and drains until the
// connection drops or ctx is done. It returns how long it was connected.
func (s *session) run(ctx context.Context) time.Duration {
	u := s.u
	s.cli = mqtt.NewClient(s.options())
	tok := s.cli.Connect()
	select {
	case <-tok.Done():
	case <-ctx.Done():
		s.cli.Disconnect(0)
		return 0
	}
	if err := tok.Error(); err != nil {
		u.log.Warn("mqtt connect failed", "broker", s.broker, "gen", s.gen, "err", err)
		u.setConn(func(c *ConnState) { c.URL, c.LastError = s.broker, err.Error() })
		s.cli.Disconnect(0)
		return 0
	}
	since := time.Now()
	u.log.Info("mqtt connected", "broker", s.broker, "gen", s.gen)
	u.setConn(func(c *ConnState) {
		c.URL, c.Connected, c.Since, c.Generation, c.LastError, c.Subscribed = s.broker, true, u.clk.Now(), s.gen, "", false
	})
	u.mu.Lock()
	u.current = s
	u.mu.Unlock()

	// The retained "online" goes first on every connection: the last will
	// left "offline" behind when the previous one dropped.
	err := s.publishWait(ctx, "availability", true, []byte("online"))
	if err != nil && ctx.Err() == nil {
		s.drop(err)
	}
	// Stopped before "online" was acknowledged: the outbox's bounded flush
	// (drain on a done ctx) and the "offline" below, on the connection as
	// it is. Dropped: nothing more is published on it (a publish racing
	// paho's disconnect waits out the whole write timeout, longer than a
	// stop may take).
	var wg sync.WaitGroup
	switch {
	case s.isLost():
	case err == nil:
		s.subscribe(ctx, &wg)
		wg.Add(1)
		go func() { defer wg.Done(); u.statusLoop(ctx, s) }()
		wg.Add(1)
		go func() { defer wg.Done(); u.presenceLoop(ctx, s) }()
		wg.Add(1)
		go func() { defer wg.Done(); s.keepOnline(ctx) }()
		u.registry.connected()
		s.drain(ctx)
	default:
		s.drain(ctx)
	}
	wg.Wait()

	u.mu.Lock()
	u.current = nil
	u.mu.Unlock()
	if ctx.Err() != nil {
		// A clean disconnect does not fire the will: say it ourselves, a
		// second at most (the outbox's flush had its time and the whole
		// stop has 5 s); not on a connection already dropped, whose will
		// says it.
		if !s.isLost() {
			wctx, cancel := context.WithTimeout(context.Background(), offlineWait)
			if err := s.publishWait(wctx, "availability", true, []byte("offline")); err != nil {
				u.log.Warn("mqtt: offline not published", "err", err)
			}
			cancel()
		}
		s.cli.Disconnect(250)
		u.setConn(func(c *ConnState) { c.Connected, c.Subscribed, c.Since = false, false, u.clk.Now() })
		return time.Since(since)
	}
	s.cli.Disconnect(0)
	u.reconnects.Add(1)
	u.log.Warn("mqtt connection lost", "gen", s.gen, "err", s.lostErr)
	u.setConn(func(c *ConnState) {
		c.Connected, c.Subscribed, c.Since = false, false, u.clk.Now()
		if s.lostErr != nil {
			c.LastError = s.lostErr.Error()
		}
	})
	return time.Since(since)
}

func (s *session) options() *mqtt.ClientOptions {
	c := s.u.cfg
	o := mqtt.NewClientOptions().
		AddBroker(s.broker).
		SetClientID(c.ClientID).
		SetCleanSession(true).
		SetAutoReconnect(false).
		SetConnectRetry(true).
		SetConnectRetryInterval(jitter(c.ConnectRetry)).
		SetConnectTimeout(c.ConnectTimeout).
		SetKeepAlive(c.Keepalive).
		SetPingTimeout(min(c.Keepalive, 10*time.Second)).
		SetWriteTimeout(c.WriteTimeout).
		SetCustomOpenConnectionFn(dial). // reads through a buffer (conn.go)
		SetOrderMatters(true).           // handlers only queue, so they never block
		SetDefaultPublishHandler(func(_ mqtt.Client, m mqtt.Message) {
			// Not on a subscription of ours (a broker that sends more
			// than was asked): dropped, with a log line.
			s.u.inbox.put(inboxMsg{kind: inboxStray, topic: m.Topic()})
		}).
		SetWill(c.Root+"/availability", "offline", 1, true).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) { s.drop(err) }).
		SetConnectionNotificationHandler(func(_ mqtt.Client, n mqtt.ConnectionNotification) {
			if f, ok := n.(mqtt.ConnectionNotificationFailed); ok && f.Reason != nil {
				// A broker that refuses us (a certificate, an ACL) must be
				// visible, not just retried in silence.
				if s.u.connLog.ok() {
					s.u.log.Warn("mqtt connection attempt failed", "broker", c.Broker, "err", f.Reason)
				}
				s.u.setConn(func(cs *ConnState) { cs.LastError = f.Reason.Error() })
			}
		})
	if c.Username != "" {
		o.SetUsername(c.Username)
		o.SetPassword(c.Password)
	}
	if s.u.tls != nil {
		o.SetTLSConfig(s.u.tls.conf.Clone())
	}
	return o
}

// drop marks the connection gone (once) and closes it, so that no later
// PUBACK of it is counted.
func (s *session) drop(err error) {
	s.lostOnce.Do(func() {
		if err == nil {
			err = errors.New("connection closed")
		}
		s.lostErr = err
		close(s.lost)
		// Not in a goroutine of ours: Disconnect returns within its
		// quiesce, here 0 ms, and paho closes the connection in its own.
		s.cli.Disconnect(0)
	})
}

func (s *session) isLost() bool {
	select {
	case <-s.lost:
		return true
	default:
		return false
	}
}

// publishWait publishes a QoS 1 message under the root and waits for its
// PUBACK, the connection's loss, ctx, or the ack timeout.
func (s *session) publishWait(ctx context.Context, suffix string, retain bool, payload []byte) error {
	tok := s.cli.Publish(s.u.topic(suffix), 1, retain, payload)
	return s.wait(ctx, tok)
}

func (s *session) wait(ctx context.Context, tok mqtt.Token) error {
	t := time.NewTimer(s.u.cfg.AckTimeout)
	defer t.Stop()
	select {
	case <-tok.Done():
		return tok.Error()
	case <-s.lost:
		return s.lostErr
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return errors.New("uplink: no acknowledgement within the ack timeout")
	}
}

// subscribe asks for the gate's commands and the registry, and waits for the
// broker's answer in a goroutine added to wg (it ends with the answer, the
// connection, ctx or the ack timeout). The handlers only queue the message
// for the inbox goroutine: they never block.
func (s *session) subscribe(ctx context.Context, wg *sync.WaitGroup) {
	u := s.u
	handler := func(kind inboxKind) mqtt.MessageHandler {
		return func(_ mqtt.Client, m mqtt.Message) {
			u.inbox.put(inboxMsg{kind: kind, topic: m.Topic(), payload: m.Payload(), retained: m.Retained()})
		}
	}
	tok := s.cli.SubscribeMultiple(map[string]byte{u.cfg.Root + "/cmd/+": 1}, handler(inboxCommand))
	// The registry's exact topics, never a wildcard under it (inbox.go).
	regs := map[string]byte{}
	for topic := range u.registrySubscriptions() {
		regs[topic] = 1
	}
	tok2 := s.cli.SubscribeMultiple(regs, handler(inboxRegistry))
	passages, presence := u.parkTopics()
	tok3 := s.cli.SubscribeMultiple(map[string]byte{passages: 1, presence: 1}, handler(inboxPark))
	tok4 := s.cli.Subscribe(u.topic("availability"), 1, s.onAvailability)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, t := range []mqtt.Token{tok, tok2, tok3, tok4} {
			if err := s.wait(ctx, t); err != nil {
				if !s.isLost() && ctx.Err() == nil {
					u.log.Error("mqtt subscribe failed", "err", err)
					s.drop(err)
				}
				return
			}
			if st, ok := t.(*mqtt.SubscribeToken); ok {
				for topic, code := range st.Result() {
					if code > 2 {
						// The broker's ACL refused it: say so, and keep
						// delivering events.
						u.log.Error("mqtt subscription refused by the broker", "topic", topic, "code", code)
					}
				}
			}
		}
		u.mu.Lock()
		current := u.current == s
		u.mu.Unlock()
		if current && !s.isLost() {
			u.setConn(func(c *ConnState) { c.Subscribed = true })
		}
	}()
}

// jitter spreads d by ±20 %, so that gates that lost the same broker do not
// all come back at the same instant.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	return d + time.Duration((rand.Float64()*0.4-0.2)*float64(d))
}
