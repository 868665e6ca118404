package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"hawk/internal/store"
	"hawk/internal/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newMemSink() *store.Memory { return store.NewMemory() }

// startServer runs a Server on a loopback port and stops it with the test.
func startServer(t testing.TB, cfg Config) (*Server, string) {
	t.Helper()
	s, addr, _ := startServing(t, cfg)
	return s, addr
}

// startServing is startServer that also returns serveOn's shutdown, for
// tests of the shutdown itself.
func startServing(t testing.TB, cfg Config) (s *Server, addr string, shutdown func()) {
	t.Helper()
	if cfg.Sink == nil {
		cfg.Sink = newMemSink()
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return s, ln.Addr().String(), serveOn(t, s, ln)
}

// serveOn runs s on ln until shutdown is called or the test (or fuzz
// target) ends; shutdown shuts s down and checks that Serve ended as it
// should. A test of the shutdown itself calls it; it runs once.
func serveOn(tb testing.TB, s *Server, ln net.Listener) (shutdown func()) {
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	shutdown = sync.OnceFunc(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			tb.Errorf("shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, ErrServerClosed) {
			tb.Errorf("serve: %v", err)
		}
	})
	tb.Cleanup(shutdown)
	return shutdown
}

func legacyFrame(t testing.TB, typ uint8, content any) []byte {
	p, err := wire.AppendLegacy(nil, typ, content)
	if err != nil {
		t.Fatal(err)
	}
	f, err := wire.AppendFrame(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestLegacyChaos writes intact legacy frames mixed with every kind of bad
// input in random chunks: every intact frame is answered exactly once, in
// order, and nothing else is answered.
func TestLegacyChaos(t *testing.T) {
	_, addr := startServer(t, Config{})
	rng := rand.New(rand.NewPCG(11, 12))
	var stream []byte
	var want strings.Builder
	for i := range 400 {
		var f []byte
		reply := ""
		if rng.IntN(2) == 0 {
			f, reply = legacyFrame(t, 0, wire.LegacyHeartbeatContent{Version: "1.0", Timestamp: int64(i)}), wire.LegacyHeartbeatReply
		} else {
			f, reply = legacyFrame(t, 1, wire.LegacyReportContent{Content: strings.Repeat("r", rng.IntN(300)), Rand: int64(i)}), wire.LegacyReportReply
		}
		switch rng.IntN(10) {
		case 0:
			stream = append(stream, "garbage\x00\xff"[:rng.IntN(10)]...)
		case 1: // bad check
			f[len(f)-3] ^= 0x40
			reply = ""
		case 2: // bad tail
			f[len(f)-1] = 0
			reply = ""
		case 3: // length up
			f[2] += 2
			reply = ""
		case 4: // length down
			f[3] -= 5
			reply = ""
		case 5: // empty frame, then the intact one
			e, _ := wire.AppendFrame(nil, nil)
			stream = append(stream, e...)
		case 6: // malformed JSON, unknown type, then the intact one
			bad, _ := wire.AppendFrame(nil, []byte(`{"PacketType":0,"PacketContent":"bm90IGpzb24="}`))
			unk := legacyFrame(t, 9, map[string]int{"x": 1})
			stream = append(append(stream, bad...), unk...)
		}
		stream = append(stream, f...)
		want.WriteString(reply)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() {
		for len(stream) > 0 {
			n := min(len(stream), 1+rng.IntN(700))
			if _, err := c.Write(stream[:n]); err != nil {
				return
			}
			stream = stream[n:]
		}
		c.(*net.TCPConn).CloseWrite()
	}()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want.String() {
		t.Fatalf("replies differ: got %d bytes (%d lines), want %d bytes (%d lines)",
			len(got), bytes.Count(got, []byte("\n")), want.Len(), strings.Count(want.String(), "\n"))
	}
}

// TestLegacyAnsweredWhileOpen checks replies come while the connection
// stays open (no EOF needed), heartbeat and report alike.
func TestLegacyAnsweredWhileOpen(t *testing.T) {
	_, addr := startServer(t, Config{})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	for _, step := range []struct {
		frame []byte
		reply string
	}{
		{legacyFrame(t, 0, wire.LegacyHeartbeatContent{Version: "1.0", Timestamp: 1700000000}), "heartBeat\n"},
		{legacyFrame(t, 1, wire.LegacyReportContent{Content: "x", Rand: 3, Timestamp: 1700000000}), "Report data has recive\n"},
	} {
		if _, err := c.Write(step.frame); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, len(step.reply))
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != step.reply {
			t.Fatalf("reply %q (%v), want %q", buf, err, step.reply)
		}
	}
}
