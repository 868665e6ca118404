package server

import (
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hawk/internal/wire"
)

// hostileStream returns one connection's worth of bad input of a random
// kind: noise, corrupted frames, protocol violations, legacy junk.
func hostileStream(t testing.TB, rng *rand.Rand) []byte {
	noise := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		return b
	}
	hello := frame(t, wire.AppendHello(nil, &wire.Hello{Version: 2, AgentID: "hostile"}))
	switch rng.IntN(7) {
	case 0:
		return noise(1 + rng.IntN(70000))
	case 1: // frames with random payloads and corrupted envelopes
		var out []byte
		for range 1 + rng.IntN(50) {
			f := frame(t, noise(rng.IntN(300)))
			f[rng.IntN(len(f))] ^= byte(1 + rng.UintN(255))
			out = append(out, f...)
		}
		return out
	case 2: // a valid hello, then random v2 messages
		out := append([]byte(nil), hello...)
		for range 1 + rng.IntN(20) {
			p := noise(1 + rng.IntN(200))
			p[0] = byte(1 + rng.IntN(8))
			out = append(out, frame(t, p)...)
		}
		return out
	case 3: // legacy junk
		var out []byte
		for range 1 + rng.IntN(20) {
			out = append(out, frame(t, append([]byte(`{"PacketType":`), noise(rng.IntN(50))...))...)
		}
		return out
	case 4: // a hello, then batches with random bodies
		out := append([]byte(nil), hello...)
		for range 1 + rng.IntN(20) {
			out = append(out, frame(t, append([]byte{byte(wire.KindBatch)}, noise(rng.IntN(500))...))...)
		}
		return out
	case 5: // a frame header that promises more than ever comes
		return []byte{0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3}
	default: // a huge frame of 0xFF
		f := make([]byte, wire.MaxPayload)
		for i := range f {
			f[i] = 0xFF
		}
		return frame(t, f)
	}
}

// TestBadInputIsolated: while hostile peers send every kind of bad input
// on connections of their own, a well-behaved agent's batches are all
// acknowledged, and everything acknowledged is stored exactly once.
func TestBadInputIsolated(t *testing.T) {
	sink := newMemSink()
	s, addr := startServer(t, Config{Sink: sink, HandshakeTimeout: time.Second, StallTimeout: 100 * time.Millisecond,
		FrameTimeout: time.Second})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var (
		hostileConns [4]int
		dialed       atomic.Int64 // all hostile connections so far
	)
	for h := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(h), 99))
			for {
				select {
				case <-stop:
					return
				default:
				}
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Errorf("hostile dial: %v", err)
					return
				}
				hostileConns[h]++
				dialed.Add(1)
				c.SetDeadline(time.Now().Add(200 * time.Millisecond))
				c.Write(hostileStream(t, rng)) //nolint:errcheck // the server may close first
				if rng.IntN(2) == 0 {
					buf := make([]byte, 512)
					c.Read(buf) //nolint:errcheck // whatever the server says or does not say
				}
				c.Close()
			}
		}()
	}

	good := dial(t, addr)
	good.hello("good")
	start, began := nowMs(), time.Now()
	batches := 0
	// At least 200 batches and 1.5 s, and on until the hostile peers have
	// made 40 connections: on an idle machine the good agent's batches
	// are acknowledged faster than the hostile peers' reads time out
	// (200 ms), and 20,000 batches took 0.2 s. Bounded by 10 s and
	// 1,000,000 batches.
	enough := func() bool {
		elapsed := time.Since(began)
		return elapsed >= 10*time.Second || (elapsed >= 1500*time.Millisecond && dialed.Load() >= 40)
	}
	for seq := uint64(1); seq <= 1000000 && (seq <= 200 || !enough()); seq++ {
		good.batch(seq, testBatch(3, start+int64(seq), float64(seq)))
		if a := good.ack(); a != seq {
			t.Fatalf("ack %d, want %d", a, seq)
		}
		batches++
	}
	close(stop)
	wg.Wait()
	good.alive()
	for _, series := range []string{`{__name__="test_metric", i="a", job="node"}`, `{__name__="test_metric", i="c", job="node"}`} {
		got := sink.Get(series)
		if len(got) != batches {
			t.Fatalf("%s: %d samples stored, want %d", series, len(got), batches)
		}
		for i, smp := range got {
			if smp.T != start+int64(i+1) {
				t.Fatalf("%s: sample %d at %d, want %d", series, i, smp.T, start+int64(i+1))
			}
		}
	}
	total := 0
	for _, n := range hostileConns {
		total += n
	}
	if total < 20 {
		t.Fatalf("only %d hostile connections ran", total)
	}
	if bad := testutilCounter(s.m.frameBadCheck) + testutilCounter(s.m.frameBadTail) + testutilCounter(s.m.bytesSkipped); bad == 0 {
		t.Fatal("no bad input counted")
	}
	t.Logf("%d hostile connections while %d batches were acknowledged", total, batches)
}

func TestHoldable(t *testing.T) {
	hb := frame(t, wire.AppendHeartbeat(nil, &wire.Heartbeat{AgentTime: 1}, false))
	for _, c := range []struct {
		name string
		b    []byte
		want bool
	}{
		{"garbage", []byte("GET /"), false},
		{"one preamble byte", []byte{0xFF}, true},
		{"garbage then header start", []byte{'x', 0xFF, 0xFF, 0x00}, true},
		{"partial frame", hb[:len(hb)-1], true},
		{"complete frame", hb, false},
		{"lone 0xFF then garbage", []byte{0xFF, 'x', 'y', 'z', 'w'}, false},
		{"header claiming 64 KiB", []byte{0xFF, 0xFF, 0xFF, 0xFF, 1}, true},
	} {
		if got := holdable(c.b); got != c.want {
			t.Errorf("%s: holdable(%x) = %v, want %v", c.name, c.b, got, c.want)
		}
	}
}
