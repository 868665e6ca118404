package daemon

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"

	"hawk/internal/store"
)

// RemoteWrite configures the remote-write sinks; every URL shares it.
type RemoteWrite struct {
	URLs               listFlag       `yaml:"urls"`
	Headers            listFlag       `yaml:"headers"` // "Name: value"
	BasicAuthUser      string         `yaml:"basic-auth-user"`
	BasicAuthPassFile  string         `yaml:"basic-auth-password-file"`
	BearerTokenFile    string         `yaml:"bearer-token-file"`
	TLSCAFile          string         `yaml:"tls-ca-file"`
	TLSCertFile        string         `yaml:"tls-cert-file"`
	TLSKeyFile         string         `yaml:"tls-key-file"`
	InsecureSkipVerify bool           `yaml:"tls-insecure-skip-verify"`
	Shards             int            `yaml:"shards"`
	MaxSamplesPerSend  int            `yaml:"max-samples-per-send"`
	MaxRetryTime       model.Duration `yaml:"max-retry-time"`
}

func (r *RemoteWrite) registerFlags(fs *flag.FlagSet) {
	fs.Var(&r.URLs, "remote-write", "remote write endpoint (repeatable): VictoriaMetrics, Mimir, Thanos Receive, Prometheus; agents are acknowledged once every sink accepted")
	fs.Var(&r.Headers, "remote-write.header", "'Name: value' header sent to every remote (repeatable), e.g. X-Scope-OrgID")
	fs.StringVar(&r.BasicAuthUser, "remote-write.basic-auth-user", r.BasicAuthUser, "basic auth user for remote write")
	fs.StringVar(&r.BasicAuthPassFile, "remote-write.basic-auth-password-file", r.BasicAuthPassFile, "file holding the basic auth password")
	fs.StringVar(&r.BearerTokenFile, "remote-write.bearer-token-file", r.BearerTokenFile, "file holding a bearer token for remote write")
	fs.StringVar(&r.TLSCAFile, "remote-write.tls-ca-file", r.TLSCAFile, "CA bundle to verify remote write servers")
	fs.StringVar(&r.TLSCertFile, "remote-write.tls-cert-file", r.TLSCertFile, "client certificate for remote write")
	fs.StringVar(&r.TLSKeyFile, "remote-write.tls-key-file", r.TLSKeyFile, "client key for remote write")
	fs.BoolVar(&r.InsecureSkipVerify, "remote-write.tls-insecure-skip-verify", r.InsecureSkipVerify, "do not verify remote write servers' certificates")
	fs.IntVar(&r.Shards, "remote-write.shards", r.Shards, "concurrent requests per remote (0: default)")
	fs.IntVar(&r.MaxSamplesPerSend, "remote-write.max-samples-per-send", r.MaxSamplesPerSend, "samples per request at most (0: default)")
	fs.Var(&r.MaxRetryTime, "remote-write.max-retry-time", "how long a commit may retry before the agent is told to resend later")
}

// openRemotes opens one sink per URL, using Series ref slots from first on.
func (r *RemoteWrite) openRemotes(first int, reg prometheus.Registerer, log *slog.Logger) ([]store.Sink, error) {
	if len(r.URLs) > store.MaxSinks-first {
		return nil, fmt.Errorf("-remote-write: at most %d endpoints", store.MaxSinks-first)
	}
	opts := store.RemoteOptions{BasicAuthUser: r.BasicAuthUser, Shards: r.Shards, MaxSamplesPerSend: r.MaxSamplesPerSend,
		MaxRetryTime: time.Duration(r.MaxRetryTime), Registerer: reg, Headers: map[string]string{}}
	var err error
	if opts.BasicAuthPassword, err = readSecret(r.BasicAuthPassFile); err != nil {
		return nil, err
	}
	if opts.BearerToken, err = readSecret(r.BearerTokenFile); err != nil {
		return nil, err
	}
	for _, h := range r.Headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok {
			return nil, fmt.Errorf("-remote-write.header %q: want 'Name: value'", h)
		}
		opts.Headers[strings.TrimSpace(name)] = strings.TrimSpace(value)
	}
	if opts.TLSConfig, err = r.tlsConfig(); err != nil {
		return nil, err
	}
	var sinks []store.Sink
	for i, u := range r.URLs {
		o := opts
		o.URL, o.Slot, o.Logger = u, first+i, log.With("component", "remote-write", "url", u)
		s, err := store.OpenRemote(o)
		if err != nil {
			closeSinks(sinks)
			return nil, err
		}
		sinks = append(sinks, s)
	}
	return sinks, nil
}

func (r *RemoteWrite) tlsConfig() (*tls.Config, error) {
	if r.TLSCAFile == "" && r.TLSCertFile == "" && !r.InsecureSkipVerify {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: r.InsecureSkipVerify} //nolint:gosec // an operator's explicit choice
	if r.TLSCAFile != "" {
		pem, err := os.ReadFile(r.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("-remote-write.tls-ca-file: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("-remote-write.tls-ca-file %s: no certificate", r.TLSCAFile)
		}
	}
	if r.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(r.TLSCertFile, r.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("-remote-write.tls-cert-file: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

func readSecret(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("secret: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

func closeSinks(sinks []store.Sink) error {
	var errs []error
	for _, s := range sinks {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// listFlag is a repeatable flag; in YAML, a list.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, "\x00") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// replace sets the list to what String returned, undoing appends.
func (l *listFlag) replace(s string) {
	*l = nil
	if s != "" {
		*l = strings.Split(s, "\x00")
	}
}
