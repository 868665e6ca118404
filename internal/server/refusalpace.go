package server

import (
	"sync"
	"time"
)

// Series definitions the server refuses (past -max-series or an agent's
// limit, or breaking the data model) are paced server-wide: a peer can
// send millions of them, each costs the server its decoding, labels and
// guard lookups, and the samples of a refused series are dropped anyway.
// The refusals a batch brings take their share of MaxRefusedSeriesRate
// per second; when they pass it, the session waits before it acknowledges
// the batch and reads on, so that a peer sending as fast as it is
// acknowledged slows down, and TCP holds back the rest. Nothing changes
// for an agent whose definitions are accepted, nor in what is stored or
// counted: a paced batch is acknowledged as before, only later.

// refusalMaxWait bounds one session's wait, whatever the debt: far below
// the agent's patience, and a kicked or draining session stops waiting.
const refusalMaxWait = 5 * time.Second

// refusalPacer is a shared virtual clock (the generic cell rate
// algorithm): each refused definition moves it 1/rate ahead; a session
// waits until the clock is back to now, less one second of burst. The
// debt is capped at refusalMaxWait, so that after a flood a refusal waits
// at most that long. Safe for concurrent use.
type refusalPacer struct {
	per   time.Duration // clock time of one refusal: 1/rate
	burst time.Duration // refusals within this much clock time pass without waiting

	mu   sync.Mutex
	next time.Time // guarded by mu; when the refusals so far are paid for
}

func newRefusalPacer(rate int) *refusalPacer {
	return &refusalPacer{per: time.Second / time.Duration(max(rate, 1)), burst: time.Second}
}

// delay records n refusals at now and returns how long their session is
// to wait.
func (p *refusalPacer) delay(n int, now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if floor := now.Add(-p.burst); p.next.Before(floor) {
		p.next = floor
	}
	p.next = p.next.Add(time.Duration(n) * p.per)
	if end := now.Add(refusalMaxWait); p.next.After(end) {
		p.next = end
	}
	return max(p.next.Sub(now), 0)
}

// paceRefusals makes the session wait for n refused definitions of the
// batch just read, unless the session is asked to end meanwhile.
func (ss *session) paceRefusals(n int) {
	if n == 0 || ss.draining.Load() || ss.kicked.Load() {
		return
	}
	d := ss.srv.refusedDefs.delay(n, ss.srv.cfg.now())
	if d <= 0 {
		return
	}
	ss.srv.m.refusalWait.Add(d.Seconds())
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ss.wake:
	}
}

// wakeUp ends the session's wait, if any, or the next one. Safe from any
// goroutine.
func (ss *session) wakeUp() {
	select {
	case ss.wake <- struct{}{}:
	default:
	}
}
