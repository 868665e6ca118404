package agent

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"hawk/internal/tlsfiles"
)

// TLSOptions configure TLS to the collector.
type TLSOptions struct {
	CAFile             string // PEM bundle verifying the server; empty: the system roots
	CertFile, KeyFile  string // client certificate for mutual TLS
	ServerName         string // name expected in the server certificate; default the host of the address dialled
	InsecureSkipVerify bool   // do not verify the server (testing only)
}

// TLSConfig builds the client configuration (package tlsfiles, as the
// scrape inputs do). It accepts TLS 1.2 and up; the server decides (1.3
// unless its -tls-min-version says otherwise). The client certificate is
// read at each handshake, so a renewed one is used without a restart; it is
// also read once here so a wrong path fails at start.
func (o TLSOptions) TLSConfig() (*tls.Config, error) {
	fc := tlsfiles.Config{CAFile: o.CAFile, CertFile: o.CertFile, KeyFile: o.KeyFile, ServerName: o.ServerName,
		InsecureSkipVerify: o.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
	c, err := fc.Client()
	if err != nil {
		return nil, fmt.Errorf("agent: tls: %w", err)
	}
	return c, nil
}

// TLSDial returns a Config.Dial that opens TCP and completes a TLS
// handshake within timeout. If cfg has no ServerName, the host of the
// address dialled is expected in the server's certificate.
func TLSDial(cfg *tls.Config, timeout time.Duration) func(ctx context.Context, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	return func(ctx context.Context, addr string) (net.Conn, error) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		c := cfg.Clone()
		if c.ServerName == "" {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, fmt.Errorf("tls: address %q: %w", addr, err)
			}
			c.ServerName = host
		}
		raw, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		raw = withRawIO(raw)
		tc := tls.Client(raw, c)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			var ve *tls.CertificateVerificationError
			if errors.As(err, &ve) {
				return nil, fmt.Errorf("tls handshake: the server's certificate is not trusted (check -tls-ca-file and -tls-server-name): %w", err)
			}
			return nil, fmt.Errorf("tls handshake: %w", err)
		}
		return tc, nil
	}
}
