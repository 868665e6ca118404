package agent

import (
	"context"
	"time"
)

// A sleeper waits for durations, for the collect loop and the heartbeat.
// Its zero-cost form is a time.Timer; on Linux it is a timerfd (see
// sleep_linux.go).
type sleeper interface {
	// sleep waits d, or until ctx ends, and reports whether d elapsed.
	sleep(ctx context.Context, d time.Duration) bool
	close()
}

// timerSleeper sleeps on a runtime timer.
type timerSleeper struct{ t *time.Timer }

func newTimerSleeper() *timerSleeper {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &timerSleeper{t}
}

func (s *timerSleeper) sleep(ctx context.Context, d time.Duration) bool {
	s.t.Reset(d)
	select {
	case <-ctx.Done():
		s.t.Stop()
		return false
	case <-s.t.C:
		return true
	}
}

func (s *timerSleeper) close() { s.t.Stop() }
