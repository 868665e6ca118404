//go:build linux && !386 && !arm && !mips && !mipsle

package spool

import (
	"io"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// writeAll and readAt are f.Write and f.ReadAt as raw system calls. An
// ordinary system call wakes the Go runtime's monitor thread if it sleeps,
// and it then polls every 20 µs for as long as the process stays busy: in
// the agent, one spool write per collection kept it polling through the
// encoding and sending that follow. A write or read of a few KiB through
// the page cache does not sleep; if the disk is slow the call holds the
// thread and its P until it returns, as the ordinary call would hold the
// goroutine. Sync stays an ordinary call. (64-bit only: pread's offset
// takes two registers on 32-bit ABIs.)
func writeAll(f *os.File, b []byte) error {
	fd := f.Fd()
	defer runtime.KeepAlive(f)
	for len(b) > 0 {
		n, _, errno := unix.RawSyscall(unix.SYS_WRITE, fd, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
		switch {
		case errno == unix.EINTR:
			continue
		case errno != 0:
			return &os.PathError{Op: "write", Path: f.Name(), Err: errno}
		case n == 0:
			return &os.PathError{Op: "write", Path: f.Name(), Err: io.ErrShortWrite}
		}
		b = b[n:]
	}
	return nil
}

// readAt is f.ReadAt: fewer bytes than len(b) come with an error (io.EOF
// at the end of the file).
func readAt(f *os.File, b []byte, off int64) (int, error) {
	fd := f.Fd()
	defer runtime.KeepAlive(f)
	done := 0
	for done < len(b) {
		n, _, errno := unix.RawSyscall6(unix.SYS_PREAD64, fd, uintptr(unsafe.Pointer(&b[done])), uintptr(len(b)-done),
			uintptr(off+int64(done)), 0, 0)
		switch {
		case errno == unix.EINTR:
			continue
		case errno != 0:
			return done, &os.PathError{Op: "read", Path: f.Name(), Err: errno}
		case n == 0:
			return done, io.EOF
		}
		done += int(n)
	}
	return done, nil
}
