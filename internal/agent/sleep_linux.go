package agent

import (
	"context"
	"errors"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// fdSleeper sleeps on a timerfd read through the runtime's network poller.
//
// The reason is the Go runtime's monitor thread (sysmon). When a runtime
// timer is due it wakes with it and then polls every 20 µs for as long as
// the process stays busy; a collection keeps it polling for a millisecond
// or two, and in a VM every such wake-up costs a timer reprogramming and
// two context switches. Measured on the 2-core development VM, that thread
// used a third of the agent's CPU. A goroutine woken by the poller does not
// wake it: it sleeps on until its next runtime timer.
type fdSleeper struct {
	f   *os.File
	fd  int
	buf [8]byte // expiration count
}

// newSleeper returns a timerfd sleeper, or a runtime timer one if the
// kernel refuses a timerfd.
func newSleeper() sleeper {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return newTimerSleeper()
	}
	return &fdSleeper{f: os.NewFile(uintptr(fd), "timerfd"), fd: fd}
}

func (s *fdSleeper) sleep(ctx context.Context, d time.Duration) bool {
	if ctx.Err() != nil {
		return false
	}
	if d <= 0 {
		return true
	}
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	if err := unix.TimerfdSettime(s.fd, 0, &spec, nil); err != nil {
		return s.fallback(ctx, d)
	}
	// A deadline in the past ends the Read when ctx does. Setting one
	// cannot fail on a pollable file; if the file were not pollable, the
	// Read would fail and fall back.
	_ = s.f.SetReadDeadline(time.Time{})
	stop := context.AfterFunc(ctx, func() { _ = s.f.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	for {
		_, err := s.f.Read(s.buf[:])
		switch {
		case err == nil:
			return true
		case ctx.Err() != nil:
			return false
		case errors.Is(err, unix.EINTR):
			continue
		default:
			return s.fallback(ctx, d)
		}
	}
}

// fallback sleeps on a runtime timer after the timerfd failed.
func (s *fdSleeper) fallback(ctx context.Context, d time.Duration) bool {
	return newTimerSleeper().sleep(ctx, d)
}

func (s *fdSleeper) close() { s.f.Close() }
