// Package rawio is the one home of hawk's raw system calls: the reads,
// writes and queries that never wait long (procfs and sysfs files,
// page-cache I/O, non-blocking sockets, a timerfd, statfs of a local file
// system), made without telling the Go scheduler.
//
// # Why
//
// An ordinary system call (syscall.Syscall, and so os.File's methods)
// tells the Go scheduler it may block: it wakes the runtime's monitor
// thread (sysmon) if that sleeps, which then polls every 20 µs for as long
// as the process stays busy, and with a single P it hands the P to another
// thread. In hawk-agent, which wakes a few times a minute and is busy for
// a millisecond, that polling was a large part of its CPU (docs/performance.md).
// A raw call does neither; if it does take time, it holds its thread and P
// until it returns, as the ordinary call would hold its goroutine. So only
// calls that cannot sleep long belong here: a caller that may touch a slow
// device (a sensor driver, a regular file on a slow disk, a network file
// system) makes the ordinary call itself.
//
// # Where
//
// Raw calls are made on 64-bit Linux only (raw_linux64.go). On 32-bit
// Linux, where pread's offset and statfs's structure take other system
// calls, the same functions make ordinary calls (plain_linux32.go); on
// other Unix systems Pread and Write are ordinary calls and the Linux-only
// functions do not exist; off Unix only ReadAt and WriteAll do.
//
// # The switch
//
// Raw calls can be turned off, so that every function here makes the
// ordinary call: for debugging (a profiler or tracer that wants to see
// the scheduler's view), or a kernel or sandbox where a raw call
// misbehaves. Set the environment variable HAWK_RAW_SYSCALLS=off before
// the process starts, or call SetRaw(false) before any I/O. The
// collectors' tests run both ways and compare the output.
package rawio
