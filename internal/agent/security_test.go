package agent

import (
	"bytes"
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hawk/internal/collect"
	"hawk/internal/metrictest"
	"hawk/internal/server"
	"hawk/internal/server/testpki"
	"hawk/internal/store"
)

// logBuf collects log lines for tests to search.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) has(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Contains(l.b.String(), s)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// secServer is a collector with the security settings under test, its log
// and its metrics.
type secServer struct {
	addr string
	sink *store.Memory
	log  *logBuf
	reg  *prometheus.Registry
}

func startSecServer(t *testing.T, mod func(*server.Config)) *secServer {
	t.Helper()
	ss := &secServer{sink: store.NewMemory(), log: &logBuf{}, reg: prometheus.NewRegistry()}
	cfg := server.Config{Sink: ss.sink, HeartbeatInterval: 200 * time.Millisecond, Registry: ss.reg,
		Logger: slog.New(slog.NewTextHandler(ss.log, nil))}
	mod(&cfg)
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ss.addr = ln.Addr().String()
	ts := &testServer{t: t, srv: srv, ln: ln, sink: ss.sink, done: make(chan error, 1)}
	go func() { ts.done <- srv.Serve(ln) }()
	t.Cleanup(ts.stop)
	return ss
}

// refused returns hawk_server_connections_refused_total{reason}.
func (ss *secServer) refused(t *testing.T, reason string) float64 {
	t.Helper()
	return metrictest.Sum(t, ss.reg, "hawk_server_connections_refused_total", "reason", reason)
}

// runSecAgent runs an agent configured by mod, logging into its own
// buffer.
func runSecAgent(t *testing.T, addr string, mod func(a *Agent, c *Config)) (*Agent, *logBuf) {
	t.Helper()
	lb := &logBuf{}
	cfg := Config{
		Servers: []string{addr}, Interval: 100 * time.Millisecond, SpoolDir: t.TempDir(), Hostname: "testhost",
		Collect:    collect.Config{Enable: map[string]bool{"cpu": false, "filesystem": false, "diskstats": false}},
		BackoffMin: 10 * time.Millisecond, BackoffMax: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(lb, nil)),
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mod(a, &a.cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent: %v", err)
		}
	})
	return a, lb
}

func TestRefusedWrongToken(t *testing.T) {
	srv := startSecServer(t, func(c *server.Config) { c.Auth = server.TokenAuth("right", nil) })
	_, alog := runSecAgent(t, srv.addr, func(_ *Agent, c *Config) { c.Token = "wrong" })
	eventually(t, "the agent's error", func() bool {
		return alog.has("server refused this agent") && alog.has("token refused")
	})
	eventually(t, "the server's log and metric", func() bool {
		return srv.log.has("agent refused: bad credentials") && srv.refused(t, "auth") >= 1
	})
	t.Logf("agent: %.300s\nserver: %.300s", alog, srv.log)
	if len(srv.sink.Series()) != 0 {
		t.Fatalf("a refused agent's data was stored: %v", srv.sink.Series())
	}
}

func TestRefusedWrongCA(t *testing.T) {
	ca, rogue := testpki.NewCA(t, "hawk CA"), testpki.NewCA(t, "rogue CA")
	srv := startSecServer(t, func(c *server.Config) {
		c.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Issue(t, "collector", "127.0.0.1")}, MinVersion: tls.VersionTLS13}
	})
	_, alog := runSecAgent(t, srv.addr, func(_ *Agent, c *Config) {
		c.Dial = TLSDial(&tls.Config{RootCAs: rogue.Pool, MinVersion: tls.VersionTLS12}, 5*time.Second)
	})
	eventually(t, "the agent's error", func() bool {
		return alog.has("certificate is not trusted") && alog.has("unknown authority")
	})
	eventually(t, "the server's log and metric", func() bool {
		return srv.log.has("TLS handshake failed") && srv.refused(t, "tls_handshake") >= 1
	})
	t.Logf("agent: %.400s\nserver: %.300s", alog, srv.log)
}

func TestRefusedNoTLS(t *testing.T) {
	ca := testpki.NewCA(t, "hawk CA")
	srv := startSecServer(t, func(c *server.Config) {
		c.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Issue(t, "collector", "127.0.0.1")}, MinVersion: tls.VersionTLS13}
		c.Plaintext = server.PlaintextNone
	})
	_, alog := runSecAgent(t, srv.addr, func(*Agent, *Config) {})
	eventually(t, "the agent's error", func() bool {
		return alog.has("server refused this agent") && alog.has("requires TLS")
	})
	eventually(t, "the server's log and metric", func() bool {
		return srv.log.has("TLS required") && srv.refused(t, "tls_required") >= 1
	})
	t.Logf("agent: %.300s\nserver: %.300s", alog, srv.log)
}

// TestMutualTLSAndToken: the agent's certificate names its id, it sends
// the right token, and its data arrives.
func TestMutualTLSAndToken(t *testing.T) {
	ca := testpki.NewCA(t, "hawk CA")
	srv := startSecServer(t, func(c *server.Config) {
		c.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Issue(t, "collector", "127.0.0.1")}, MinVersion: tls.VersionTLS13,
			ClientCAs: ca.Pool, ClientAuth: tls.RequireAndVerifyClientCert}
		c.Plaintext, c.BindClientCert = server.PlaintextNone, true
		c.Auth = server.TokenAuth("t0k", nil)
	})
	_, alog := runSecAgent(t, srv.addr, func(a *Agent, c *Config) {
		c.Token = "t0k"
		c.Dial = TLSDial(&tls.Config{RootCAs: ca.Pool, Certificates: []tls.Certificate{ca.Issue(t, a.ID())},
			MinVersion: tls.VersionTLS13}, 5*time.Second)
	})
	eventually(t, "data over mutual TLS", func() bool { return len(srv.sink.Get(memTotal)) >= 3 })
	if alog.has("refused") {
		t.Fatalf("agent log: %s", alog)
	}
}
