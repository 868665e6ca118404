package server

import (
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"hawk/internal/server/testpki"
	"hawk/internal/wire"
)

// pki is a CA with a server certificate for 127.0.0.1, and a second CA
// nobody trusts.
type pki struct {
	ca, rogue *testpki.CA
	server    tls.Certificate
}

func newPKI(t *testing.T) *pki {
	ca := testpki.NewCA(t, "hawk test CA")
	return &pki{ca: ca, rogue: testpki.NewCA(t, "rogue CA"), server: ca.Issue(t, "hawk-server", "127.0.0.1", "localhost")}
}

// serverTLS is the agent port's configuration; mtls adds client
// certificate verification against the CA.
func (p *pki) serverTLS(mtls bool) *tls.Config {
	c := &tls.Config{Certificates: []tls.Certificate{p.server}, MinVersion: tls.VersionTLS13}
	if mtls {
		c.ClientCAs, c.ClientAuth = p.ca.Pool, tls.RequireAndVerifyClientCert
	}
	return c
}

func (p *pki) clientTLS(certs ...tls.Certificate) *tls.Config {
	return &tls.Config{RootCAs: p.ca.Pool, ServerName: "127.0.0.1", Certificates: certs, MinVersion: tls.VersionTLS12}
}

// dialTLS connects and completes the client side of the handshake; in TLS
// 1.3 a server that refuses the client certificate says so on the first
// read, not here.
func dialTLS(t *testing.T, addr string, cfg *tls.Config) (*client, error) {
	t.Helper()
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	raw.SetDeadline(time.Now().Add(20 * time.Second))
	tc := tls.Client(raw, cfg)
	if err := tc.Handshake(); err != nil {
		return nil, err
	}
	return &client{t: t, c: tc, enc: wire.NewEncoder()}, nil
}

func tlsRows() []catRow {
	withTLS := func(p *pki, mtls bool, policy PlaintextPolicy) func(*Config) {
		return func(c *Config) {
			c.TLS, c.Plaintext = p.serverTLS(mtls), policy
			c.BindClientCert = mtls
		}
	}
	mt := nowMs()
	return []catRow{
		{"tls/v2_over_tls", func(t *testing.T) {
			p := newPKI(t)
			k := newCat(t, withTLS(p, false, PlaintextDefault))
			c, err := dialTLS(t, k.addr, p.clientTLS())
			if err != nil {
				t.Fatal(err)
			}
			c.hello("a")
			k.stores(c, oneSeries(1, 1, 0, mt, "m"), 1, `{__name__="m"}`, true)
		}},
		{"tls/legacy_over_tls", func(t *testing.T) {
			p := newPKI(t)
			k := newCat(t, withTLS(p, false, PlaintextNone))
			c, err := dialTLS(t, k.addr, p.clientTLS())
			if err != nil {
				t.Fatal(err)
			}
			legacyAlive(t, c.c)
		}},
		{"tls/plaintext_v2_refused", func(t *testing.T) {
			p := newPKI(t)
			k := newCat(t, withTLS(p, false, PlaintextDefault))
			c := dial(t, k.addr)
			c.send(wire.AppendHello(nil, &wire.Hello{Version: 2, AgentID: "a"}))
			if msg := c.expectError(wire.CodeAuth); !strings.Contains(msg, "requires TLS") {
				t.Fatalf("message %q", msg)
			}
			k.want("refused tls_required", k.refused("tls_required"), 1)
		}},
		{"tls/plaintext_legacy_allowed", func(t *testing.T) {
			p := newPKI(t)
			k := newCat(t, withTLS(p, false, PlaintextLegacy))
			legacyAlive(t, k.rawConn())
		}},
		{"tls/plaintext_legacy_refused_tls_only", func(t *testing.T) {
			p := newPKI(t)
			k := newCat(t, withTLS(p, false, PlaintextNone))
			c := k.rawConn()
			c.Write(legacyFrame(t, 0, wire.LegacyHeartbeatContent{Version: "1.0"}))
			expectEOF(t, c)
			k.want("refused tls_required", k.refused("tls_required"), 1)
		}},
		{"tls/plaintext_v2_policy_all", func(t *testing.T) {
			p := newPKI(t)
			k := newCat(t, withTLS(p, false, PlaintextAll))
			k.v2("a").alive()
		}},
		{"tls/handshake_garbage", func(t *testing.T) {
			p := newPKI(t)
			k := newCat(t, withTLS(p, false, PlaintextDefault))
			c := k.rawConn()
			c.Write([]byte("\x16\x03\x01\x00\x05hello, not a handshake"))
			readToEnd(c)
			k.want("refused tls_handshake", k.refused("tls_handshake"), 1)
		}},
		{"tls/handshake_stalled", func(t *testing.T) {
			p := newPKI(t)
			k := newCat(t, func(c *Config) {
				withTLS(p, false, PlaintextDefault)(c)
				c.HandshakeTimeout = 300 * time.Millisecond
			})
			c := k.rawConn()
			c.Write([]byte{0x16, 0x03}) // a handshake record that never completes
			expectEOF(t, c)
			k.want("refused tls_handshake", k.refused("tls_handshake"), 1)
		}},
		{"tls/untrusted_server_cert", func(t *testing.T) {
			p := newPKI(t)
			k := newCat(t, withTLS(p, false, PlaintextDefault))
			_, err := dialTLS(t, k.addr, &tls.Config{RootCAs: p.rogue.Pool, ServerName: "127.0.0.1"})
			if err == nil || !strings.Contains(err.Error(), "unknown authority") {
				t.Fatalf("handshake error %v, want unknown authority", err)
			}
			waitFor(t, "tls_handshake refusal", func() bool { return k.refused("tls_handshake") == 1 })
		}},
		{"tls/version_below_minimum", func(t *testing.T) {
			p := newPKI(t)
			k := newCat(t, withTLS(p, false, PlaintextDefault))
			cfg := p.clientTLS()
			cfg.MaxVersion = tls.VersionTLS12
			if _, err := dialTLS(t, k.addr, cfg); err == nil {
				t.Fatal("TLS 1.2 accepted by a 1.3-only server")
			}
			waitFor(t, "tls_handshake refusal", func() bool { return k.refused("tls_handshake") == 1 })
		}},
		{"tls/stalled_frame_inside_tls", func(t *testing.T) {
			p := newPKI(t)
			k := newCat(t, withTLS(p, false, PlaintextDefault))
			c, err := dialTLS(t, k.addr, p.clientTLS())
			if err != nil {
				t.Fatal(err)
			}
			c.hello("a")
			f := frame(t, wire.AppendHeartbeat(nil, &wire.Heartbeat{AgentTime: 1}, false))
			c.raw(f[:len(f)/2]) // then silence past the stall timeout: the read deadline fires inside TLS
			time.Sleep(400 * time.Millisecond)
			c.alive()
			if k.frames("stalled") < 1 {
				t.Fatal("stall not counted")
			}
		}},
		{"mtls/no_client_cert", func(t *testing.T) {
			p := newPKI(t)
			k := newCat(t, withTLS(p, true, PlaintextNone))
			if c, err := dialTLS(t, k.addr, p.clientTLS()); err == nil {
				c.send(wire.AppendHello(nil, &wire.Hello{Version: 2, AgentID: "a"}))
				c.expectClosed()
			}
			waitFor(t, "tls_handshake refusal", func() bool { return k.refused("tls_handshake") == 1 })
		}},
		{"mtls/client_cert_other_ca", func(t *testing.T) {
			p := newPKI(t)
			k := newCat(t, withTLS(p, true, PlaintextNone))
			if c, err := dialTLS(t, k.addr, p.clientTLS(p.rogue.Issue(t, "a"))); err == nil {
				c.send(wire.AppendHello(nil, &wire.Hello{Version: 2, AgentID: "a"}))
				c.expectClosed()
			}
			waitFor(t, "tls_handshake refusal", func() bool { return k.refused("tls_handshake") == 1 })
		}},
		{"mtls/agent_id_not_in_cert", func(t *testing.T) {
			p := newPKI(t)
			k := newCat(t, withTLS(p, true, PlaintextNone))
			c, err := dialTLS(t, k.addr, p.clientTLS(p.ca.Issue(t, "agent-1", "agent-1.example")))
			if err != nil {
				t.Fatal(err)
			}
			c.send(wire.AppendHello(nil, &wire.Hello{Version: 2, AgentID: "agent-2"}))
			if msg := c.expectError(wire.CodeAuth); !strings.Contains(msg, "client certificate") {
				t.Fatalf("message %q", msg)
			}
			k.want("refused client_cert", k.refused("client_cert"), 1)
		}},
		{"mtls/agent_id_in_san", func(t *testing.T) {
			p := newPKI(t)
			k := newCat(t, withTLS(p, true, PlaintextNone))
			c, err := dialTLS(t, k.addr, p.clientTLS(p.ca.Issue(t, "web-01", "agent-7")))
			if err != nil {
				t.Fatal(err)
			}
			c.hello("agent-7")
			c.alive()
		}},
		{"mtls/plaintext_v2_policy_all_needs_cert", func(t *testing.T) {
			p := newPKI(t)
			k := newCat(t, withTLS(p, true, PlaintextAll))
			c := dial(t, k.addr)
			c.send(wire.AppendHello(nil, &wire.Hello{Version: 2, AgentID: "a"}))
			c.expectError(wire.CodeAuth)
			k.want("refused client_cert", k.refused("client_cert"), 1)
		}},
	}
}

// waitFor polls cond: a server-side counter has no signal a client can
// wait on once its own side of a handshake has failed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func readToEnd(c net.Conn) {
	buf := make([]byte, 1024)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}

// TestShutdownOverTLS: a drain reaches a TLS session through its read
// deadline, and the session's GOAWAY goes out inside TLS.
func TestShutdownOverTLS(t *testing.T) {
	p := newPKI(t)
	_, addr, shutdown := startServing(t, Config{TLS: p.serverTLS(false)})
	c, err := dialTLS(t, addr, p.clientTLS())
	if err != nil {
		t.Fatal(err)
	}
	c.hello("tls-drain")
	c.batch(1, testBatch(2, nowMs(), 1))
	if a := c.ack(); a != 1 {
		t.Fatalf("ack %d", a)
	}
	drainExpectGoAway(t, shutdown, c)
}
