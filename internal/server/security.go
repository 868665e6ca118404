package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"hawk/internal/wire"
)

// PlaintextPolicy says what a plaintext connection may speak on a port that
// also offers TLS.
type PlaintextPolicy uint8

// Plaintext policies. The default is PlaintextLegacy: deployed legacy
// agents cannot speak TLS, v2 agents can.
const (
	PlaintextDefault PlaintextPolicy = iota // PlaintextLegacy
	PlaintextNone                           // TLS only: plaintext v2 gets ERROR(auth), plaintext legacy is closed
	PlaintextLegacy                         // legacy packets in plaintext; v2 only over TLS
	PlaintextAll                            // plaintext v2 and legacy as well as TLS (a migration aid)
)

// ParsePlaintextPolicy parses "none", "legacy" or "all".
func ParsePlaintextPolicy(s string) (PlaintextPolicy, error) {
	switch s {
	case "none":
		return PlaintextNone, nil
	case "legacy", "":
		return PlaintextLegacy, nil
	case "all":
		return PlaintextAll, nil
	}
	return 0, fmt.Errorf("plaintext policy %q: want none, legacy or all", s)
}

// recordHandshake is the first byte of a TLS connection (a handshake
// record). A frame begins with 0xFF, so the two cannot be confused.
const recordHandshake = 0x16

// sniff reads the first byte of the connection and, if it opens a TLS
// handshake, completes the handshake and serves the session over TLS from
// then on. Any other byte begins a plaintext stream. It runs in the
// session's goroutine, under the handshake deadline, so a slow or silent
// peer holds up nobody else.
func (ss *session) sniff() error {
	cfg := &ss.srv.cfg
	deadline := ss.accepted.Add(cfg.HandshakeTimeout)
	if err := ss.conn.SetDeadline(deadline); err != nil {
		return fmt.Errorf("%w: set deadline: %v", errEnd, err)
	}
	var first [1]byte
	if _, err := ss.conn.Read(first[:]); err != nil {
		if isTimeout(err) && !ss.draining.Load() {
			ss.srv.m.errors.WithLabelValues("handshake_timeout").Inc()
		}
		return fmt.Errorf("%w: before the first byte: %v", errEnd, err)
	}
	ss.srv.m.bytesIn.Add(1)
	if first[0] != recordHandshake {
		ss.plaintext = true
		ss.small[0], ss.held = first[0], 1
		return nil
	}
	// The connection's deadline bounds the handshake. (HandshakeContext
	// would close the connection itself on expiry, before the refusal is
	// counted.)
	tc := tls.Server(&prefixConn{Conn: ss.conn, prefix: first[:]}, cfg.TLS)
	if err := tc.Handshake(); err != nil {
		if ss.draining.Load() {
			return fmt.Errorf("%w: tls handshake cut by a drain: %v", errEnd, err)
		}
		ss.srv.refuse("tls_handshake", "TLS handshake failed", "remote", ss.remote, "err", err)
		return fmt.Errorf("%w: tls handshake: %v", errEnd, err)
	}
	ss.conn.SetWriteDeadline(time.Time{}) //nolint:errcheck // flush sets its own
	st := tc.ConnectionState()
	ss.tls = &st
	ss.rw = tc
	return nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// prefixConn replays bytes already read before reading on.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// plaintextRefused returns why a plaintext connection may not speak proto,
// or "" if it may.
func (ss *session) plaintextRefused(proto protocol) string {
	cfg := &ss.srv.cfg
	if cfg.TLS == nil || !ss.plaintext {
		return ""
	}
	switch {
	case cfg.Plaintext == PlaintextAll:
		return ""
	case cfg.Plaintext == PlaintextLegacy && proto == protoLegacy:
		return ""
	}
	return "tls_required"
}

// legacyAllowed reports whether the peer's address is in LegacyAllow.
func (ss *session) legacyAllowed() bool {
	allow := ss.srv.cfg.LegacyAllow
	if allow == nil {
		return true
	}
	return ss.addr.IsValid() && slices.ContainsFunc(allow, func(p netip.Prefix) bool { return p.Contains(ss.addr) })
}

// checkClientCert enforces BindClientCert: the agent id must be named by
// the verified client certificate.
func (ss *session) checkClientCert(agentID string) error {
	if !ss.srv.cfg.BindClientCert {
		return nil
	}
	if ss.tls == nil || len(ss.tls.VerifiedChains) == 0 {
		return errors.New("a verified client certificate is required")
	}
	c := ss.tls.PeerCertificates[0]
	names := append([]string{c.Subject.CommonName}, c.DNSNames...)
	names = append(names, c.EmailAddresses...)
	for _, u := range c.URIs {
		names = append(names, u.String())
	}
	if slices.Contains(names, agentID) {
		return nil
	}
	return fmt.Errorf("agent id %q is not named by the client certificate (CN %q)", snippet(agentID), snippet(c.Subject.CommonName))
}

// TokenAuth returns an Authenticator that accepts a HELLO carrying the
// token perAgent lists for its agent id or, for an agent id perAgent does
// not list, the shared token. An empty
// shared token and an empty perAgent accept nothing. Tokens are compared
// in constant time (as SHA-256 digests, so their lengths do not show).
func TokenAuth(shared string, perAgent map[string]string) Authenticator {
	digest := func(s string) [32]byte { return sha256.Sum256([]byte(s)) }
	var sharedSum *[32]byte
	if shared != "" {
		d := digest(shared)
		sharedSum = &d
	}
	agents := make(map[string][32]byte, len(perAgent))
	for id, tok := range perAgent {
		if tok != "" {
			agents[id] = digest(tok)
		}
	}
	return func(h *wire.Hello, _ net.Addr) error {
		if h.Token == "" {
			return errors.New("credentials required: HELLO carries no token")
		}
		got := digest(h.Token)
		ok := 0
		// An agent listed with its own token must use it: the shared token
		// would let any holder of it speak as that agent.
		if want, listed := agents[h.AgentID]; listed {
			ok = subtle.ConstantTimeCompare(got[:], want[:])
		} else if sharedSum != nil {
			ok = subtle.ConstantTimeCompare(got[:], sharedSum[:])
		}
		if ok != 1 {
			return fmt.Errorf("token refused for agent %q", snippet(h.AgentID))
		}
		return nil
	}
}

// seriesGuard bounds how many distinct series one agent id defines, across
// its connections: series defined within the current window or the one
// before it count. Safe for concurrent use.
type seriesGuard struct {
	mu        sync.Mutex
	cur, prev map[uint64]struct{} // label hashes; a hash is in one of them at most
	rotated   time.Time           // when cur began
}

// admit reports whether the series with label hash h may be stored, and
// records it if so.
func (g *seriesGuard) admit(h uint64, limit int, now time.Time, window time.Duration) bool {
	return g.decide(h, limit, now, window, true)
}

// wouldAdmit reports whether admit would admit h now, recording nothing.
func (g *seriesGuard) wouldAdmit(h uint64, limit int, now time.Time, window time.Duration) bool {
	return g.decide(h, limit, now, window, false)
}

// decide is admit when record is set, wouldAdmit when not: a series
// already counted passes (and, recorded, moves to the current window); a
// new one passes while fewer than limit are counted.
func (g *seriesGuard) decide(h uint64, limit int, now time.Time, window time.Duration, record bool) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.rotateLocked(now, window)
	if _, ok := g.cur[h]; ok {
		return true
	}
	if _, ok := g.prev[h]; ok {
		if record {
			delete(g.prev, h)
			g.cur[h] = struct{}{}
		}
		return true
	}
	if len(g.cur)+len(g.prev) >= limit {
		return false
	}
	if record {
		g.cur[h] = struct{}{}
	}
	return true
}

// rotateLocked begins a new window when the current one is over. g.mu
// must be held.
func (g *seriesGuard) rotateLocked(now time.Time, window time.Duration) {
	if g.cur == nil || now.Sub(g.rotated) >= 2*window {
		g.cur, g.prev, g.rotated = make(map[uint64]struct{}), nil, now
	} else if now.Sub(g.rotated) >= window {
		g.prev, g.cur, g.rotated = g.cur, make(map[uint64]struct{}, len(g.cur)), now
	}
}
