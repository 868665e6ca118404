// Package httpopt declares the options of an HTTP client (headers, basic
// auth or a bearer token, TLS) and turns them into prometheus/common's
// HTTPClientConfig. It is apart from package options so that what imports
// options alone (hawk-agent) does not link prometheus/common/config and
// what it pulls in (client_golang, oauth2, ...).
package httpopt

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"strings"

	"github.com/prometheus/common/config"

	"hawk/internal/options"
)

// Client is the group of options that configure an HTTP client (remote
// write, Alertmanager): headers, basic auth or a bearer token, and TLS.
// Config turns them into prometheus/common's HTTPClientConfig, which builds
// the client, reads secrets from their files at each request (so they can
// be rotated) and validates the combination as Prometheus does.
type Client struct {
	Headers               []string // "Name: value"
	BasicAuthUser         string
	BasicAuthPasswordFile string
	BearerTokenFile       string
	TLSCAFile             string
	TLSCertFile           string
	TLSKeyFile            string
	TLSServerName         string
	TLSInsecureSkipVerify bool
}

// Declare declares into s the options of an HTTP client named prefix
// ("remote-write" declares -remote-write.header and so on); what names the
// peer in the help text.
func Declare(s *options.Set, prefix, what string) *Client {
	h := &Client{}
	s.Strings(&h.Headers, prefix+".header", "'Name: value' header sent with every request to "+what+" (repeatable), e.g. X-Scope-OrgID")
	s.String(&h.BasicAuthUser, prefix+".basic-auth-user", "", "basic auth user for "+what)
	s.String(&h.BasicAuthPasswordFile, prefix+".basic-auth-password-file", "", "file holding the basic auth password for "+what+" (read at each request)")
	s.String(&h.BearerTokenFile, prefix+".bearer-token-file", "", "file holding a bearer token for "+what+" (read at each request)")
	s.String(&h.TLSCAFile, prefix+".tls-ca-file", "", "CA bundle (PEM) that verifies "+what+" (default the system's roots)")
	s.String(&h.TLSCertFile, prefix+".tls-cert-file", "", "client certificate (PEM) presented to "+what)
	s.String(&h.TLSKeyFile, prefix+".tls-key-file", "", "private key (PEM) of the client certificate for "+what)
	s.String(&h.TLSServerName, prefix+".tls-server-name", "", "name expected in the certificate of "+what+" (default the URL's host)")
	s.Bool(&h.TLSInsecureSkipVerify, prefix+".tls-insecure-skip-verify", false, "do not verify the certificate of "+what+" (testing only)")
	return h
}

// Config returns the client configuration, validated.
func (h *Client) Config() (config.HTTPClientConfig, error) {
	c := config.DefaultHTTPClientConfig
	c.TLSConfig = config.TLSConfig{
		CAFile: h.TLSCAFile, CertFile: h.TLSCertFile, KeyFile: h.TLSKeyFile, ServerName: h.TLSServerName,
		InsecureSkipVerify: h.TLSInsecureSkipVerify, MinVersion: config.TLSVersion(tls.VersionTLS12),
	}
	if h.BasicAuthUser != "" || h.BasicAuthPasswordFile != "" {
		c.BasicAuth = &config.BasicAuth{Username: h.BasicAuthUser, PasswordFile: h.BasicAuthPasswordFile}
	}
	if h.BearerTokenFile != "" {
		c.Authorization = &config.Authorization{Type: "Bearer", CredentialsFile: h.BearerTokenFile}
	}
	for _, hdr := range h.Headers {
		name, value, ok := strings.Cut(hdr, ":")
		name, value = http.CanonicalHeaderKey(strings.TrimSpace(name)), strings.TrimSpace(value)
		if !ok || name == "" {
			return c, fmt.Errorf("header %q: want 'Name: value'", hdr)
		}
		if name == "Authorization" {
			// A custom scheme ("Authorization: Splunk <token>"): the one
			// place prometheus/common takes it is Authorization itself.
			if c.Authorization != nil || c.BasicAuth != nil {
				return c, fmt.Errorf("header %q: Authorization is already set by basic auth or a bearer token", name)
			}
			scheme, cred, _ := strings.Cut(value, " ")
			c.Authorization = &config.Authorization{Type: scheme, Credentials: config.Secret(strings.TrimSpace(cred))}
			continue
		}
		if c.HTTPHeaders == nil {
			c.HTTPHeaders = &config.Headers{Headers: map[string]config.Header{}}
		}
		v := c.HTTPHeaders.Headers[name]
		v.Values = append(v.Values, value)
		c.HTTPHeaders.Headers[name] = v
	}
	return c, c.Validate() // reserved headers (Content-Type, ...) included
}
