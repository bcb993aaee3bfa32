package uplink

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// countingConn counts the reads that reach the network connection.
type countingConn struct {
	net.Conn
	reads atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	c.reads.Add(1)
	return c.Conn.Read(p)
}

// PUBACKs that arrive together are read in one system call through the
// buffer, where paho on a bare connection makes three per PUBACK; every
// packet is read whole and in order.
func TestBufferedConnReadsPUBACKsTogether(t *testing.T) {
	const n = 64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for range 2 {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			var all []byte
			for id := range n {
				ack := packets.NewControlPacket(packets.Puback).(*packets.PubackPacket)
				ack.MessageID = uint16(id + 1)
				var b strings.Builder
				ack.Write(&b)
				all = append(all, b.String()...)
			}
			c.Write(all) // one write: as a broker's acks come under load
			c.Close()
		}
	}()
	readAcks := func(wrap func(net.Conn) net.Conn) int64 {
		raw, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		cc := &countingConn{Conn: raw}
		conn := wrap(cc)
		for id := range n {
			p, err := packets.ReadPacket(conn)
			if err != nil {
				t.Fatalf("packet %d: %v", id, err)
			}
			if ack, ok := p.(*packets.PubackPacket); !ok || ack.MessageID != uint16(id+1) {
				t.Fatalf("packet %d: %v, want the PUBACK of message %d", id, p, id+1)
			}
		}
		return cc.reads.Load()
	}
	bare := readAcks(func(c net.Conn) net.Conn { return c })
	buf := readAcks(buffered)
	if bare < 3*n {
		t.Fatalf("paho made %d reads for %d PUBACKs on a bare connection, want at least %d", bare, n, 3*n)
	}
	// 256 bytes in one write may still come in two segments.
	if buf > 4 {
		t.Fatalf("%d reads for %d PUBACKs through the buffer", buf, n)
	}
}

// The uplink opens every scheme the configuration accepts: here
// websockets, through a Mosquitto websockets listener (tcp and TLS are
// what the other tests use).
func TestDialWebsockets(t *testing.T) {
	wsPort := freePort(t)
	m := newMosquitto(t, fmt.Sprintf("allow_anonymous true\nlistener %d 127.0.0.1\nprotocol websockets", wsPort))
	m.start()
	s := subscribe(t, m.url(), "platform", nil, "hazgate/#")
	r := newRig(t, "", testConfig(fmt.Sprintf("ws://127.0.0.1:%d/mqtt", wsPort)))
	for i := range 5 {
		r.alarm(t, i)
	}
	checkEvents(t, s.waitFor(t, "events over websockets", haveAll(5)), 5)
	r.waitDrained(t)

	if _, err := dial(&url.URL{Scheme: "quic", Host: "127.0.0.1:1"}, *mqtt.NewClientOptions()); err == nil || !strings.Contains(err.Error(), "quic") {
		t.Fatalf("dial of an unknown scheme: %v", err)
	}
}
