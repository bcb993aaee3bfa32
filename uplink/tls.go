package uplink

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
)

// tlsFiles is the loaded TLS material; nil for a plain-text broker.
type tlsFiles struct {
	conf *tls.Config
}

// loadTLS builds the TLS configuration for a TLS broker URL: the CA that
// verifies the broker (the system roots when none is configured) and the
// client certificate. Every file that is configured must load; an error
// names it. The broker's name is always verified.
func loadTLS(c Config) (*tlsFiles, error) {
	u, _ := url.Parse(c.Broker) // withDefaults checked it
	if !tlsSchemes[u.Scheme] {
		return nil, nil
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: u.Hostname()}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("uplink: mqtt.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("uplink: mqtt.ca_file %s: no PEM certificate in it", c.CAFile)
		}
		conf.RootCAs = pool
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("uplink: mqtt.cert_file %s / key_file %s: %w", c.CertFile, c.KeyFile, err)
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	return &tlsFiles{conf: conf}, nil
}
