package server

import (
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"hawk/internal/wire"
)

// brokenPipeListener's connections fail every write after the first
// (the WELCOME) with EPIPE, as a socket does once its peer has closed.
type brokenPipeListener struct{ net.Listener }

func (l brokenPipeListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &brokenPipeConn{Conn: c, left: 1}, nil
}

type brokenPipeConn struct {
	net.Conn
	left int // writes that succeed; one session goroutine writes
}

func (c *brokenPipeConn) Write(b []byte) (int, error) {
	if c.left == 0 {
		return 0, &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.EPIPE)}
	}
	c.left--
	return c.Conn.Write(b)
}

// TestWriteBrokenPipeIsPeerClosed: a session that ends on a write failing
// with EPIPE (the agent closed first, and the server happened to write
// before it read the close) makes the agent offline at once, as an EOF
// does, rather than after the missed heartbeats; its outage can then be
// explained as agent-stopped. Before, only a read saw the peer's close.
func TestWriteBrokenPipeIsPeerClosed(t *testing.T) {
	s, err := New(Config{Sink: newMemSink(), HeartbeatInterval: 10 * time.Second, MissedHeartbeats: 3})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveOn(t, s, brokenPipeListener{ln})
	c := dial(t, ln.Addr().String())
	c.hello("a")
	c.send(wire.AppendHeartbeat(nil, &wire.Heartbeat{AgentTime: 7}, false)) // its echo's write fails
	if p := c.recv(); p != nil {
		t.Fatalf("got %x, want the connection closed", p)
	}
	// Offline after 30 s of silence, or at once when the peer closed.
	waitFor(t, "agent offline", func() bool { rows := s.Fleet().Agents(); return len(rows) == 1 && !rows[0].Up })
}
