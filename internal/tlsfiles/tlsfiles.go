// Package tlsfiles builds a TLS client configuration from PEM files: a CA
// bundle read once, a client certificate read again at each handshake (a
// renewed one is used without a restart). It is what the agent needs of
// prometheus/common's config.NewTLSConfig, with crypto/tls alone, so the
// agent does not link prometheus/common/config.
package tlsfiles

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// Config names the files and checks of a TLS client. Its YAML keys are
// those of a Prometheus tls_config.
type Config struct {
	CAFile             string  `yaml:"ca_file"`
	CertFile           string  `yaml:"cert_file"`
	KeyFile            string  `yaml:"key_file"`
	ServerName         string  `yaml:"server_name"`
	InsecureSkipVerify bool    `yaml:"insecure_skip_verify"`
	MinVersion         Version `yaml:"min_version"` // default TLS 1.2
}

// Version is a TLS version, in YAML "TLS12" or "TLS13" (TLS10 and TLS11
// too, as Prometheus takes them).
type Version uint16

var versions = map[string]Version{"TLS10": tls.VersionTLS10, "TLS11": tls.VersionTLS11, "TLS12": tls.VersionTLS12, "TLS13": tls.VersionTLS13}

func (v *Version) UnmarshalText(b []byte) error {
	x, ok := versions[string(b)]
	if !ok {
		return fmt.Errorf("unknown TLS version %q (want TLS12 or TLS13)", b)
	}
	*v = x
	return nil
}

func (v Version) MarshalText() ([]byte, error) {
	for k, x := range versions {
		if x == v {
			return []byte(k), nil
		}
	}
	return []byte(""), nil
}

// Validate checks that a client certificate comes with its key.
func (c *Config) Validate() error {
	if c.CertFile != "" && c.KeyFile == "" {
		return errors.New("a client certificate (cert_file) needs its key (key_file)")
	}
	if c.KeyFile != "" && c.CertFile == "" {
		return errors.New("a client key (key_file) needs its certificate (cert_file)")
	}
	return nil
}

// Client returns the client configuration. The CA bundle and the client
// certificate are read now, so a wrong path fails here; the certificate is
// read again at each handshake.
func (c *Config) Client() (*tls.Config, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	min := uint16(c.MinVersion)
	if min == 0 {
		min = tls.VersionTLS12
	}
	tc := &tls.Config{ServerName: c.ServerName, InsecureSkipVerify: c.InsecureSkipVerify, MinVersion: min} //nolint:gosec // an explicit option, for testing
	if c.CAFile != "" {
		b, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("unable to read CA cert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("unable to use specified CA cert %s", c.CAFile)
		}
		tc.RootCAs = pool
	}
	if c.CertFile != "" {
		if _, err := c.clientCert(); err != nil {
			return nil, err
		}
		tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return c.clientCert() }
	}
	return tc, nil
}

func (c *Config) clientCert() (*tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("unable to use specified client cert (%s) & key (%s): %w", c.CertFile, c.KeyFile, err)
	}
	return &cert, nil
}
