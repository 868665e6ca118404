package agent

import (
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"hawk/internal/rawio"
)

// rawConn is a TCP connection whose reads and writes are raw system calls
// (package rawio says why) made from the runtime's network poller
// (syscall.RawConn); each heartbeat, batch and acknowledgement otherwise
// woke the runtime's monitor thread.
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

	lowat    int32 // SO_RCVLOWAT wanted, for lowatFn
	lowatErr syscall.Errno
	lowatFn  func(fd uintptr)

	wp      []byte
	wn      int
	werrno  syscall.Errno
	writeFn func(fd uintptr) bool
	// A write that must wait in the poller gets a deadline wtimeout from
	// then (writeWithin); wdeadline says one is set.
	wtimeout  time.Duration
	wdeadline bool
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
		n, errno := rawio.ReadNB(fd, r.rp)
		if errno == unix.EAGAIN {
			return false // wait in the poller
		}
		r.rn, r.rerrno = n, errno
		return true
	}
	r.lowatFn = func(fd uintptr) {
		r.lowatErr = rawio.SetsockoptInt32(fd, unix.SOL_SOCKET, unix.SO_RCVLOWAT, r.lowat)
	}
	r.writeFn = func(fd uintptr) bool {
		n, errno := rawio.WriteNB(fd, r.wp)
		if errno == unix.EAGAIN {
			if r.wtimeout > 0 && !r.wdeadline {
				r.wdeadline = r.TCPConn.SetWriteDeadline(time.Now().Add(r.wtimeout)) == nil
			}
			return false
		}
		r.wn, r.werrno = n, errno
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

// quietLowat is the SO_RCVLOWAT of a quiet connection: more than the
// replies that pile up between two ticks of an idle agent (an echo is 32
// bytes), and small enough that the kernel does not grow the receive
// buffer for it.
const quietLowat = 4096

// setQuiet tells the kernel not to wake the reader for small replies
// (quiet), or to wake it for every byte again. An idle agent's heartbeat
// echoes then wait in the socket until it sends its next batch, instead of
// waking it a second time per heartbeat. Lowering the mark signals data
// that already waits, so leaving quiet lets the reader catch up at once.
// (A kernel that ignores the mark for wake-ups, as old ones did, wakes the
// reader when the data comes: no saving, nothing lost.) A peer's FIN or
// RST wakes the reader either way.
func (c *rawConn) setQuiet(q bool) error {
	c.lowat = 1
	if q {
		c.lowat = quietLowat
	}
	if err := c.rc.Control(c.lowatFn); err != nil {
		return err
	}
	if c.lowatErr != 0 {
		return os.NewSyscallError("setsockopt SO_RCVLOWAT", c.lowatErr)
	}
	return nil
}

// writeWithin writes p, failing with a timeout if the rest of p is not
// taken within d of the first time the socket buffer is full. Unlike a deadline set before every write, which leaves a
// runtime timer behind that wakes the process when it would have expired,
// the deadline is set only once a write has to wait, which an agent's
// small writes almost never do.
func (c *rawConn) writeWithin(p []byte, d time.Duration) (int, error) {
	c.wtimeout = d
	defer func() {
		c.wtimeout = 0
		if c.wdeadline {
			c.wdeadline = false
			_ = c.TCPConn.SetWriteDeadline(time.Time{})
		}
	}()
	return c.Write(p)
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
