//go:build slowpeers

package server

import (
	"flag"
	"fmt"
	"net"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"hawk/internal/wire"
)

// Run with:
//
//	go test -tags slowpeers -run TestSlowPeers -v -count=1 ./internal/server
//
// It is behind a build tag because it holds 10,000 sockets and both cores
// for about 30 s; docs/security.md records its figures.

var (
	slowPeers    = flag.Int("slowpeers.n", 5000, "trickling connections")
	slowAgents   = flag.Int("slowpeers.agents", 100, "normal agents")
	slowPhase    = flag.Duration("slowpeers.phase", 15*time.Second, "length of each measured phase; longer than the handshake timeout, so tricklers are closed and return during it")
	slowRamp     = flag.Duration("slowpeers.ramp", 10*time.Second, "time over which the tricklers connect")
	slowInterval = flag.Duration("slowpeers.interval", 100*time.Millisecond, "batch interval of each normal agent")
)

// TestSlowPeers measures the ack latency of normal agents, first alone and
// then while thousands of connections trickle a byte a second (half of
// them a HELLO that would take 20 s to complete, half garbage, all
// reconnecting as soon as the server closes them). The p99 with the
// tricklers must stay within twice the p99 without them.
func TestSlowPeers(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	need := uint64(2*(*slowPeers+*slowAgents) + 1000)
	lim.Cur = min(max(lim.Cur, need), lim.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur < need {
		t.Skipf("RLIMIT_NOFILE %d, need %d (%v)", lim.Cur, need, err)
	}
	s, addr := startServer(t, Config{})

	base := measureAgents(t, addr, "base", *slowAgents, *slowPhase)

	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	tr := startTricklers(t, addr, *slowPeers)
	busy := measureAgents(t, addr, "slow", *slowAgents, *slowPhase)
	open := testutilGauge(s)
	runtime.ReadMemStats(&ms1)
	tr.stop()
	t.Logf("heap in use: %.1f MiB before the tricklers, %.1f MiB with them (client and server in one process)",
		float64(ms0.HeapInuse)/(1<<20), float64(ms1.HeapInuse)/(1<<20))

	timeouts := testutilCounter(s.m.errors.WithLabelValues("handshake_timeout"))
	t.Logf("without tricklers: %s", base)
	t.Logf("with %d tricklers: %s", *slowPeers, busy)
	t.Logf("tricklers: %d connections opened, %d closed by the server; server: %.0f open at the end of the phase, %.0f handshake timeouts",
		tr.dialled.Load(), tr.closed.Load(), open, timeouts)
	if tr.live.Load() < int64(*slowPeers*9/10) {
		t.Fatalf("only %d tricklers connected", tr.live.Load())
	}
	if tr.closed.Load() == 0 || timeouts == 0 {
		t.Fatal("no trickler was closed by the handshake timeout")
	}
	if busy.p99 > 2*base.p99 {
		t.Fatalf("ack p99 %v with tricklers, more than twice %v without", busy.p99, base.p99)
	}
}

func testutilGauge(s *Server) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return float64(len(s.sessions))
}

type latencies struct {
	n                  int
	p50, p90, p99, max time.Duration
}

func (l latencies) String() string {
	return fmt.Sprintf("%d acks, p50 %v, p90 %v, p99 %v, max %v", l.n, l.p50, l.p90, l.p99, l.max)
}

// measureAgents runs n agents sending a 50-sample batch every interval
// for d, and returns the latency from writing a batch to reading its ACK.
func measureAgents(t *testing.T, addr, prefix string, n int, d time.Duration) latencies {
	var mu sync.Mutex
	var all []time.Duration
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := dial(t, addr)
			c.hello(fmt.Sprintf("%s-%d", prefix, i))
			own := make([]time.Duration, 0, int(d / *slowInterval)+1)
			tk := time.NewTicker(*slowInterval)
			defer tk.Stop()
			// One batch, reused: the agents should load the server, not
			// the garbage collector of the process the test shares with it.
			b := testBatch(20, 0, 0)
			var out []byte
			for seq := uint64(1); time.Since(start) < d; seq++ {
				<-tk.C
				ms := time.Now().UnixMilli()
				for i := range b.Samples {
					b.Samples[i].T, b.Samples[i].V = ms, float64(seq)+float64(i)
				}
				var err error
				if out, err = c.enc.AppendBatch(out[:0], seq, b, 0); err != nil {
					t.Error(err)
					return
				}
				t0 := time.Now()
				c.raw(out)
				for a := c.ack(); a < seq; a = c.ack() {
				}
				own = append(own, time.Since(t0))
			}
			c.c.Close()
			mu.Lock()
			all = append(all, own...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.Sort(all)
	if len(all) == 0 {
		t.Fatal("no acks")
	}
	q := func(p float64) time.Duration { return all[min(len(all)-1, int(p*float64(len(all))))] }
	return latencies{n: len(all), p50: q(0.5), p90: q(0.9), p99: q(0.99), max: all[len(all)-1]}
}

// tricklers keeps n connections open, each writing one byte a second.
type tricklers struct {
	stopc   chan struct{}
	wg      sync.WaitGroup
	live    atomic.Int64 // connections open now
	dialled atomic.Int64
	closed  atomic.Int64 // writes that failed: the server closed the connection
}

func startTricklers(t *testing.T, addr string, n int) *tricklers {
	tr := &tricklers{stopc: make(chan struct{})}
	hello, _ := wire.AppendFrame(nil, wire.AppendHello(nil, &wire.Hello{Version: 2, AgentID: "trickler"}))
	const workers = 50
	ready := make(chan struct{}, workers)
	for w := range workers {
		tr.wg.Add(1)
		go func() {
			defer tr.wg.Done()
			tr.work(t, addr, n/workers, w, hello, ready)
		}()
	}
	for range workers {
		<-ready
	}
	return tr
}

type trickleConn struct {
	c   net.Conn
	pos int
}

// work runs m trickling connections: once a second it writes the next
// byte on each, and redials those the server closed.
func (tr *tricklers) work(t *testing.T, addr string, m, w int, hello []byte, ready chan<- struct{}) {
	conns := make([]trickleConn, m)
	payload := func(i int) []byte {
		if (w+i)%2 == 0 {
			return hello
		}
		return []byte("GET / HTTP/1.1\r\nHost: slow\r\n") // garbage: never a frame
	}
	redial := func(i int) {
		if conns[i].c != nil {
			conns[i].c.Close()
			tr.live.Add(-1)
		}
		c, err := net.Dial("tcp", addr)
		if err != nil {
			conns[i].c = nil
			return
		}
		tr.dialled.Add(1)
		tr.live.Add(1)
		conns[i] = trickleConn{c: c}
	}
	// Ramp up over the handshake timeout, as independent peers would
	// arrive: the server's closes, and the redials, spread out the same way
	// instead of coming in one burst.
	for i := range conns {
		redial(i)
		time.Sleep(*slowRamp / time.Duration(m))
	}
	ready <- struct{}{}
	// One write every 1/m s, round robin: each connection gets a byte a
	// second, and the fleet's writes are spread evenly over the second.
	tk := time.NewTicker(time.Second / time.Duration(m))
	defer tk.Stop()
	defer func() {
		for _, c := range conns {
			if c.c != nil {
				c.c.Close()
			}
		}
	}()
	for i := 0; ; i = (i + 1) % m {
		select {
		case <-tr.stopc:
			return
		case <-tk.C:
		}
		c := &conns[i]
		if c.c == nil {
			redial(i)
			continue
		}
		p := payload(i)
		c.c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		if _, err := c.c.Write(p[c.pos%len(p) : c.pos%len(p)+1]); err != nil {
			tr.closed.Add(1)
			redial(i)
			continue
		}
		c.pos++
	}
}

func (tr *tricklers) stop() {
	close(tr.stopc)
	tr.wg.Wait()
}
