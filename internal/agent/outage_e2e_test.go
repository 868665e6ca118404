package agent

import (
	"context"
	"errors"
	"io"
	"math"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hawk/internal/collect"
	"hawk/internal/server"
	"hawk/internal/store"
)

// cutProxy forwards loopback connections to a server until cut: then it
// closes every connection and refuses new ones (accepts and closes at
// once), as a broken network does, until mend.
type cutProxy struct {
	ln     net.Listener
	target string
	cut    atomic.Bool
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() { ln.Close(); p.closeAll(); p.wg.Wait() })
	return p
}

func (p *cutProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.cut.Load() {
			c.Close()
			continue
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[s] = struct{}{}, struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		pipe := func(dst, src net.Conn) {
			defer p.wg.Done()
			io.Copy(dst, src) //nolint:errcheck // ends when either side closes
			dst.Close()
			src.Close()
		}
		go pipe(s, c)
		go pipe(c, s)
	}
}

func (p *cutProxy) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// TestOutageCausesEndToEnd runs a real agent against a real server and
// checks the cause the server gives each kind of outage: a network cut
// (the agent keeps collecting into its spool), the agent killed and
// started again, and a host reboot (a new boot time through the seam).
func TestOutageCausesEndToEnd(t *testing.T) {
	sink := store.NewMemory()
	srv, err := server.New(server.Config{Sink: sink, HeartbeatInterval: 100 * time.Millisecond, MissedHeartbeats: 3,
		OutageClassifyWait: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx) //nolint:errcheck // the test's outcome is decided
		if err := <-served; !errors.Is(err, server.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	}()
	proxy := newCutProxy(t, ln.Addr().String())
	spool := t.TempDir()
	var boot atomic.Int64
	boot.Store(1_700_000_000)

	start := func() (stop func()) {
		a, err := New(Config{Servers: []string{proxy.ln.Addr().String()}, Interval: 100 * time.Millisecond, SpoolDir: spool,
			Hostname: "e2e", BackoffMin: 20 * time.Millisecond, BackoffMax: 100 * time.Millisecond,
			BootTime: boot.Load,
			Collect:  collect.Config{Enable: map[string]bool{"cpu": false, "filesystem": false, "diskstats": false}}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx) }()
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("agent: %v", err)
			}
		}
	}
	fleet := srv.Fleet()
	// The server's judgement is what makes an outage: hawk_agent_up as
	// written at each change (the fleet's Up is only the instant view, and
	// an agent back before it is judged offline had no outage).
	upSeries := func() []store.Sample {
		for _, k := range sink.Series() {
			if strings.HasPrefix(k, `{__name__="hawk_agent_up",`) {
				return sink.Get(k)
			}
		}
		return nil
	}
	// changes counts the judgements 1 -> 0 (down) and 0 -> 1 (up); the
	// liveness ticks in between write the same value again.
	changes := func(to float64) int {
		n, prev := 0, math.NaN()
		for _, x := range upSeries() {
			if x.V == to && prev != to && !math.IsNaN(prev) {
				n++
			}
			prev = x.V
		}
		return n
	}
	agentUp := func() bool {
		ss := upSeries()
		return len(ss) > 0 && ss[len(ss)-1].V == 1
	}
	waitCond := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	outages := func() int {
		rows := fleet.Agents()
		if len(rows) != 1 {
			return 0
		}
		o, _ := fleet.Outages(rows[0].AgentID)
		return len(o)
	}
	expect := func(n int, cause string) {
		t.Helper()
		waitCond(cause+" outage", func() bool { return outages() >= n })
		o, ok := fleet.LastOutage(fleet.Agents()[0].AgentID)
		if !ok || o.Cause != cause {
			t.Fatalf("outage %d: %+v, want cause %s", n, o, cause)
		}
	}

	stop := start()
	waitCond("agent up", agentUp)

	// Network cut: the agent keeps collecting into its spool.
	proxy.cut.Store(true)
	proxy.closeAll()
	waitCond("agent judged down (cut)", func() bool { return changes(0) == 1 })
	time.Sleep(time.Second) // the cut's length: the agent collects ten times meanwhile
	proxy.cut.Store(false)
	expect(1, server.CauseNetwork)
	waitCond("agent judged up (cut)", func() bool { return changes(1) == 1 })

	// Agent killed (its process ends: the connection closes), started again.
	stop()
	waitCond("agent judged down (stopped)", func() bool { return changes(0) == 2 })
	time.Sleep(time.Second) // the agent's downtime
	stop = start()
	expect(2, server.CauseAgentStopped)
	waitCond("agent judged up (stopped)", func() bool { return changes(1) == 2 })

	// Host reboot: the agent comes back with a new boot time.
	stop()
	waitCond("agent judged down (reboot)", func() bool { return changes(0) == 3 })
	boot.Store(1_700_000_500)
	stop = start()
	expect(3, server.CauseReboot)
	stop()
}
