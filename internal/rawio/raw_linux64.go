//go:build linux && !386 && !arm && !mips && !mipsle

package rawio

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

const rawSupported = true

// sys is a system call with up to three arguments, raw unless the switch
// is off.
func sys(trap, a1, a2, a3 uintptr) (uintptr, syscall.Errno) {
	if raw.Load() {
		r, _, errno := unix.RawSyscall(trap, a1, a2, a3)
		return r, errno
	}
	r, _, errno := unix.Syscall(trap, a1, a2, a3)
	return r, errno
}

// sys6 is sys with up to six arguments.
func sys6(trap, a1, a2, a3, a4, a5, a6 uintptr) (uintptr, syscall.Errno) {
	if raw.Load() {
		r, _, errno := unix.RawSyscall6(trap, a1, a2, a3, a4, a5, a6)
		return r, errno
	}
	r, _, errno := unix.Syscall6(trap, a1, a2, a3, a4, a5, a6)
	return r, errno
}

func ptr(p []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(p))) }

// errOrNil turns a zero errno into a nil error.
func errOrNil(errno syscall.Errno) error {
	if errno != 0 {
		return errno
	}
	return nil
}

// Pread is one pread(2) of fd into p at off, retried on EINTR.
func Pread(fd int, p []byte, off int64) (int, error) {
	for {
		n, errno := sys6(unix.SYS_PREAD64, uintptr(fd), ptr(p), uintptr(len(p)), uintptr(off), 0, 0)
		if errno != unix.EINTR {
			return int(n), errOrNil(errno)
		}
	}
}

// Write is one write(2) of p to fd, retried on EINTR.
func Write(fd int, p []byte) (int, error) {
	for {
		n, errno := sys(unix.SYS_WRITE, uintptr(fd), ptr(p), uintptr(len(p)))
		if errno != unix.EINTR {
			return int(n), errOrNil(errno)
		}
	}
}

// ReadNB is one read(2) of a non-blocking descriptor (a socket, a
// timerfd), for a syscall.RawConn's Read callback: EAGAIN and EINTR come
// back as they are.
func ReadNB(fd uintptr, p []byte) (int, syscall.Errno) {
	n, errno := sys(unix.SYS_READ, fd, ptr(p), uintptr(len(p)))
	return int(n), errno
}

// WriteNB is one write(2) to a non-blocking descriptor; see ReadNB.
func WriteNB(fd uintptr, p []byte) (int, syscall.Errno) {
	n, errno := sys(unix.SYS_WRITE, fd, ptr(p), uintptr(len(p)))
	return int(n), errno
}

// RecvNB is one recvfrom(2) with MSG_DONTWAIT and no source address.
func RecvNB(fd int, p []byte) (int, syscall.Errno) {
	n, errno := sys6(unix.SYS_RECVFROM, uintptr(fd), ptr(p), uintptr(len(p)), unix.MSG_DONTWAIT, 0, 0)
	return int(n), errno
}

// SetsockoptInt32 is setsockopt(2) of a 32-bit integer option.
func SetsockoptInt32(fd uintptr, level, opt int, v int32) syscall.Errno {
	_, errno := sys6(unix.SYS_SETSOCKOPT, fd, uintptr(level), uintptr(opt), uintptr(unsafe.Pointer(&v)), unsafe.Sizeof(v), 0)
	return errno
}

// atFDCWD is AT_FDCWD as a system call argument.
var atFDCWD = func() uintptr { fd := unix.AT_FDCWD; return uintptr(fd) }()

// Open opens path read-only (and close-on-exec). path must end with a
// NUL byte, which the caller keeps in a reused buffer so that opening does
// not allocate. EINTR is retried.
func Open(path []byte) (int, error) {
	for {
		fd, errno := sys6(unix.SYS_OPENAT, atFDCWD, ptr(path), uintptr(unix.O_RDONLY|unix.O_CLOEXEC), 0, 0, 0)
		if errno != unix.EINTR {
			if errno != 0 {
				return -1, errno
			}
			return int(fd), nil
		}
	}
}

// Close closes fd.
func Close(fd int) { sys(unix.SYS_CLOSE, uintptr(fd), 0, 0) }

// Getdents reads directory entries (linux_dirent64 records) into buf.
func Getdents(fd int, buf []byte) (int, error) {
	n, errno := sys(unix.SYS_GETDENTS64, uintptr(fd), ptr(buf), uintptr(len(buf)))
	return int(n), errOrNil(errno)
}

// SeekStart moves fd to offset 0.
func SeekStart(fd int) error {
	_, errno := sys(unix.SYS_LSEEK, uintptr(fd), 0, 0)
	return errOrNil(errno)
}

// Fstat is fstat(2).
func Fstat(fd int, st *unix.Stat_t) error {
	_, errno := sys(unix.SYS_FSTAT, uintptr(fd), uintptr(unsafe.Pointer(st)), 0)
	return errOrNil(errno)
}

// Fstatfs is fstatfs(2).
func Fstatfs(fd int, st *unix.Statfs_t) error {
	_, errno := sys(unix.SYS_FSTATFS, uintptr(fd), uintptr(unsafe.Pointer(st)), 0)
	return errOrNil(errno)
}

// Statfs is statfs(2); for local file systems only, whose answer is in
// memory.
func Statfs(path string, st *unix.Statfs_t) error {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return err
	}
	_, errno := sys(unix.SYS_STATFS, uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(st)), 0)
	return errOrNil(errno)
}

// Statx is statx(2) of the basic fields, for a file whose metadata is in
// memory.
func Statx(path string, st *unix.Statx_t) error {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return err
	}
	_, errno := sys6(unix.SYS_STATX, atFDCWD, uintptr(unsafe.Pointer(p)), 0,
		unix.STATX_BASIC_STATS, uintptr(unsafe.Pointer(st)), 0)
	return errOrNil(errno)
}

// Adjtimex is adjtimex(2); read-only when tx.Modes is 0. It returns the
// clock state.
func Adjtimex(tx *unix.Timex) (int, error) {
	state, errno := sys(unix.SYS_ADJTIMEX, uintptr(unsafe.Pointer(tx)), 0, 0)
	return int(state), errOrNil(errno)
}

// noWait is a zero timeout for ppoll.
var noWait unix.Timespec

// PollPri polls fd for POLLPRI without waiting and reports whether it is
// set, or whether the poll failed or found the descriptor in error.
func PollPri(fd int) bool {
	fds := [1]unix.PollFd{{Fd: int32(fd), Events: unix.POLLPRI}}
	_, errno := sys6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&fds[0])), 1, uintptr(unsafe.Pointer(&noWait)), 0, 0, 0)
	return errno != 0 || fds[0].Revents&(unix.POLLPRI|unix.POLLERR|unix.POLLNVAL) != 0
}
