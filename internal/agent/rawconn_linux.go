package agent

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawConn is a TCP connection whose reads and writes are raw system calls
// made from the runtime's network poller (syscall.RawConn). An ordinary
// socket read or write wakes the Go runtime's monitor thread if it sleeps,
// and it then polls every 20 µs for as long as the process stays busy
// (see fdSleeper); each heartbeat, batch and acknowledgement did so.
// Reads and writes on a non-blocking socket never block, so nothing is lost
// by not telling the scheduler about them.
type rawConn struct {
	*net.TCPConn
	rc syscall.RawConn

	// State of the read in progress, shared with readFn so that a Read
	// does not allocate a closure; likewise for writes. Reads and writes
	// may run concurrently, each on one goroutine, as on a net.Conn.
	rp     []byte
	rn     int
	rerrno syscall.Errno
	readFn func(fd uintptr) bool

	wp      []byte
	wn      int
	werrno  syscall.Errno
	writeFn func(fd uintptr) bool
}

// withRawIO wraps a TCP connection in a rawConn; other connections are
// returned as they are.
func withRawIO(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	r := &rawConn{TCPConn: tc, rc: rc}
	r.readFn = func(fd uintptr) bool {
		n, _, errno := unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(unsafe.SliceData(r.rp))), uintptr(len(r.rp)))
		if errno == unix.EAGAIN {
			return false // wait in the poller
		}
		r.rn, r.rerrno = int(n), errno
		return true
	}
	r.writeFn = func(fd uintptr) bool {
		n, _, errno := unix.RawSyscall(unix.SYS_WRITE, fd, uintptr(unsafe.Pointer(unsafe.SliceData(r.wp))), uintptr(len(r.wp)))
		if errno == unix.EAGAIN {
			return false
		}
		r.wn, r.werrno = int(n), errno
		return true
	}
	return r
}

func (c *rawConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.rp = p
	defer func() { c.rp = nil }()
	for {
		if err := c.rc.Read(c.readFn); err != nil {
			return 0, c.opError("read", err)
		}
		switch {
		case c.rerrno == unix.EINTR:
			continue
		case c.rerrno != 0:
			return 0, c.opError("read", os.NewSyscallError("read", c.rerrno))
		case c.rn == 0:
			return 0, io.EOF
		}
		return c.rn, nil
	}
}

func (c *rawConn) Write(p []byte) (int, error) {
	defer func() { c.wp = nil }()
	written := 0
	for written < len(p) {
		c.wp = p[written:]
		if err := c.rc.Write(c.writeFn); err != nil {
			return written, c.opError("write", err)
		}
		switch {
		case c.werrno == unix.EINTR:
			continue
		case c.werrno != 0:
			return written, c.opError("write", os.NewSyscallError("write", c.werrno))
		}
		written += c.wn
	}
	return written, nil
}

func (c *rawConn) opError(op string, err error) error {
	if _, ok := err.(*net.OpError); ok {
		return err
	}
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}
