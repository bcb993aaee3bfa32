package uplink

import (
	"bufio"
	"crypto/tls"
	"errors"
	"net"
	"net/url"
	"os"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"golang.org/x/net/proxy"
)

// dial opens the network connection to the broker, for paho
// (ClientOptions.SetCustomOpenConnectionFn): as paho's own does (the same
// schemes, dialer, TLS configuration and proxy settings from the
// environment), and then reads it through a buffer.
//
// paho reads every packet in three reads (its first byte, its length,
// its body), each a system call on a bare connection, and a PUBACK is four
// bytes: under load dozens come together, and the buffer takes them in one
// call. Three reads per PUBACK were a sixth of the drain's CPU time
// (docs/benchmarks.md, "MQTT uplink"). Writes are not buffered: paho
// writes each packet whole, and must know at once when a write fails.
func dial(uri *url.URL, o mqtt.ClientOptions) (net.Conn, error) {
	conn, err := open(uri, o)
	if err != nil {
		return nil, err
	}
	return buffered(conn), nil
}

// buffered returns conn, read through a buffer.
func buffered(conn net.Conn) net.Conn {
	return &bufferedConn{Conn: conn, r: bufio.NewReaderSize(conn, 4096)}
}

// open is paho's openConnection (netconn.go, v1.5.1) for the schemes the
// configuration accepts.
func open(uri *url.URL, o mqtt.ClientOptions) (net.Conn, error) {
	dialer := o.Dialer
	if dialer == nil {
		dialer = &net.Dialer{Timeout: o.ConnectTimeout}
	}
	switch {
	case uri.Scheme == "ws" || uri.Scheme == "wss":
		u := *uri // paho #623: the websocket library refuses a URL with user info
		u.User = nil
		var tlsc *tls.Config
		if uri.Scheme == "wss" {
			tlsc = o.TLSConfig
		}
		return mqtt.NewWebsocket(u.String(), tlsc, o.ConnectTimeout, o.HTTPHeaders, o.WebsocketOptions)
	case uri.Scheme == "tcp" || uri.Scheme == "mqtt":
		return proxy.FromEnvironmentUsing(dialer).Dial("tcp", uri.Host)
	case tlsSchemes[uri.Scheme]:
		if os.Getenv("all_proxy") == "" {
			return tls.DialWithDialer(dialer, "tcp", uri.Host, o.TLSConfig)
		}
		conn, err := proxy.FromEnvironmentUsing(dialer).Dial("tcp", uri.Host)
		if err != nil {
			return nil, err
		}
		tc := tls.Client(conn, o.TLSConfig)
		if err := tc.Handshake(); err != nil {
			conn.Close()
			return nil, err
		}
		return tc, nil
	}
	return nil, errors.New("uplink: broker scheme " + uri.Scheme + " is not supported")
}

// bufferedConn is a connection read through a buffer. paho reads it from
// one goroutine at a time (the CONNACK, then its reader).
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
