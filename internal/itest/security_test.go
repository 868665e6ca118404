//go:build e2e

package itest

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"hawk/internal/server/testpki"
)

// runAgentLog runs hawk-agent with args and returns a function that reads
// what it has logged so far. The process is stopped with the test.
func runAgentLog(t *testing.T, args ...string) func() string {
	t.Helper()
	dir := t.TempDir()
	logPath := filepath.Join(dir, "agent.log")
	runAgent(t, logPath, append([]string{"-interval", "1s", "-spool", filepath.Join(dir, "spool"), "-hostname", "itest-sec"}, args...)...)
	return func() string { b, _ := os.ReadFile(logPath); return string(b) }
}

// waitLog polls a log until it holds every string in want.
func waitLog(t *testing.T, who string, read func() string, want ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s := read()
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(s, w)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s log lacks %q:\n%s", who, want, s)
		}
		time.Sleep(100 * time.Millisecond) // a log line is the only sign
	}
}

// TestSecurityRefusals runs the binaries: hawk-server with TLS only and a
// token; hawk-agents with a wrong token, an untrusted CA and no TLS are
// refused with a clear message on both sides, and a correct one delivers.
func TestSecurityRefusals(t *testing.T) {
	ca, rogue := testpki.NewCA(t, "hawk itest CA"), testpki.NewCA(t, "rogue CA")
	dir := t.TempDir()
	caFile, cert, key := ca.WriteFiles(t, dir, "server", "hawk-server", "127.0.0.1")
	rogueCA, _, _ := rogue.WriteFiles(t, t.TempDir(), "x", "x")
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(token, []byte("itest-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startServer(t, t.TempDir(), "127.0.0.1:0", "-tls-cert-file", cert, "-tls-key-file", key,
		"-tls-plaintext", "none", "-auth-token-file", token)
	serverLog := func() string { b, _ := os.ReadFile(p.log.Name()); return string(b) }

	t.Run("wrong_token", func(t *testing.T) {
		alog := runAgentLog(t, "-server", p.agent, "-tls-ca-file", caFile, "-token", "guess")
		waitLog(t, "agent", alog, "server refused this agent", "token refused")
		waitLog(t, "server", serverLog, "agent refused: bad credentials")
	})
	t.Run("wrong_ca", func(t *testing.T) {
		alog := runAgentLog(t, "-server", p.agent, "-tls-ca-file", rogueCA, "-token", "itest-token")
		waitLog(t, "agent", alog, "certificate is not trusted", "unknown authority")
		waitLog(t, "server", serverLog, "TLS handshake failed")
	})
	t.Run("no_tls", func(t *testing.T) {
		alog := runAgentLog(t, "-server", p.agent, "-token", "itest-token")
		waitLog(t, "agent", alog, "server refused this agent", "requires TLS")
		waitLog(t, "server", serverLog, "plaintext v2 connection refused: TLS required")
	})
	t.Run("right", func(t *testing.T) {
		alog := runAgentLog(t, "-server", p.agent, "-tls-ca-file", caFile, "-token", "itest-token")
		waitLog(t, "agent", alog, "connected")
		deadline := time.Now().Add(30 * time.Second)
		for len(p.query(t, `node_memory_MemTotal_bytes{instance="itest-sec"}`, time.Now())) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("no data from the agent over TLS")
			}
			time.Sleep(200 * time.Millisecond) // the query API is the only sign
		}
	})
}

// TestUpgradeWithTLS: TLS wraps each connection after the listener is
// inherited, so a SIGHUP upgrade of a TLS-only server with a token goes on
// serving a TLS agent, and the new process reads the certificate again.
func TestUpgradeWithTLS(t *testing.T) {
	ca := testpki.NewCA(t, "hawk itest CA")
	dir := t.TempDir()
	caFile, cert, key := ca.WriteFiles(t, dir, "server", "hawk-server", "127.0.0.1")
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(token, []byte("itest-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(dir, "hawk.pid")
	srv := startServer(t, filepath.Join(dir, "data"), "127.0.0.1:0", "-pid-file", pidFile, "-heartbeat-interval", "1s",
		"-tls-cert-file", cert, "-tls-key-file", key, "-tls-plaintext", "none", "-auth-token-file", token)
	runAgentLog(t, "-server", srv.agent, "-tls-ca-file", caFile, "-token", "itest-token", "-hostname", "itest-host")
	srv.waitSamples(t, 3, time.Hour)
	pid := readPID(t, pidFile)
	syscall.Kill(pid, syscall.SIGHUP)
	next := waitPIDChange(t, pidFile, pid)
	t.Cleanup(func() { syscall.Kill(next, syscall.SIGTERM); waitExit(t, next) }) // started by our server, ended by us
	waitExit(t, pid)
	ts := srv.waitSamples(t, 7, time.Hour)
	largest := checkContinuous(t, ts, time.Second)
	t.Logf("upgrade under TLS: %d samples, largest spacing %v", len(ts), largest)
}
