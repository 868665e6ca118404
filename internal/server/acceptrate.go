package server

import (
	"time"

	"golang.org/x/time/rate"
)

// New connections are accepted at most MaxConnRate a second, server-wide
// (a token bucket holding one second's worth). Every connection costs the
// server its accept, a goroutine, a handshake and a close whether or not
// it is then refused, some 100 µs of CPU on loopback: legacy heartbeats
// from 12,000 addresses, or agents reconnecting in a loop, made 5,000 to
// 8,000 connections a second and took most of a core the sessions of
// connected agents needed. The per-address limits do not bound an
// attacker with many addresses. Past the rate, the accept loop waits and
// new connections wait in the kernel's accept queue (then their SYNs are
// dropped and retried), as a listener behind a rate-limiting proxy would;
// sessions already open are not touched. A fleet reconnecting at once,
// after an upgrade say, gets in at the rate: 10,000 agents in 10 s at
// 1,000 a second, their spools holding what they collect meanwhile.

// acceptPacer paces the accept loops of every listener of the server.
type acceptPacer struct {
	lim  *rate.Limiter // nil: no limit
	step int           // connections an accept loop takes at once: 10 ms worth
}

func newAcceptPacer(perSecond int) acceptPacer {
	if perSecond <= 0 {
		return acceptPacer{}
	}
	return acceptPacer{lim: rate.NewLimiter(rate.Limit(perSecond), perSecond), step: max(perSecond/100, 1)}
}

// take takes the tokens of step connections at now and returns how long
// the accept loop is to wait before accepting them. Taking them by tens
// of milliseconds rather than one by one spares the loop a timer and a
// wake-up per connection (at 1,000 a second those took more CPU than
// the pacing saved).
func (p acceptPacer) take(now time.Time) time.Duration {
	return p.lim.ReserveN(now, p.step).DelayFrom(now)
}

// paceAccept waits, before the next Accept of a loop whose credit says how
// many connections it may still accept at once, for the connection rate
// to allow one more; it returns early when the server stops.
func (s *Server) paceAccept(credit *int) {
	if s.accepts.lim == nil {
		return
	}
	if *credit > 0 {
		*credit--
		return
	}
	*credit = s.accepts.step - 1
	if d := s.accepts.take(s.cfg.now()); d > 0 {
		s.m.acceptWait.Add(d.Seconds())
		s.cfg.wait(d, s.stop)
	}
}
