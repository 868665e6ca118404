package bench

import (
	"sync"
	"time"
)

// PauseTracker finds the longest ingest pause of a run: the longest time
// during which batches were outstanding (generated and not acknowledged) at
// some agent and no ACK arrived at any agent. Safe for concurrent use.
type PauseTracker struct {
	mu          sync.Mutex
	outstanding int
	mark        time.Time     // last ACK, or when batches became outstanding
	longest     time.Duration // longest closed pause
	longestEnd  time.Time     // when it ended
}

// Outstanding records n batches becoming outstanding at now.
func (p *PauseTracker) Outstanding(now time.Time, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.outstanding == 0 {
		p.mark = now
	}
	p.outstanding += n
}

// Acked records an acknowledgement of n batches at now (n may be 0 for an
// ACK that retired nothing new, which does not end a pause).
func (p *PauseTracker) Acked(now time.Time, n int) {
	if n <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closeLocked(now)
	p.mark = now
	p.outstanding = max(0, p.outstanding-n)
}

// Abandon records n outstanding batches given up at now, without an ACK.
func (p *PauseTracker) Abandon(now time.Time, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.outstanding > 0 {
		p.closeLocked(now)
	}
	p.outstanding = max(0, p.outstanding-n)
	if p.outstanding > 0 {
		p.mark = now
	}
}

func (p *PauseTracker) closeLocked(now time.Time) {
	if p.outstanding > 0 {
		if d := now.Sub(p.mark); d > p.longest {
			p.longest, p.longestEnd = d, now
		}
	}
}

// Longest returns the longest pause so far, counting one still open at
// now, and when it ended (now when still open).
func (p *PauseTracker) Longest(now time.Time) (time.Duration, time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.outstanding > 0 && now.Sub(p.mark) > p.longest {
		return now.Sub(p.mark), now
	}
	return p.longest, p.longestEnd
}
