//go:build linux && !386 && !arm && !mips && !mipsle

package agent

import (
	"io"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// preadProc is f.ReadAt(b, 0) for a procfs file, as one raw system call:
// procfs makes the content in memory, and an ordinary call would wake the
// runtime's monitor thread (see fdSleeper). The content must fit b.
func preadProc(f *os.File, b []byte) (int, error) {
	fd := f.Fd()
	defer runtime.KeepAlive(f)
	for {
		n, _, errno := unix.RawSyscall6(unix.SYS_PREAD64, fd, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), 0, 0, 0)
		switch {
		case errno == unix.EINTR:
			continue
		case errno != 0:
			return 0, &os.PathError{Op: "read", Path: f.Name(), Err: errno}
		case n == 0:
			return 0, io.EOF
		}
		return int(n), nil
	}
}
