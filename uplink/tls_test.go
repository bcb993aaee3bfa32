package uplink

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// pki is a test CA and the certificates it issued, as PEM files in dir.
type pki struct {
	t    testing.TB
	dir  string
	key  *ecdsa.PrivateKey
	cert *x509.Certificate
	CA   string // the CA certificate file
}

func newPKI(t testing.TB, name string) *pki {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	p := &pki{t: t, dir: t.TempDir(), key: key, cert: cert}
	p.CA = p.write("ca.pem", "CERTIFICATE", der)
	return p
}

func (p *pki) write(name, typ string, der []byte) string {
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		p.t.Fatal(err)
	}
	return path
}

var serial int64 = 1

// issue makes a certificate for cn (a server one for 127.0.0.1 when server)
// and returns its certificate and key files.
func (p *pki) issue(cn string, server bool) (certFile, keyFile string) {
	p.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		p.t.Fatal(err)
	}
	serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.cert, &key.PublicKey, p.key)
	if err != nil {
		p.t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		p.t.Fatal(err)
	}
	base := strings.ReplaceAll(cn, "/", "_")
	return p.write(base+".pem", "CERTIFICATE", der), p.write(base+".key", "PRIVATE KEY", kder)
}

// clientTLS is a TLS configuration with cn's certificate.
func (p *pki) clientTLS(cn string) *tls.Config {
	p.t.Helper()
	cf, kf := p.issue(cn, false)
	cert, err := tls.LoadX509KeyPair(cf, kf)
	if err != nil {
		p.t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(p.cert)
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
}

// startTLSMosquitto runs Mosquitto as firmware-config/mosquitto/ sets it
// up: TLS, client certificates required, the certificate's name as the
// user, and the example ACL file itself.
func startTLSMosquitto(t testing.TB, p *pki) *mosquitto {
	t.Helper()
	cf, kf := p.issue("broker", true)
	acl, err := filepath.Abs("../firmware-config/mosquitto/hazgate.acl")
	if err != nil {
		t.Fatal(err)
	}
	m := newMosquitto(t, fmt.Sprintf(`cafile %s
certfile %s
keyfile %s
tls_version tlsv1.2
require_certificate true
use_identity_as_username true
allow_anonymous false
acl_file %s`, p.CA, cf, kf, acl))
	m.start()
	return m
}

func (m *mosquitto) tlsURL() string { return fmt.Sprintf("ssl://127.0.0.1:%d", m.port) }

// waitConn waits until the uplink's connection state satisfies cond.
func waitConn(t testing.TB, u *Uplink, what string, cond func(ConnState) bool) ConnState {
	t.Helper()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		if c := u.Connection(); cond(c) {
			return c
		}
		select {
		case <-u.connChanged:
		case <-deadline.C:
			t.Fatalf("waited %v for %s; connection %+v", wait, what, u.Connection())
		}
	}
}

// Mutual TLS: the gate verifies the broker with the configured CA and
// shows its own certificate; with a wrong CA or no certificate it never
// connects, and says why.
func TestTLSClientCertificates(t *testing.T) {
	p := newPKI(t, "park CA")
	m := startTLSMosquitto(t, p)
	platform := subscribe(t, m.tlsURL(), "platform", p.clientTLS("platform"), "hazgate/#")

	cfg := testConfig(m.tlsURL())
	cfg.CAFile = p.CA
	cfg.CertFile, cfg.KeyFile = p.issue("ningbo-chem/east-1", false)
	r := newRig(t, "", cfg)
	for i := range 5 {
		r.alarm(t, i)
	}
	got := platform.waitFor(t, "events over TLS", haveAll(5))
	checkEvents(t, got, 5)

	t.Run("wrong CA", func(t *testing.T) {
		other := newPKI(t, "another CA")
		cfg := testConfig(m.tlsURL())
		cfg.Gate = "west-1"
		cfg.CAFile = other.CA
		cfg.CertFile, cfg.KeyFile = p.issue("ningbo-chem/west-1", false)
		r := newRig(t, "", cfg)
		c := waitConn(t, r.u, "a certificate error", func(c ConnState) bool { return c.LastError != "" })
		if c.Connected || !strings.Contains(c.LastError, "certificate") {
			t.Fatalf("connection %+v", c)
		}
	})
	t.Run("no client certificate", func(t *testing.T) {
		cfg := testConfig(m.tlsURL())
		cfg.Gate = "west-1"
		cfg.CAFile = p.CA
		r := newRig(t, "", cfg)
		c := waitConn(t, r.u, "a refusal", func(c ConnState) bool { return c.LastError != "" })
		if c.Connected {
			t.Fatalf("connected without a certificate: %+v", c)
		}
	})
}

// The example ACL: a gate publishes only under its own root, reads only its
// own commands and the park's registry.
func TestACLExample(t *testing.T) {
	p := newPKI(t, "park CA")
	m := startTLSMosquitto(t, p)
	platform := subscribe(t, m.tlsURL(), "platform", p.clientTLS("platform"), "hazgate/#")
	east := subscribe(t, m.tlsURL(), "east-1", p.clientTLS("ningbo-chem/east-1"),
		"hazgate/ningbo-chem/+/cmd/#", "hazgate/ningbo-chem/registry/#")
	office := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(m.tlsURL()).SetClientID("office").SetTLSConfig(p.clientTLS("office")))
	if tok := office.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer office.Disconnect(0)
	registry := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(m.tlsURL()).SetClientID("registry").SetTLSConfig(p.clientTLS("registry")))
	if tok := registry.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer registry.Disconnect(0)
	pub := func(c mqtt.Client, topic, payload string) {
		t.Helper()
		if tok := c.Publish(topic, 1, false, payload); !tok.WaitTimeout(wait) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}
	// Mosquitto drops a denied publish silently (MQTT 3.1.1 has no way to
	// say no), so each denied message is followed by an allowed one on the
	// same connection: once that arrives, the denied one would have too.
	pub(east.cli, "hazgate/ningbo-chem/west-1/events/alarm", "forged by east-1")
	pub(east.cli, "hazgate/ningbo-chem/registry/delta", "forged registry")
	pub(east.cli, "hazgate/ningbo-chem/east-1/events/alarm", "east-1's own")
	got := platform.waitFor(t, "east-1's own event", func(ms []msg) bool { return len(on(ms, "/east-1/events/alarm")) > 0 })
	for _, g := range got {
		if strings.Contains(string(g.payload), "forged") {
			t.Fatalf("a gate wrote outside its root: %s on %s", g.payload, g.topic)
		}
	}
	// Commands: east-1 reads its own, never west-1's.
	pub(office, "hazgate/ningbo-chem/west-1/cmd/open", "for west-1")
	pub(registry, "hazgate/ningbo-chem/registry/delta", "registry news")
	pub(office, "hazgate/ningbo-chem/east-1/cmd/open", "for east-1")
	got = east.waitFor(t, "east-1's command and the registry", func(ms []msg) bool {
		return len(on(ms, "/east-1/cmd/open")) > 0 && len(on(ms, "/registry/delta")) > 0
	})
	if len(on(got, "/west-1/cmd/open")) > 0 {
		t.Fatal("east-1 read west-1's commands")
	}
	if len(on(got, "/registry/delta")) != 1 {
		t.Fatalf("east-1 did not read the registry: %v", got)
	}
}
