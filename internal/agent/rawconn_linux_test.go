package agent

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A rawConn carries a stream larger than the socket buffers both ways
// (partial writes, waits in the poller), ends reads with io.EOF when the
// peer closes, and honours deadlines.
func TestRawConn(t *testing.T) {
	rc, peer := rawPair(t)
	var c net.Conn = rc

	data := make([]byte, 8<<20)
	for i := range data {
		data[i] = byte(rand.Uint32())
	}
	// Out through the rawConn, echoed back by the peer, in through it.
	go func() {
		_, _ = io.Copy(peer, peer)
		peer.Close()
	}()
	werr := make(chan error, 1)
	go func() {
		n, err := c.Write(data)
		if err == nil && n != len(data) {
			err = errors.New("short write")
		}
		c.(*rawConn).CloseWrite()
		werr <- err
	}()
	var got bytes.Buffer
	buf := make([]byte, 1500)
	for {
		n, err := c.Read(buf)
		got.Write(buf[:n])
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read after %d bytes: %v", got.Len(), err)
		}
	}
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("echoed %d bytes, not the %d sent", got.Len(), len(data))
	}

	if err := c.SetReadDeadline(time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	var ne net.Error
	if _, err := c.Read(buf); !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past its deadline: %v", err)
	}
}

// A quiet rawConn is not woken by a small reply; leaving quiet delivers
// it at once; the peer's FIN wakes a quiet reader.
func TestRawConnQuiet(t *testing.T) {
	c, peer := rawPair(t)
	if err := c.setQuiet(true); err != nil {
		t.Fatal(err)
	}

	type result struct {
		b   []byte
		err error
	}
	got := make(chan result, 1)
	read := func() {
		buf := make([]byte, 64)
		n, err := c.Read(buf)
		got <- result{buf[:n], err}
	}
	go read()
	waitParkedRead(t)
	if _, err := peer.Write([]byte("echo")); err != nil {
		t.Fatal(err)
	}
	// Wait until the bytes are in the socket, then give a woken reader
	// ample time to show itself.
	for waited := 0; ; waited++ {
		n, err := unix.IoctlGetInt(sysfd(t, c), unix.SIOCINQ)
		if err != nil {
			t.Fatal(err)
		}
		if n == 4 {
			break
		}
		if waited == 10000 {
			t.Fatal("the peer's bytes never arrived")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case r := <-got:
		t.Fatalf("a quiet reader was woken by %q (%v)", r.b, r.err)
	case <-time.After(200 * time.Millisecond):
	}
	if err := c.setQuiet(false); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-got:
		if string(r.b) != "echo" || r.err != nil {
			t.Fatalf("read %q, %v", r.b, r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("leaving quiet did not deliver the waiting bytes")
	}

	if err := c.setQuiet(true); err != nil {
		t.Fatal(err)
	}
	go read()
	peer.Close()
	select {
	case r := <-got:
		if !errors.Is(r.err, io.EOF) {
			t.Fatalf("read %q, %v after the peer closed", r.b, r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a quiet reader was not woken by the peer's FIN")
	}
}

// waitParkedRead waits until a goroutine waits in the poller inside
// rawConn.Read, so that what follows cannot reach it before it parks.
func waitParkedRead(t *testing.T) {
	buf := make([]byte, 1<<20)
	for range 10000 {
		n := runtime.Stack(buf, true)
		for _, g := range strings.Split(string(buf[:n]), "\n\n") {
			if strings.Contains(g, "[IO wait") && strings.Contains(g, "(*rawConn).Read") {
				return
			}
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("the reader never waited in the poller")
}

// rawPair returns a rawConn over loopback and its peer's end; both are
// closed when the test ends.
func rawPair(t *testing.T) (*rawConn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	dialed, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	peer, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	ln.Close()
	t.Cleanup(func() { peer.Close() })
	w := withRawIO(dialed)
	c, ok := w.(*rawConn)
	if !ok {
		t.Fatalf("withRawIO gave %T", w)
	}
	t.Cleanup(func() { c.Close() })
	return c, peer
}

func sysfd(t *testing.T, c *rawConn) int {
	var fd int
	if err := c.rc.Control(func(f uintptr) { fd = int(f) }); err != nil {
		t.Fatal(err)
	}
	return fd
}

// writeWithin times out when the peer takes nothing, and a write that
// never waited leaves no deadline behind.
func TestRawConnWriteWithin(t *testing.T) {
	c, _ := rawPair(t) // the peer reads nothing

	if _, err := c.writeWithin([]byte("small"), 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if c.wdeadline {
		t.Fatal("a write that did not wait set a deadline")
	}
	// The peer reads nothing: a write larger than both socket buffers
	// waits, then times out.
	start := time.Now()
	n, err := c.writeWithin(make([]byte, 64<<20), 50*time.Millisecond)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("wrote %d bytes to a peer that reads nothing: %v", n, err)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("timed out after %v, before the 50ms", d)
	}
	if c.wdeadline {
		t.Fatal("the deadline outlived the write")
	}
}
