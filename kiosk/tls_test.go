package kiosk

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a certificate for 127.0.0.1 and its key into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hazgate kiosk test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ = x509.ParseCertificate(der)
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile, cert
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, cert := selfSigned(t, dir)

	t.Run("a key pair that does not load is an error", func(t *testing.T) {
		for _, cfg := range []Config{
			{TLSCertFile: certFile},
			{TLSKeyFile: keyFile},
			{TLSCertFile: filepath.Join(dir, "missing.pem"), TLSKeyFile: keyFile},
			{TLSCertFile: keyFile, TLSKeyFile: certFile},
		} {
			h := newHarness(t, Config{}, "in-1")
			_, err := New(cfg, Deps{Lanes: h.gate.Lanes, Store: h.st})
			if err == nil || !strings.HasPrefix(err.Error(), "kiosk: ") {
				t.Fatalf("New(%+v) = %v, want a kiosk error", cfg, err)
			}
		}
	})

	t.Run("HTTPS with Secure cookies", func(t *testing.T) {
		h := newHarness(t, Config{TLSCertFile: certFile, TLSKeyFile: keyFile}, "in-1")
		h.addOperator("op", RoleOperator, opPassword)
		if !h.srv.Secure() {
			t.Fatal("Secure() = false")
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- h.srv.Serve(ctx, ln) }()
		defer func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		}()
		pool := x509.NewCertPool()
		pool.AddCert(cert)
		jar, _ := cookiejar.New(nil)
		c := &client{t: t, base: "https://" + ln.Addr().String(), header: http.Header{}, hc: &http.Client{
			Jar: jar, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		}}
		a := c.login("op", opPassword)
		if a.status != 200 {
			t.Fatalf("login over TLS = %d %s", a.status, a.body)
		}
		if sc := a.header.Get("Set-Cookie"); !strings.Contains(sc, "; Secure") || !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Strict") {
			t.Fatalf("Set-Cookie %q", sc)
		}
		if a := c.do("GET", "/api/v1/lanes", nil); a.status != 200 {
			t.Fatalf("lanes over TLS = %d", a.status)
		}
	})
}
