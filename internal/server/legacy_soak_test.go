package server

import (
	"bufio"
	"flag"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hawk/internal/wire"
)

var (
	legacyAddr     = flag.String("legacy.addr", os.Getenv("HAWK_LEGACY_ADDR"), "run the legacy soak against this server instead of an in-process one")
	legacyDuration = flag.Duration("legacy.duration", 3*time.Second, "how long the legacy soak runs")
)

// TestLegacyDemoAgent behaves like the original demo agent: a heartbeat
// every 2 s and 300 goroutines each sending one report a second, all over
// one connection. Every frame must be answered with its exact line and the
// server must reject none. scripts/e2e/legacy.sh runs it for a minute
// against the hawk-server binary.
func TestLegacyDemoAgent(t *testing.T) {
	addr := *legacyAddr
	var s *Server
	if addr == "" {
		s, addr = startServer(t, Config{})
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	var sentHB, sentRep atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	send := func(f []byte, n *atomic.Int64) bool {
		if _, err := c.Write(f); err != nil { // net.Conn serialises concurrent writes
			t.Errorf("write: %v", err)
			return false
		}
		n.Add(1)
		return true
	}
	loop := func(every time.Duration, frame func(i int) []byte, n *atomic.Int64) {
		defer wg.Done()
		tk := time.NewTicker(every)
		defer tk.Stop()
		for i := 0; ; i++ {
			if !send(frame(i), n) {
				return
			}
			select {
			case <-stop:
				return
			case <-tk.C:
			}
		}
	}
	wg.Add(301)
	go loop(2*time.Second, func(i int) []byte {
		return legacyFrame(t, wire.LegacyHeartbeat, wire.LegacyHeartbeatContent{Version: "1.0", Timestamp: time.Now().Unix()})
	}, &sentHB)
	for g := range 300 {
		go loop(time.Second, func(i int) []byte {
			return legacyFrame(t, wire.LegacyReport, wire.LegacyReportContent{Content: "load report", Rand: int64(g*100000 + i), Timestamp: time.Now().Unix()})
		}, &sentRep)
	}

	var gotHB, gotRep, gotOther int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			switch line {
			case wire.LegacyHeartbeatReply:
				gotHB++
			case wire.LegacyReportReply:
				gotRep++
			default:
				gotOther++
			}
		}
	}()
	time.Sleep(*legacyDuration) // the soak's length, not a synchronisation
	close(stop)
	wg.Wait()
	c.(*net.TCPConn).CloseWrite() // the server answers what it has, then closes
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("server did not close after the last reply")
	}
	t.Logf("sent %d heartbeats and %d reports; answered %d and %d", sentHB.Load(), sentRep.Load(), gotHB, gotRep)
	if gotHB != sentHB.Load() || gotRep != sentRep.Load() || gotOther != 0 {
		t.Fatalf("answers %d/%d (+%d other), want %d/%d", gotHB, gotRep, gotOther, sentHB.Load(), sentRep.Load())
	}
	if s != nil {
		if n := testutilCounter(s.m.frameBadCheck) + testutilCounter(s.m.frameBadTail) + testutilCounter(s.m.bytesSkipped); n != 0 {
			t.Fatalf("%v bytes or frames rejected", n)
		}
	}
}
