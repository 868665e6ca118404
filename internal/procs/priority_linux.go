package procs

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// Lower locks the calling goroutine to its OS thread and moves that
// thread to Linux's SCHED_IDLE policy: the kernel runs it only on a core
// that the process's other threads, those that read agents' batches and
// commit them, leave idle, and takes the core back the moment one of
// them wakes up. Linux keeps the policy per thread, so the others keep
// theirs. (A nice value does not do as much: a woken thread does not
// always preempt a niced one, and nice 10 and 19 did not move the
// acknowledgements' tail under a query flood; docs/security.md section 9,
// "Queries at idle priority".)
//
// The goroutine must end without calling runtime.UnlockOSThread: the
// runtime then ends the thread with it, and no other goroutine ever runs
// at the lowered priority. A failure to change the policy leaves it as it
// was.
func Lower() {
	runtime.LockOSThread()
	tid := unix.Gettid()
	attr, err := unix.SchedGetAttr(tid, 0)
	if err != nil {
		return
	}
	attr.Policy = unix.SCHED_IDLE // the nice value is kept, unused
	_ = unix.SchedSetAttr(tid, attr, 0)
}

// Lowered reports whether the calling goroutine's thread runs at the
// priority Lower gives (for tests of the work given to Background).
func Lowered() bool {
	attr, err := unix.SchedGetAttr(unix.Gettid(), 0)
	return err == nil && attr.Policy == unix.SCHED_IDLE
}
