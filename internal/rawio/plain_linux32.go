//go:build linux && (386 || arm || mips || mipsle)

package rawio

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// On 32-bit Linux every function makes the ordinary call: see the package
// documentation.
const rawSupported = false

// errnoOf returns err as an Errno.
func errnoOf(n int, err error) (int, syscall.Errno) {
	if err != nil {
		return n, err.(syscall.Errno)
	}
	return n, 0
}

// Pread is one pread(2) of fd into p at off, retried on EINTR.
func Pread(fd int, p []byte, off int64) (int, error) {
	for {
		n, err := unix.Pread(fd, p, off)
		if err != unix.EINTR {
			return max(n, 0), err
		}
	}
}

// Write is one write(2) of p to fd, retried on EINTR.
func Write(fd int, p []byte) (int, error) {
	for {
		n, err := unix.Write(fd, p)
		if err != unix.EINTR {
			return max(n, 0), err
		}
	}
}

// ReadNB is one read(2) of a non-blocking descriptor.
func ReadNB(fd uintptr, p []byte) (int, syscall.Errno) { return errnoOf(unix.Read(int(fd), p)) }

// WriteNB is one write(2) to a non-blocking descriptor.
func WriteNB(fd uintptr, p []byte) (int, syscall.Errno) { return errnoOf(unix.Write(int(fd), p)) }

// RecvNB is one recvfrom(2) with MSG_DONTWAIT and no source address.
func RecvNB(fd int, p []byte) (int, syscall.Errno) {
	n, _, err := unix.Recvfrom(fd, p, unix.MSG_DONTWAIT)
	return errnoOf(n, err)
}

// SetsockoptInt32 is setsockopt(2) of a 32-bit integer option.
func SetsockoptInt32(fd uintptr, level, opt int, v int32) syscall.Errno {
	_, errno := errnoOf(0, unix.SetsockoptInt(int(fd), level, opt, int(v)))
	return errno
}

// Open opens path (NUL-terminated) read-only and close-on-exec.
func Open(path []byte) (int, error) {
	for {
		fd, err := unix.Open(unsafe.String(&path[0], len(path)-1), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// Close closes fd.
func Close(fd int) { unix.Close(fd) }

// Getdents reads directory entries into buf.
func Getdents(fd int, buf []byte) (int, error) { return unix.Getdents(fd, buf) }

// SeekStart moves fd to offset 0.
func SeekStart(fd int) error {
	_, err := unix.Seek(fd, 0, 0)
	return err
}

// Fstat is fstat(2).
func Fstat(fd int, st *unix.Stat_t) error { return unix.Fstat(fd, st) }

// Fstatfs is fstatfs(2).
func Fstatfs(fd int, st *unix.Statfs_t) error { return unix.Fstatfs(fd, st) }

// Statfs is statfs(2).
func Statfs(path string, st *unix.Statfs_t) error { return unix.Statfs(path, st) }

// Statx is statx(2) of the basic fields.
func Statx(path string, st *unix.Statx_t) error {
	return unix.Statx(unix.AT_FDCWD, path, 0, unix.STATX_BASIC_STATS, st)
}

// Adjtimex is adjtimex(2); it returns the clock state.
func Adjtimex(tx *unix.Timex) (int, error) { return unix.Adjtimex(tx) }

// PollPri polls fd for POLLPRI without waiting; see raw_linux64.go.
func PollPri(fd int) bool {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLPRI}}
	_, err := unix.Poll(fds, 0)
	return err != nil || fds[0].Revents&(unix.POLLPRI|unix.POLLERR|unix.POLLNVAL) != 0
}
