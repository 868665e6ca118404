package server

import (
	"net"
	"net/netip"
	"sync"
	"time"

	"hawk/internal/wire"
)

// Credential refusals cost a peer time, as sshd's failed-login delay and
// fail2ban do:
//
//   - A HELLO refused for its credentials (a wrong or missing token, a
//     client certificate that does not name the agent, an enrolled id
//     without its secret) gets its ERROR 3 only after AuthFailureDelay.
//     The session waits without reading; it counts in MaxConns and
//     MaxConnsPerAddr like any other, so the waits are bounded by them.
//   - authFailures counts such refusals per source IP address. A source
//     with MaxAuthFailures of them within AuthFailurePenalty is penalised
//     for AuthFailurePenalty: its new connections are refused right after
//     accept, before any TLS or HELLO work; nothing is read from them and
//     they are closed after AuthFailureDelay, so that a peer reconnecting
//     in a loop makes one attempt per delay. Sessions already open, from
//     that address or any other, are not touched: an agent sharing an
//     address with an attacker keeps its session, though a reconnect
//     during the penalty is refused (its spool keeps its data meanwhile).

// authFailures is the bounded per-source table of credential refusals. It
// holds two generations of at most size addresses each: when the current
// one is full it becomes the previous one and the one before is dropped,
// so an attacker with ever new addresses makes the table forget the
// oldest sources rather than grow. Safe for concurrent use.
type authFailures struct {
	max    int           // refusals within period that penalise a source; 0: never
	period time.Duration // the counting window, and the penalty's length
	size   int           // addresses per generation

	mu        sync.Mutex
	cur, prev map[netip.Addr]failures // guarded by mu; an address is in one of them at most
}

// failures is one source's record.
type failures struct {
	n     int       // refusals since since
	since time.Time // the first refusal of the current window
	until time.Time // penalised until then
}

func newAuthFailures(max int, period time.Duration, size int) *authFailures {
	return &authFailures{max: max, period: period, size: size, cur: make(map[netip.Addr]failures)}
}

// get returns addr's record, moving it to the current generation.
// Called with a.mu held.
func (a *authFailures) get(addr netip.Addr) (failures, bool) {
	if f, ok := a.cur[addr]; ok {
		return f, true
	}
	f, ok := a.prev[addr]
	if ok {
		delete(a.prev, addr)
	}
	return f, ok
}

// put stores addr's record, starting a new generation when the current
// one is full. Called with a.mu held.
func (a *authFailures) put(addr netip.Addr, f failures) {
	if _, ok := a.cur[addr]; !ok && len(a.cur) >= a.size {
		a.prev, a.cur = a.cur, make(map[netip.Addr]failures, a.size)
	}
	a.cur[addr] = f
}

// fail records a credential refusal from addr at now, and reports whether
// it put the source in the penalty box.
func (a *authFailures) fail(addr netip.Addr, now time.Time) (penalised bool) {
	if a.max <= 0 || !addr.IsValid() {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	f, _ := a.get(addr)
	if f.n == 0 || now.Sub(f.since) >= a.period {
		f.n, f.since = 0, now
	}
	f.n++
	if f.n >= a.max && !now.Before(f.until) {
		f.until, penalised = now.Add(a.period), true
	}
	a.put(addr, f)
	return penalised
}

// penalised reports whether connections from addr are closed at accept
// at now.
func (a *authFailures) penalised(addr netip.Addr, now time.Time) bool {
	if a.max <= 0 || !addr.IsValid() {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	f, ok := a.cur[addr]
	if !ok {
		f, ok = a.prev[addr]
	}
	return ok && now.Before(f.until)
}

// len returns how many addresses the table holds.
func (a *authFailures) len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.cur) + len(a.prev)
}

// refuseCredentials refuses the session's HELLO for its credentials: it
// counts and logs the refusal under reason, records it against the
// source address, and returns the ERROR 3 that run sends once the
// auth-failure delay has passed.
func (ss *session) refuseCredentials(reason, logMsg string, logArgs []any, format string, args ...any) error {
	s := ss.srv
	s.refuse(reason, logMsg, append(logArgs, "remote", ss.remote)...)
	if s.failures.fail(ss.addr, s.cfg.now()) {
		s.m.authPenalties.Inc()
		s.refusals.warn("source_penalised", "source penalised: too many refused HELLOs; its new connections are refused at accept",
			"addr", ss.addr, "failures", s.cfg.MaxAuthFailures, "for", s.cfg.AuthFailurePenalty)
	}
	ss.authFailed = true
	return protoErr(wire.CodeAuth, format, args...)
}

// holdRefusal waits AuthFailureDelay before a credential refusal is
// answered, or less if the server shuts down.
func (ss *session) holdRefusal() {
	if d := ss.srv.cfg.AuthFailureDelay; d > 0 {
		ss.srv.cfg.wait(d, ss.srv.stop)
	}
}

// waitOrStop waits d, or until stop is closed.
func waitOrStop(d time.Duration, stop <-chan struct{}) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-stop:
	}
}

// maxHeldPenalised bounds the penalised connections held open at once;
// past it they are closed at once.
const maxHeldPenalised = 1024

// penalisedAtAccept refuses c if its source is penalised, and reports
// whether it did. Nothing is read from c. It is closed after
// AuthFailureDelay (by a goroutine that only waits; at most
// maxHeldPenalised of them), so that a penalised peer reconnecting in a
// loop makes one attempt per delay rather than thousands a second; or at
// once, past the bound or without a delay.
func (s *Server) penalisedAtAccept(c net.Conn, addr netip.Addr) bool {
	if !s.failures.penalised(addr, s.cfg.now()) {
		return false
	}
	s.refuse("auth_penalty", "connection refused at accept: its source is penalised for refused HELLOs", "addr", addr)
	d := s.cfg.AuthFailureDelay
	if d <= 0 || s.heldPenalised.Add(1) > maxHeldPenalised {
		if d > 0 {
			s.heldPenalised.Add(-1)
		}
		c.Close()
		return true
	}
	s.mu.Lock()
	if s.draining.Load() {
		s.mu.Unlock()
		s.heldPenalised.Add(-1)
		c.Close()
		return true
	}
	s.sessWG.Add(1) // Shutdown waits for it
	s.mu.Unlock()
	go func() {
		defer s.sessWG.Done()
		s.cfg.wait(d, s.stop)
		c.Close()
		s.heldPenalised.Add(-1)
	}()
	return true
}
