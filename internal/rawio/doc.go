// Package rawio makes the reads and writes that never wait long (procfs
// and sysfs files, page-cache I/O) as raw system calls.
//
// An ordinary system call (syscall.Syscall, and so os.File's methods)
// tells the Go scheduler it may block: it wakes the runtime's monitor
// thread if that sleeps, which then polls every 20 µs for as long as the
// process stays busy, and with a single P it hands the P to another
// thread. In hawk-agent, which wakes a few times a minute and is busy for
// a millisecond, that polling was a large part of its CPU. A raw call does
// neither; if it does take time, it holds its thread and P until it
// returns, as the ordinary call would hold its goroutine.
//
// Where raw calls are not worth their care (other systems, 32-bit ABIs on
// which pread's offset takes two registers), the functions make ordinary
// calls.
package rawio
