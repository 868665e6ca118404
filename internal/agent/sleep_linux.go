package agent

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"hawk/internal/rawio"
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
	f    *os.File
	rc   syscall.RawConn
	fd   int
	buf  [8]byte // expiration count
	read func(fd uintptr) bool
	n    int   // result of read
	err  error // result of read

	// The context the sleeps watch, and how to stop watching it; see watch.
	ctx  context.Context
	stop func() bool
}

// newSleeper returns a timerfd sleeper, or a runtime timer one if the
// kernel refuses a timerfd.
func newSleeper() sleeper {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return newTimerSleeper()
	}
	f := os.NewFile(uintptr(fd), "timerfd")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return newTimerSleeper()
	}
	s := &fdSleeper{f: f, rc: rc, fd: fd}
	// The read is a raw system call (package rawio): an ordinary one
	// (os.File.Read) would itself wake the monitor thread, which it is the
	// point to leave asleep. Returning false makes RawConn.Read wait in the poller.
	s.read = func(fd uintptr) bool {
		n, errno := rawio.ReadNB(fd, s.buf[:])
		if errno == unix.EAGAIN {
			return false
		}
		s.n, s.err = n, nil
		if errno != 0 {
			s.err = errno
		}
		return true
	}
	return s
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
	s.watch(ctx)
	for {
		err := s.rc.Read(s.read)
		if err == nil {
			err = s.err
		}
		switch {
		case err == nil && s.n == len(s.buf):
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

// watch makes the end of ctx end a sleep: a read deadline in the past
// ends the wait. Setting one cannot fail on a pollable file; if the file
// were not pollable, the read would fail and fall back. The loops sleep
// on the same context for their whole life, so the watch is set up once
// for it, not for every sleep: registering with a context and
// unregistering took as much CPU as the rest of the sleep.
func (s *fdSleeper) watch(ctx context.Context) {
	if ctx == s.ctx {
		return
	}
	if s.stop != nil {
		s.stop()
	}
	_ = s.f.SetReadDeadline(time.Time{})
	s.ctx = ctx
	s.stop = context.AfterFunc(ctx, func() { _ = s.f.SetReadDeadline(time.Unix(1, 0)) })
}

// rearm moves a running sleep's end to d from now; another goroutine may
// call it. A sleep that ends early for it reports that d elapsed.
func (s *fdSleeper) rearm(d time.Duration) {
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(max(d, 1)))}
	_ = unix.TimerfdSettime(s.fd, 0, &spec, nil) // a failure leaves the earlier end, which is only early
}

// fallback sleeps on a runtime timer after the timerfd failed.
func (s *fdSleeper) fallback(ctx context.Context, d time.Duration) bool {
	return newTimerSleeper().sleep(ctx, d)
}

func (s *fdSleeper) close() {
	if s.stop != nil {
		s.stop()
	}
	s.f.Close()
}
