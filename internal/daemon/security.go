package daemon

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hawk/internal/agent"
	"hawk/internal/options"
	"hawk/internal/server"
)

// Security holds the TLS, authentication and limit settings of
// hawk-server (docs/security.md).
type Security struct {
	TLSCertFile     string
	TLSKeyFile      string
	TLSClientCAFile string
	TLSMinVersion   string
	TLSPlaintext    string
	TLSBindAgentID  bool

	AuthTokenFile  string
	AuthTokensFile string
	LegacyAllow    string

	MaxConnsPerAddr   int
	MaxConnRate       int
	MaxAgents         int
	MaxDictBytes      int
	HandshakeTimeout  time.Duration
	IdleTimeout       time.Duration
	FrameTimeout      time.Duration
	MaxSeriesPerAgent int
	MaxLabels         int
	MaxLabelNameLen   int
	MaxLabelValueLen  int
	MaxFutureSkew     time.Duration

	AuthFailureDelay     time.Duration
	MaxAuthFailures      int
	AuthFailurePenalty   time.Duration
	AuthFailureSources   int
	RefusalLogsPerSecond int

	HTTPTLSCertFile        string
	HTTPTLSKeyFile         string
	HTTPAuthTokenFile      string
	HTTPBasicAuthUsersFile string
}

func (s *Security) declare(o *options.Set) {
	o.String(&s.TLSCertFile, "tls-cert-file", "", "server certificate (PEM) for agent connections; enables TLS on -listen")
	o.String(&s.TLSKeyFile, "tls-key-file", "", "private key (PEM) of -tls-cert-file")
	o.String(&s.TLSClientCAFile, "tls-client-ca-file", "", "CA bundle (PEM) to verify agents' client certificates; enables mutual TLS")
	o.String(&s.TLSMinVersion, "tls-min-version", "1.3", "lowest TLS version accepted: 1.2 or 1.3")
	o.String(&s.TLSPlaintext, "tls-plaintext", "legacy", "with TLS on, what plaintext connections may speak: none, legacy (legacy JSON only) or all")
	o.Bool(&s.TLSBindAgentID, "tls-bind-agent-id", true, "with -tls-client-ca-file, require the agent id to be the client certificate's CN or one of its SANs")
	o.String(&s.AuthTokenFile, "auth-token-file", "", "file holding the token every v2 agent must send (-token on the agent)")
	o.String(&s.AuthTokensFile, "auth-tokens-file", "", "file of lines '<agent-id> <token>': per-agent tokens")
	o.String(&s.LegacyAllow, "legacy-allow", "", "comma-separated networks legacy agents may connect from, e.g. 10.0.0.0/8,127.0.0.1/32 (empty: any)")
	o.Int(&s.MaxConnsPerAddr, "max-connections-per-address", 20000, "agent connections open at most from one IP address")
	o.Int(&s.MaxConnRate, "max-connection-rate", 1000, "new agent connections accepted per second, all sources together (a second's worth at once); the others wait in the kernel's accept queue. 0: no limit")
	o.Int(&s.MaxAgents, "max-agents", 250000, "v2 agents the server tracks at most (legacy peers: -max-legacy-agents); a new agent id beyond it is refused")
	o.Int(&s.MaxDictBytes, "max-dictionary-bytes", 64<<20, "label and help bytes one agent connection's series dictionary may keep")
	o.Duration(&s.HandshakeTimeout, "handshake-timeout", 10*time.Second, "from accept to a valid HELLO (or legacy packet), TLS handshake included")
	o.Duration(&s.IdleTimeout, "idle-timeout", 0, "a connection silent this long is closed (0: missed-heartbeats x heartbeat-interval)")
	o.Duration(&s.FrameTimeout, "frame-timeout", 30*time.Second, "longest one frame may take to arrive; a peer trickling bytes is closed")
	o.Int(&s.MaxSeriesPerAgent, "max-series-per-agent", 50000, "distinct series one agent id may define per hour, across its connections")
	o.Int(&s.MaxLabels, "max-labels-per-series", 64, "labels of one series (and of HELLO) at most")
	o.Int(&s.MaxLabelNameLen, "max-label-name-length", 256, "bytes of a metric or label name at most")
	o.Int(&s.MaxLabelValueLen, "max-label-value-length", 4096, "bytes of a label value at most")
	o.Duration(&s.MaxFutureSkew, "max-future-skew", 10*time.Minute, "samples further ahead of the server clock are dropped and counted")
	o.Duration(&s.AuthFailureDelay, "auth-failure-delay", time.Second, "a HELLO refused for its credentials (token, enrolment secret, client certificate) gets its ERROR after this delay (0: at once)")
	o.Int(&s.MaxAuthFailures, "max-auth-failures-per-source", 100, "HELLOs refused for their credentials from one IP address within -auth-failure-penalty that get the address's new connections refused at accept (held -auth-failure-delay, then closed) for -auth-failure-penalty (0: no penalty)")
	o.Duration(&s.AuthFailurePenalty, "auth-failure-penalty", time.Minute, "the window of -max-auth-failures-per-source, and how long a penalised address's new connections are refused at accept")
	o.Int(&s.AuthFailureSources, "auth-failure-sources", 16384, "source addresses the refused-HELLO table tracks (twice this at most; the oldest are forgotten)")
	o.Int(&s.RefusalLogsPerSecond, "max-refusal-logs-per-second", 5, "WARN lines per second for refused connections, per reason; the rest are summed up in one line (0: only the summaries)")
	o.String(&s.HTTPTLSCertFile, "http-tls-cert-file", "", "certificate (PEM) for the HTTP side; enables HTTPS on -http")
	o.String(&s.HTTPTLSKeyFile, "http-tls-key-file", "", "private key (PEM) of -http-tls-cert-file")
	o.String(&s.HTTPAuthTokenFile, "http-auth-token-file", "", "file holding a bearer token required by the API, UI and /metrics")
	o.String(&s.HTTPBasicAuthUsersFile, "http-basic-auth-users-file", "", "file of lines 'user:<sha256 hex of password>' for HTTP basic auth")
}

// apply sets the security fields of a server.Config.
func (s *Security) apply(c *server.Config) error {
	var err error
	if c.TLS, err = s.agentTLS(); err != nil {
		return err
	}
	if c.Plaintext, err = server.ParsePlaintextPolicy(s.TLSPlaintext); err != nil {
		return fmt.Errorf("-tls-plaintext: %w", err)
	}
	c.BindClientCert = s.TLSClientCAFile != "" && s.TLSBindAgentID
	if c.Auth, err = s.auth(); err != nil {
		return err
	}
	if c.LegacyAllow, err = parsePrefixes(s.LegacyAllow); err != nil {
		return fmt.Errorf("-legacy-allow: %w", err)
	}
	c.MaxConnsPerAddr, c.MaxSeriesPerAgent, c.MaxAgents = s.MaxConnsPerAddr, s.MaxSeriesPerAgent, s.MaxAgents
	c.MaxConnRate = s.MaxConnRate
	c.MaxDictBytes = s.MaxDictBytes
	c.MaxLabels, c.MaxLabelNameLen, c.MaxLabelValueLen = s.MaxLabels, s.MaxLabelNameLen, s.MaxLabelValueLen
	c.HandshakeTimeout, c.IdleTimeout = time.Duration(s.HandshakeTimeout), time.Duration(s.IdleTimeout)
	c.FrameTimeout, c.MaxFutureSkew = time.Duration(s.FrameTimeout), time.Duration(s.MaxFutureSkew)
	c.AuthFailureDelay, c.MaxAuthFailures = s.AuthFailureDelay, s.MaxAuthFailures
	c.AuthFailurePenalty, c.AuthFailureSources = s.AuthFailurePenalty, s.AuthFailureSources
	c.RefusalLogsPerSecond = s.RefusalLogsPerSecond
	if c.RefusalLogsPerSecond == 0 {
		c.RefusalLogsPerSecond = -1 // the server's 0 is its default
	}
	return nil
}

func tlsVersion(v string) (uint16, error) {
	switch v {
	case "1.2":
		return tls.VersionTLS12, nil
	case "1.3", "":
		return tls.VersionTLS13, nil
	}
	return 0, fmt.Errorf("-tls-min-version %q: want 1.2 or 1.3", v)
}

// agentTLS returns the TLS configuration of the agent port, nil if off.
func (s *Security) agentTLS() (*tls.Config, error) {
	c, err := s.serverTLS(s.TLSCertFile, s.TLSKeyFile, "-tls-cert-file/-tls-key-file")
	if c == nil || err != nil {
		if err == nil && s.TLSClientCAFile != "" {
			err = errors.New("-tls-client-ca-file needs -tls-cert-file and -tls-key-file")
		}
		return nil, err
	}
	if s.TLSClientCAFile != "" {
		pool, err := loadPool(s.TLSClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("-tls-client-ca-file: %w", err)
		}
		c.ClientCAs, c.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return c, nil
}

// httpTLS returns the TLS configuration of the HTTP side, nil if off.
func (s *Security) httpTLS() (*tls.Config, error) {
	return s.serverTLS(s.HTTPTLSCertFile, s.HTTPTLSKeyFile, "-http-tls-cert-file/-http-tls-key-file")
}

// serverTLS is the one place a listener's TLS configuration is built: the
// certificate and key, and -tls-min-version. It returns nil, nil when
// neither file is set.
func (s *Security) serverTLS(certFile, keyFile, flags string) (*tls.Config, error) {
	if certFile == "" && keyFile == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flags, err)
	}
	minV, err := tlsVersion(s.TLSMinVersion)
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: minV}, nil
}

func loadPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificate", path)
	}
	return pool, nil
}

// auth returns the agents' Authenticator, nil when no token is configured.
func (s *Security) auth() (server.Authenticator, error) {
	if s.AuthTokenFile == "" && s.AuthTokensFile == "" {
		return nil, nil
	}
	shared, err := readSecret(s.AuthTokenFile)
	if err != nil {
		return nil, fmt.Errorf("-auth-token-file: %w", err)
	}
	if s.AuthTokenFile != "" && shared == "" {
		return nil, fmt.Errorf("-auth-token-file %s is empty", s.AuthTokenFile)
	}
	perAgent := map[string]string{}
	if s.AuthTokensFile != "" {
		err := readLines(s.AuthTokensFile, func(line string) error {
			f := strings.Fields(line)
			if len(f) != 2 {
				return errors.New("want '<agent-id> <token>'")
			}
			perAgent[f[0]] = f[1]
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("-auth-tokens-file: %w", err)
		}
	}
	return server.TokenAuth(shared, perAgent), nil
}

// readLines calls fn for each line of path that is neither empty nor a
// '#' comment.
func readLines(path string, fn func(string) error) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := fn(line); err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
	return sc.Err()
}

func parsePrefixes(s string) ([]netip.Prefix, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return nil, err
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// httpAuth guards the HTTP side with a bearer token, basic auth, or
// either; it returns next unchanged when neither is configured. Secrets
// are compared in constant time as SHA-256 digests.
type httpAuth struct {
	next    http.Handler
	token   *[32]byte           // sha256 of the bearer token
	users   map[string][32]byte // user → sha256 of the password
	refused *prometheus.CounterVec
}

func (s *Security) httpHandler(next http.Handler, reg prometheus.Registerer) (http.Handler, error) {
	if s.HTTPAuthTokenFile == "" && s.HTTPBasicAuthUsersFile == "" {
		return next, nil
	}
	h := &httpAuth{next: next, refused: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hawk_server_http_unauthorized_total", Help: "HTTP requests refused for missing or wrong credentials, by reason."},
		[]string{"reason"})}
	if err := reg.Register(h.refused); err != nil {
		return nil, err
	}
	if s.HTTPAuthTokenFile != "" {
		tok, err := readSecret(s.HTTPAuthTokenFile)
		if err != nil || tok == "" {
			return nil, fmt.Errorf("-http-auth-token-file: empty or unreadable: %v", err)
		}
		d := sha256.Sum256([]byte(tok))
		h.token = &d
	}
	if s.HTTPBasicAuthUsersFile != "" {
		h.users = map[string][32]byte{}
		err := readLines(s.HTTPBasicAuthUsersFile, func(line string) error {
			user, hexSum, ok := strings.Cut(line, ":")
			sum, err := hex.DecodeString(strings.TrimSpace(hexSum))
			if !ok || user == "" || err != nil || len(sum) != sha256.Size {
				return errors.New("want 'user:<64 hex digits of sha256(password)>'")
			}
			h.users[user] = [32]byte(sum)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("-http-basic-auth-users-file: %w", err)
		}
	}
	return h, nil
}

func (h *httpAuth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reason := h.check(r)
	if reason == "" {
		h.next.ServeHTTP(w, r)
		return
	}
	h.refused.WithLabelValues(reason).Inc()
	if h.users != nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="hawk", charset="UTF-8"`)
	} else {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hawk"`)
	}
	http.Error(w, "unauthorized: "+reason, http.StatusUnauthorized)
}

// check returns "" if r carries valid credentials, else why not.
func (h *httpAuth) check(r *http.Request) string {
	a := r.Header.Get("Authorization")
	if a == "" {
		return "missing"
	}
	// The scheme is case-insensitive (RFC 9110, section 11.1).
	if scheme, tok, ok := strings.Cut(a, " "); ok && strings.EqualFold(scheme, "Bearer") && h.token != nil {
		d := sha256.Sum256([]byte(tok))
		if subtle.ConstantTimeCompare(d[:], h.token[:]) == 1 {
			return ""
		}
		return "wrong"
	}
	if user, pass, ok := r.BasicAuth(); ok && h.users != nil {
		d := sha256.Sum256([]byte(pass))
		want, known := h.users[user]
		if !known {
			want = [32]byte{} // compare anyway, so that timing does not tell users apart
		}
		if subtle.ConstantTimeCompare(d[:], want[:]) == 1 && known {
			return ""
		}
		return "wrong"
	}
	return "wrong"
}

// demoAgent lets the -demo agent through the server's own security: it
// sends the shared token, and speaks TLS (to its own loopback port, so
// without verifying the certificate) unless plaintext v2 is allowed. It
// cannot pass mutual TLS.
func (s *Security) demoAgent(c *agent.Config) error {
	tok, err := readSecret(s.AuthTokenFile)
	if err != nil {
		return err
	}
	c.Token = tok
	if s.TLSCertFile != "" && s.TLSPlaintext != "all" {
		c.Dial = agent.TLSDial(&tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}, 10*time.Second) //nolint:gosec // the server's own port on loopback
	}
	return nil
}
