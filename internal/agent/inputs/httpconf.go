package inputs

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"hawk/internal/tlsfiles"
)

// HTTPConfig is a scrape target's HTTP client: the keys of a Prometheus
// scrape_config's HTTP client that a local exporter needs. Secrets in files
// are read at each scrape, so they can be rotated.
type HTTPConfig struct {
	BasicAuth       *BasicAuth      `yaml:"basic_auth"`
	Authorization   *Authorization  `yaml:"authorization"`
	BearerToken     string          `yaml:"bearer_token"`
	BearerTokenFile string          `yaml:"bearer_token_file"`
	TLS             tlsfiles.Config `yaml:"tls_config"`
	ProxyURL        string          `yaml:"proxy_url"`
	FollowRedirects *bool           `yaml:"follow_redirects"` // default true
	EnableHTTP2     *bool           `yaml:"enable_http2"`     // default true
}

// BasicAuth is basic_auth.
type BasicAuth struct {
	Username     string `yaml:"username"`
	UsernameFile string `yaml:"username_file"`
	Password     string `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
}

// Authorization is authorization: an Authorization header of a scheme
// (default Bearer).
type Authorization struct {
	Type            string `yaml:"type"`
	Credentials     string `yaml:"credentials"`
	CredentialsFile string `yaml:"credentials_file"`
}

// targetKeys are the keys a target mapping may have.
var targetKeys = map[string]bool{
	"url": true, "job": true, "interval": true, "timeout": true, "labels": true,
	"basic_auth": true, "authorization": true, "bearer_token": true, "bearer_token_file": true,
	"tls_config": true, "proxy_url": true, "follow_redirects": true, "enable_http2": true,
}

// checkKeys refuses a key of a target mapping that nothing reads: an
// oauth2 section silently ignored would scrape without credentials.
func checkKeys(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i].Value; !targetKeys[k] {
			return fmt.Errorf("scrape target: unsupported key %q", k)
		}
	}
	return nil
}

// Validate checks the combination as Prometheus does.
func (h *HTTPConfig) Validate() error {
	auths := 0
	if h.BasicAuth != nil {
		auths++
		b := h.BasicAuth
		if b.Username != "" && b.UsernameFile != "" {
			return errors.New("basic_auth: at most one of username and username_file")
		}
		if b.Password != "" && b.PasswordFile != "" {
			return errors.New("basic_auth: at most one of password and password_file")
		}
	}
	if h.Authorization != nil {
		auths++
		a := h.Authorization
		if a.Credentials != "" && a.CredentialsFile != "" {
			return errors.New("authorization: at most one of credentials and credentials_file")
		}
		if strings.EqualFold(strings.TrimSpace(a.Type), "basic") {
			return errors.New(`authorization type "Basic": use basic_auth`)
		}
	}
	if h.BearerToken != "" || h.BearerTokenFile != "" {
		auths++
		if h.BearerToken != "" && h.BearerTokenFile != "" {
			return errors.New("at most one of bearer_token and bearer_token_file")
		}
	}
	if auths > 1 {
		return errors.New("at most one of basic_auth, authorization and bearer_token(_file)")
	}
	if h.ProxyURL != "" {
		if u, err := url.Parse(h.ProxyURL); err != nil || u.Host == "" {
			return fmt.Errorf("proxy_url %q: want a URL", h.ProxyURL)
		}
	}
	return h.TLS.Validate()
}

// client builds the HTTP client; loopback: the target is on this host.
func (h *HTTPConfig) client(loopback bool) (*http.Client, error) {
	if err := h.Validate(); err != nil {
		return nil, err
	}
	tc, err := h.TLS.Client()
	if err != nil {
		return nil, err
	}
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		DialContext:         d.DialContext,
		TLSClientConfig:     tc,
		MaxIdleConns:        4,
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     5 * time.Minute,
		TLSHandshakeTimeout: 10 * time.Second,
		ForceAttemptHTTP2:   h.EnableHTTP2 == nil || *h.EnableHTTP2,
		// A loopback target's body crosses no network: asking for gzip
		// would only cost both ends CPU (decompressing was a third of a
		// scrape of node_exporter, BenchmarkScrape).
		DisableCompression: loopback,
	}
	if h.ProxyURL != "" {
		u, _ := url.Parse(h.ProxyURL)
		tr.Proxy = http.ProxyURL(u)
	}
	c := &http.Client{Transport: tr}
	if h.FollowRedirects != nil && !*h.FollowRedirects {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	if h.BasicAuth != nil || h.Authorization != nil || h.BearerToken != "" || h.BearerTokenFile != "" {
		c.Transport = &authTransport{h: h, next: tr}
	}
	return c, nil
}

// authTransport sets the Authorization header of each request, reading
// the secret files anew.
type authTransport struct {
	h    *HTTPConfig
	next *http.Transport
}

func (a *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	h := a.h
	switch {
	case h.BasicAuth != nil:
		user, err := secret(h.BasicAuth.Username, h.BasicAuth.UsernameFile)
		if err != nil {
			return nil, err
		}
		pw, err := secret(h.BasicAuth.Password, h.BasicAuth.PasswordFile)
		if err != nil {
			return nil, err
		}
		req.SetBasicAuth(user, pw)
	case h.Authorization != nil:
		cred, err := secret(h.Authorization.Credentials, h.Authorization.CredentialsFile)
		if err != nil {
			return nil, err
		}
		typ := strings.TrimSpace(h.Authorization.Type)
		if typ == "" {
			typ = "Bearer"
		}
		req.Header.Set("Authorization", typ+" "+cred)
	default:
		tok, err := secret(h.BearerToken, h.BearerTokenFile)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return a.next.RoundTrip(req)
}

func (a *authTransport) CloseIdleConnections() { a.next.CloseIdleConnections() }

// secret is v, or the content of file (spaces around trimmed) if file is
// set.
func secret(v, file string) (string, error) {
	if file == "" {
		return v, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("reading the secret: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}
