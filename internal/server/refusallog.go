package server

import (
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// refusalLog writes the WARN lines of refused connections and HELLOs, at
// most perInterval lines per reason in each interval (a second). The
// first refusals of an interval are written; the rest are counted, and
// one line "N more refused like this in the last 1.2s" sums them up once
// the interval is over: at the next refusal of that reason, or at the
// next flush (the liveness loop calls it). A flood of bad credentials
// thus costs a few lines a second rather than one per attempt; the
// counter refused{reason} still counts every one. Safe for concurrent
// use.
type refusalLog struct {
	log         *slog.Logger
	perInterval int // lines written per reason and interval; 0 writes none
	interval    time.Duration
	now         func() time.Time

	mu      sync.Mutex
	reasons map[string]*refusalWindow // guarded by mu; keys are the code's reason strings, a fixed set
}

// refusalWindow is one reason's current interval.
type refusalWindow struct {
	start   time.Time
	logged  int // lines written since start
	dropped int // refusals not written since start
}

func newRefusalLog(log *slog.Logger, perInterval int, interval time.Duration, now func() time.Time) *refusalLog {
	return &refusalLog{log: log, perInterval: perInterval, interval: interval, now: now,
		reasons: make(map[string]*refusalWindow)}
}

// warn logs a refusal for reason, or counts it when the reason has had
// its lines in this interval.
func (l *refusalLog) warn(reason, msg string, args ...any) {
	now := l.now()
	l.mu.Lock()
	w := l.reasons[reason]
	if w == nil {
		w = &refusalWindow{start: now}
		l.reasons[reason] = w
	}
	dropped, span := l.rotate(w, now)
	write := w.logged < l.perInterval
	if write {
		w.logged++
	} else {
		w.dropped++
	}
	l.mu.Unlock()
	if dropped > 0 {
		l.summarise(reason, dropped, span)
	}
	if write {
		l.log.Warn(msg, append(args, "reason", reason)...)
	}
}

// rotate starts a new interval for w if its own is over, and returns how
// many refusals the old one did not write and how long ago it began.
// Called with l.mu held.
func (l *refusalLog) rotate(w *refusalWindow, now time.Time) (dropped int, span time.Duration) {
	if now.Sub(w.start) < l.interval {
		return 0, 0
	}
	dropped, span = w.dropped, now.Sub(w.start)
	*w = refusalWindow{start: now}
	return dropped, span
}

// flush writes the summary line of every reason whose interval is over
// and had refusals not written.
func (l *refusalLog) flush() {
	type summary struct {
		reason  string
		dropped int
		span    time.Duration
	}
	var out []summary
	now := l.now()
	l.mu.Lock()
	for reason, w := range l.reasons {
		if w.dropped == 0 {
			continue
		}
		if dropped, span := l.rotate(w, now); dropped > 0 {
			out = append(out, summary{reason, dropped, span})
		}
	}
	l.mu.Unlock()
	for _, s := range out {
		l.summarise(s.reason, s.dropped, s.span)
	}
}

func (l *refusalLog) summarise(reason string, dropped int, span time.Duration) {
	l.log.Warn(fmt.Sprintf("%d more refused like this in the last %v", dropped, span.Round(time.Millisecond)),
		"reason", reason, "suppressed", dropped)
}

// refuse counts a refused connection or HELLO under reason and logs it
// at WARN through the rate-limited refusal log: the one way the server
// reports a refusal.
func (s *Server) refuse(reason, msg string, args ...any) {
	s.m.connsRefused.WithLabelValues(reason).Inc()
	s.refusals.warn(reason, msg, args...)
}
