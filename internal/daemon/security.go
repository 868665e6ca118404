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
	"flag"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"

	"hawk/internal/agent"
	"hawk/internal/server"
)

// Security holds the TLS, authentication and limit settings of
// hawk-server (docs/security.md).
type Security struct {
	TLSCertFile     string `yaml:"tls-cert-file"`
	TLSKeyFile      string `yaml:"tls-key-file"`
	TLSClientCAFile string `yaml:"tls-client-ca-file"`
	TLSMinVersion   string `yaml:"tls-min-version"`
	TLSPlaintext    string `yaml:"tls-plaintext"`
	TLSBindAgentID  bool   `yaml:"tls-bind-agent-id"`

	AuthTokenFile  string `yaml:"auth-token-file"`
	AuthTokensFile string `yaml:"auth-tokens-file"`
	LegacyAllow    string `yaml:"legacy-allow"`

	MaxConnsPerAddr   int            `yaml:"max-connections-per-address"`
	MaxAgents         int            `yaml:"max-agents"`
	MaxDictBytes      int            `yaml:"max-dictionary-bytes"`
	HandshakeTimeout  model.Duration `yaml:"handshake-timeout"`
	IdleTimeout       model.Duration `yaml:"idle-timeout"`
	FrameTimeout      model.Duration `yaml:"frame-timeout"`
	MaxSeriesPerAgent int            `yaml:"max-series-per-agent"`
	MaxLabels         int            `yaml:"max-labels-per-series"`
	MaxLabelNameLen   int            `yaml:"max-label-name-length"`
	MaxLabelValueLen  int            `yaml:"max-label-value-length"`
	MaxFutureSkew     model.Duration `yaml:"max-future-skew"`

	HTTPTLSCertFile        string `yaml:"http-tls-cert-file"`
	HTTPTLSKeyFile         string `yaml:"http-tls-key-file"`
	HTTPAuthTokenFile      string `yaml:"http-auth-token-file"`
	HTTPBasicAuthUsersFile string `yaml:"http-basic-auth-users-file"`
}

func defaultSecurity() Security {
	return Security{
		TLSMinVersion: "1.3", TLSPlaintext: "legacy", TLSBindAgentID: true,
		MaxConnsPerAddr: 20000, MaxAgents: 250000, MaxDictBytes: 64 << 20, HandshakeTimeout: model.Duration(10 * time.Second),
		FrameTimeout: model.Duration(30 * time.Second), MaxSeriesPerAgent: 50000, MaxLabels: 64,
		MaxLabelNameLen: 256, MaxLabelValueLen: 4096, MaxFutureSkew: model.Duration(10 * time.Minute),
	}
}

func (s *Security) registerFlags(fs *flag.FlagSet) {
	fs.StringVar(&s.TLSCertFile, "tls-cert-file", s.TLSCertFile, "server certificate (PEM) for agent connections; enables TLS on -listen")
	fs.StringVar(&s.TLSKeyFile, "tls-key-file", s.TLSKeyFile, "private key (PEM) of -tls-cert-file")
	fs.StringVar(&s.TLSClientCAFile, "tls-client-ca-file", s.TLSClientCAFile, "CA bundle (PEM) to verify agents' client certificates; enables mutual TLS")
	fs.StringVar(&s.TLSMinVersion, "tls-min-version", s.TLSMinVersion, "lowest TLS version accepted: 1.2 or 1.3")
	fs.StringVar(&s.TLSPlaintext, "tls-plaintext", s.TLSPlaintext, "with TLS on, what plaintext connections may speak: none, legacy (legacy JSON only) or all")
	fs.BoolVar(&s.TLSBindAgentID, "tls-bind-agent-id", s.TLSBindAgentID, "with -tls-client-ca-file, require the agent id to be the client certificate's CN or one of its SANs")
	fs.StringVar(&s.AuthTokenFile, "auth-token-file", s.AuthTokenFile, "file holding the token every v2 agent must send (-token on the agent)")
	fs.StringVar(&s.AuthTokensFile, "auth-tokens-file", s.AuthTokensFile, "file of lines '<agent-id> <token>': per-agent tokens")
	fs.StringVar(&s.LegacyAllow, "legacy-allow", s.LegacyAllow, "comma-separated networks legacy agents may connect from, e.g. 10.0.0.0/8,127.0.0.1/32 (empty: any)")
	fs.IntVar(&s.MaxConnsPerAddr, "max-connections-per-address", s.MaxConnsPerAddr, "agent connections open at most from one IP address")
	fs.IntVar(&s.MaxAgents, "max-agents", s.MaxAgents, "agents and legacy peers the server tracks at most; a new agent id beyond it is refused")
	fs.IntVar(&s.MaxDictBytes, "max-dictionary-bytes", s.MaxDictBytes, "label and help bytes one agent connection's series dictionary may keep")
	fs.Var(&s.HandshakeTimeout, "handshake-timeout", "from accept to a valid HELLO (or legacy packet), TLS handshake included")
	fs.Var(&s.IdleTimeout, "idle-timeout", "a connection silent this long is closed (0: missed-heartbeats x heartbeat-interval)")
	fs.Var(&s.FrameTimeout, "frame-timeout", "longest one frame may take to arrive; a peer trickling bytes is closed")
	fs.IntVar(&s.MaxSeriesPerAgent, "max-series-per-agent", s.MaxSeriesPerAgent, "distinct series one agent id may define per hour, across its connections")
	fs.IntVar(&s.MaxLabels, "max-labels-per-series", s.MaxLabels, "labels of one series (and of HELLO) at most")
	fs.IntVar(&s.MaxLabelNameLen, "max-label-name-length", s.MaxLabelNameLen, "bytes of a metric or label name at most")
	fs.IntVar(&s.MaxLabelValueLen, "max-label-value-length", s.MaxLabelValueLen, "bytes of a label value at most")
	fs.Var(&s.MaxFutureSkew, "max-future-skew", "samples further ahead of the server clock are dropped and counted")
	fs.StringVar(&s.HTTPTLSCertFile, "http-tls-cert-file", s.HTTPTLSCertFile, "certificate (PEM) for the HTTP side; enables HTTPS on -http")
	fs.StringVar(&s.HTTPTLSKeyFile, "http-tls-key-file", s.HTTPTLSKeyFile, "private key (PEM) of -http-tls-cert-file")
	fs.StringVar(&s.HTTPAuthTokenFile, "http-auth-token-file", s.HTTPAuthTokenFile, "file holding a bearer token required by the API, UI and /metrics")
	fs.StringVar(&s.HTTPBasicAuthUsersFile, "http-basic-auth-users-file", s.HTTPBasicAuthUsersFile, "file of lines 'user:<sha256 hex of password>' for HTTP basic auth")
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
	c.MaxDictBytes = s.MaxDictBytes
	c.MaxLabels, c.MaxLabelNameLen, c.MaxLabelValueLen = s.MaxLabels, s.MaxLabelNameLen, s.MaxLabelValueLen
	c.HandshakeTimeout, c.IdleTimeout = time.Duration(s.HandshakeTimeout), time.Duration(s.IdleTimeout)
	c.FrameTimeout, c.MaxFutureSkew = time.Duration(s.FrameTimeout), time.Duration(s.MaxFutureSkew)
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
	if s.TLSCertFile == "" && s.TLSKeyFile == "" {
		if s.TLSClientCAFile != "" {
			return nil, errors.New("-tls-client-ca-file needs -tls-cert-file and -tls-key-file")
		}
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(s.TLSCertFile, s.TLSKeyFile)
	if err != nil {
		return nil, fmt.Errorf("-tls-cert-file/-tls-key-file: %w", err)
	}
	minV, err := tlsVersion(s.TLSMinVersion)
	if err != nil {
		return nil, err
	}
	c := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: minV}
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
	if s.HTTPTLSCertFile == "" && s.HTTPTLSKeyFile == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(s.HTTPTLSCertFile, s.HTTPTLSKeyFile)
	if err != nil {
		return nil, fmt.Errorf("-http-tls-cert-file/-http-tls-key-file: %w", err)
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
	if tok, ok := strings.CutPrefix(a, "Bearer "); ok && h.token != nil {
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
