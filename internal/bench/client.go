package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"hawk/internal/wire"
)

// frameReader reads v2 frames from a connection through a small buffer, so
// that an idle connection holds no decoder buffer. Owned by one goroutine.
type frameReader struct {
	c   net.Conn
	dec wire.Decoder
	buf []byte
}

func newFrameReader(c net.Conn, size int) *frameReader {
	return &frameReader{c: c, buf: make([]byte, size)}
}

// next returns the next frame payload, valid until the next call.
func (r *frameReader) next() ([]byte, error) {
	for {
		if p, ok := r.dec.Next(); ok {
			return p, nil
		}
		n, err := r.c.Read(r.buf)
		r.dec.Write(r.buf[:n])
		if err != nil && n == 0 {
			return nil, err // a deadline keeps a partial frame; Release drops it
		}
	}
}

// dialV2 connects from local (any address when nil), sends HELLO and
// waits for WELCOME. An ERROR instead of WELCOME is returned as *wire.Error.
// The secret the server issued to h.AgentID earlier in this process goes
// with the HELLO, and a newly issued one is kept.
func dialV2(ctx context.Context, addr string, local *net.TCPAddr, h *wire.Hello, timeout time.Duration, bufSize int) (net.Conn, *frameReader, wire.Welcome, error) {
	if s, ok := secrets.Load(h.AgentID); ok && h.Secret == "" {
		hs := *h
		hs.Secret = s.(string)
		h = &hs
	}
	c, fr, w, err := dialHello(ctx, addr, local, h, timeout, bufSize)
	if err == nil && w.Secret != "" {
		secrets.Store(h.AgentID, w.Secret)
	}
	return c, fr, w, err
}

// dialHello is dialV2 with h sent as it is: no secret added, none kept.
func dialHello(ctx context.Context, addr string, local *net.TCPAddr, h *wire.Hello, timeout time.Duration, bufSize int) (net.Conn, *frameReader, wire.Welcome, error) {
	d := net.Dialer{Timeout: timeout}
	if local != nil {
		d.LocalAddr = local
	}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, wire.Welcome{}, fmt.Errorf("%w: %w", errDial, err)
	}
	fail := func(err error) (net.Conn, *frameReader, wire.Welcome, error) {
		c.Close()
		return nil, nil, wire.Welcome{}, err
	}
	c.SetDeadline(time.Now().Add(timeout)) //nolint:errcheck // a closed conn fails the write below
	f, err := wire.AppendFrame(nil, wire.AppendHello(nil, h))
	if err != nil {
		return fail(err)
	}
	if _, err := c.Write(f); err != nil {
		return fail(fmt.Errorf("hello: %w", err))
	}
	fr := newFrameReader(c, bufSize)
	p, err := fr.next()
	if err != nil {
		return fail(fmt.Errorf("welcome: %w", err))
	}
	if k, _ := wire.PeekKind(p); k == wire.KindError {
		e, _ := wire.DecodeError(p)
		return fail(&e)
	}
	w, err := wire.DecodeWelcome(p)
	if err != nil {
		return fail(fmt.Errorf("welcome: %w", err))
	}
	c.SetDeadline(time.Time{}) //nolint:errcheck // as above
	return c, fr, w, nil
}

// secrets holds the enrolment secrets servers issued to the simulated
// agents, by agent id, so that a reconnecting one is not refused as an
// impostor (docs/security.md, section 3).
var secrets sync.Map

// errDial marks a connection that could not be made at all.
var errDial = errors.New("dial")

// errCounts counts errors by reason. Safe for concurrent use.
type errCounts struct {
	mu sync.Mutex
	m  map[string]uint64
}

func (e *errCounts) add(reason string, n uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.m == nil {
		e.m = make(map[string]uint64)
	}
	e.m[reason] += n
}

// reason names the kind of err for counting.
func reason(err error) string {
	var pe *wire.Error
	var ne net.Error
	var ga *goAwayError
	switch {
	case errors.As(err, &ga):
		return "goaway"
	case errors.As(err, &pe):
		return fmt.Sprintf("error_%d", pe.Code)
	case errors.Is(err, errDial):
		var errno syscall.Errno
		if errors.As(err, &errno) {
			return "dial_" + errnoName(errno)
		}
		return "dial"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case strings.Contains(err.Error(), "reset"):
		return "reset"
	case strings.Contains(err.Error(), "EOF"):
		return "eof"
	}
	return "other"
}

func (e *errCounts) snapshot() map[string]uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]uint64, len(e.m))
	for k, v := range e.m {
		out[k] = v
	}
	return out
}

// formatCounts renders counts as "a=1 b=2", sorted, or "0".
func formatCounts(m map[string]uint64) string {
	if len(m) == 0 {
		return "0"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%d", k, m[k])
	}
	return b.String()
}

// helloFor returns the HELLO of simulated agent id.
func helloFor(id, job string) *wire.Hello {
	return &wire.Hello{Version: wire.ProtocolVersion, AgentID: id, Hostname: id, AgentVersion: "hawk-bench",
		Labels: []wire.Label{{Name: "instance", Value: id}, {Name: "job", Value: job}}}
}

// writeFrame frames payload and writes it with a deadline.
func writeFrame(c net.Conn, buf []byte, payload func([]byte) []byte) ([]byte, int, error) {
	out, start := wire.BeginFrame(buf[:0])
	out, err := wire.EndFrame(payload(out), start)
	if err != nil {
		return out, 0, err
	}
	c.SetWriteDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck // a closed conn fails the write
	n, err := c.Write(out)
	return out, n, err
}

func errnoName(e syscall.Errno) string {
	switch e {
	case syscall.EADDRNOTAVAIL:
		return "EADDRNOTAVAIL"
	case syscall.EADDRINUSE:
		return "EADDRINUSE"
	case syscall.EMFILE:
		return "EMFILE"
	case syscall.ENFILE:
		return "ENFILE"
	case syscall.ECONNREFUSED:
		return "ECONNREFUSED"
	case syscall.ECONNRESET:
		return "ECONNRESET"
	case syscall.ETIMEDOUT:
		return "ETIMEDOUT"
	case syscall.ENOBUFS:
		return "ENOBUFS"
	}
	return fmt.Sprintf("errno%d", int(e))
}
