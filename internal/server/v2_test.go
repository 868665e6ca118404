package server

import (
	"errors"
	"net"
	"testing"
	"time"

	"hawk/internal/store"
	"hawk/internal/wire"
)

// client is a minimal v2 peer for tests.
type client struct {
	t   testing.TB
	c   net.Conn
	dec wire.Decoder
	enc *wire.Encoder
}

func dial(t testing.TB, addr string) *client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return &client{t: t, c: c, enc: wire.NewEncoder()}
}

func (c *client) send(payload []byte) {
	c.t.Helper()
	f, err := wire.AppendFrame(nil, payload)
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.c.Write(f); err != nil {
		c.t.Fatal(err)
	}
}

// recv returns the next frame payload, or nil at end of stream.
func (c *client) recv() []byte {
	c.t.Helper()
	for {
		if p, ok := c.dec.Next(); ok {
			return append([]byte(nil), p...)
		}
		n, err := c.c.Read(c.dec.Space())
		c.dec.Commit(n)
		if err != nil && n == 0 {
			return nil
		}
	}
}

func (c *client) hello(id string) wire.Welcome {
	c.t.Helper()
	c.send(wire.AppendHello(nil, &wire.Hello{Version: wire.ProtocolVersion, AgentID: id, Hostname: "host-" + id,
		AgentVersion: "test", Labels: []wire.Label{{Name: "job", Value: "node"}, {Name: "instance", Value: "i-" + id}}}))
	p := c.recv()
	w, err := wire.DecodeWelcome(p)
	if err != nil {
		c.t.Fatalf("welcome: %v (%x)", err, p)
	}
	return w
}

func (c *client) batch(seq uint64, b *wire.Batch) {
	c.t.Helper()
	out, err := c.enc.AppendBatch(nil, seq, b, 0)
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.c.Write(out); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) ack() uint64 {
	c.t.Helper()
	p := c.recv()
	a, err := wire.DecodeAck(p)
	if err != nil {
		c.t.Fatalf("ack: %v (%x)", err, p)
	}
	return a.Seq
}

func testBatch(n int, t int64, v float64) *wire.Batch {
	b := &wire.Batch{}
	for i := range n {
		b.Defs = append(b.Defs, wire.SeriesDef{Type: wire.TypeGauge, Name: "test_metric",
			Labels: []wire.Label{{Name: "i", Value: string(rune('a' + i))}, {Name: "job", Value: "node"}}})
		b.Samples = append(b.Samples, wire.Sample{ID: uint32(i), T: t, V: v + float64(i)})
	}
	return b
}

func TestV2StoreAndAck(t *testing.T) {
	sink := newMemSink()
	_, addr := startServer(t, Config{Sink: sink})
	c := dial(t, addr)
	if w := c.hello("a1"); w.LastSeq != 0 || w.HeartbeatInterval != 2*time.Second || w.Version != wire.ProtocolVersion {
		t.Fatalf("welcome %+v", w)
	}
	for seq := uint64(1); seq <= 3; seq++ {
		c.batch(seq, testBatch(3, int64(seq)*1000, float64(seq)))
		if got := c.ack(); got != seq {
			t.Fatalf("ack %d, want %d", got, seq)
		}
	}
	got := sink.Get(`{__name__="test_metric", i="b", job="node"}`)
	want := []store.Sample{{T: 1000, V: 2}, {T: 2000, V: 3}, {T: 3000, V: 4}}
	if len(got) != len(want) {
		t.Fatalf("stored %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("stored %v, want %v", got, want)
		}
	}
}

// TestV2ExactlyOnce reconnects and resends: what was acknowledged is
// reported in WELCOME and a resent batch is acknowledged, not stored again.
func TestV2ExactlyOnce(t *testing.T) {
	sink := newMemSink()
	_, addr := startServer(t, Config{Sink: sink})
	c := dial(t, addr)
	c.hello("a2")
	c.batch(1, testBatch(2, 1000, 1))
	c.batch(2, testBatch(2, 2000, 2))
	if c.ack() < 1 {
		t.Fatal("no ack")
	}
	c.c.Close()

	c2 := dial(t, addr)
	w := c2.hello("a2")
	if w.LastSeq != 2 {
		// The ACK of 2 may have come in a second frame; WELCOME must
		// report what is stored in any case.
		t.Fatalf("welcome last seq %d, want 2", w.LastSeq)
	}
	c2.batch(2, testBatch(2, 2000, 2)) // resent
	c2.batch(3, testBatch(2, 3000, 3))
	for a := c2.ack(); a < 3; a = c2.ack() {
	}
	if got := sink.Get(`{__name__="test_metric", i="a", job="node"}`); len(got) != 3 {
		t.Fatalf("stored %v, want 3 samples", got)
	}
}

func TestV2SplitBatch(t *testing.T) {
	sink := newMemSink()
	_, addr := startServer(t, Config{Sink: sink})
	c := dial(t, addr)
	c.hello("a3")
	b := testBatch(20, 5000, 0)
	out, err := c.enc.AppendBatch(nil, 1, b, 100)
	if err != nil {
		t.Fatal(err)
	}
	// Write the parts one by one so that the server sees a batch open.
	var d wire.Decoder
	d.Write(out)
	parts := 0
	for p, ok := d.Next(); ok; p, ok = d.Next() {
		c.send(p)
		parts++
	}
	if parts < 3 {
		t.Fatalf("only %d parts", parts)
	}
	if a := c.ack(); a != 1 {
		t.Fatalf("ack %d", a)
	}
	if got := sink.Get(`{__name__="test_metric", i="t", job="node"}`); len(got) != 1 || got[0].V != 19 {
		t.Fatalf("stored %v", got)
	}
}

func TestV2HeartbeatEcho(t *testing.T) {
	s, addr := startServer(t, Config{})
	c := dial(t, addr)
	c.hello("a4")
	c.send(wire.AppendHeartbeat(nil, &wire.Heartbeat{AgentTime: 42, RTT: 1000, Offset: -5e6}, false))
	hb, err := wire.DecodeHeartbeat(c.recv())
	if err != nil || hb.AgentTime != 42 || hb.ServerRecv == 0 || hb.ServerSend < hb.ServerRecv {
		t.Fatalf("echo %+v %v", hb, err)
	}
	for _, a := range s.Fleet().Agents() {
		if a.AgentID == "a4" && (a.ClockOffset != -0.005 || a.Instance != "i-a4" || !a.Up) {
			t.Fatalf("fleet row %+v", a)
		}
	}
}

func TestV2Refusals(t *testing.T) {
	auth := func(h *wire.Hello, _ net.Addr) error {
		if h.Token != "good" {
			return errors.New("bad token")
		}
		return nil
	}
	_, addr := startServer(t, Config{Auth: auth})
	cases := []struct {
		name  string
		first []byte
		code  wire.ErrorCode
	}{
		{"heartbeat before hello", wire.AppendHeartbeat(nil, &wire.Heartbeat{}, false), wire.CodeProtocol},
		{"bad token", wire.AppendHello(nil, &wire.Hello{Version: 2, AgentID: "x", Token: "bad"}), wire.CodeAuth},
		{"old version", wire.AppendHello(nil, &wire.Hello{Version: 1, AgentID: "x", Token: "good"}), wire.CodeVersion},
		{"no agent id", wire.AppendHello(nil, &wire.Hello{Version: 2, Token: "good"}), wire.CodeProtocol},
		{"unknown kind", []byte{0x42}, wire.CodeProtocol},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, addr)
			c.send(tc.first)
			e, err := wire.DecodeError(c.recv())
			if err != nil || e.Code != tc.code {
				t.Fatalf("got %+v (%v), want code %d", e, err, tc.code)
			}
			if p := c.recv(); p != nil {
				t.Fatalf("connection still open, got %x", p)
			}
		})
	}
}

func TestV2SequenceMustIncrease(t *testing.T) {
	_, addr := startServer(t, Config{})
	c := dial(t, addr)
	c.hello("a5")
	c.batch(5, testBatch(1, 1, 1))
	c.ack()
	c.batch(5, testBatch(1, 2, 2))
	e, err := wire.DecodeError(c.recv())
	if err != nil || e.Code != wire.CodeProtocol {
		t.Fatalf("got %+v %v", e, err)
	}
}

func TestShutdownSendsGoAway(t *testing.T) {
	sink := newMemSink()
	_, addr, shutdown := startServing(t, Config{Sink: sink})
	c := dial(t, addr)
	c.hello("a6")
	c.batch(1, testBatch(1, 1, 1))
	if c.ack() != 1 {
		t.Fatal("no ack")
	}
	drainExpectGoAway(t, shutdown, c)
}

func TestStorageFailureNotAcked(t *testing.T) {
	sink := newMemSink()
	sink.FailCommits(errors.New("disk full"))
	_, addr := startServer(t, Config{Sink: sink})
	c := dial(t, addr)
	c.hello("a7")
	c.batch(1, testBatch(1, 1, 1))
	e, err := wire.DecodeError(c.recv())
	if err != nil || e.Code != wire.CodeStorage {
		t.Fatalf("got %+v %v", e, err)
	}
}

// drainExpectGoAway shuts the server down (shutdown from serveOn, which
// checks that Shutdown succeeds and Serve ends with ErrServerClosed) and
// checks that c was told to go away.
func drainExpectGoAway(t *testing.T, shutdown func(), c *client) {
	t.Helper()
	shutdown()
	if _, err := wire.DecodeGoAway(c.recv()); err != nil {
		t.Fatalf("goaway: %v", err)
	}
}

// TestV2CountsEveryBatch sends three batches in one write, so that they are
// committed together, and a resent one: the stored counter counts batches,
// not commits.
func TestV2CountsEveryBatch(t *testing.T) {
	s, addr := startServer(t, Config{Sink: newMemSink()})
	c := dial(t, addr)
	c.hello("a3")
	var out []byte
	for seq := uint64(1); seq <= 3; seq++ {
		var err error
		if out, err = c.enc.AppendBatch(out, seq, testBatch(2, int64(seq)*1000, 1), 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.c.Write(out); err != nil {
		t.Fatal(err)
	}
	for a := c.ack(); a < 3; a = c.ack() {
	}
	if got := testutilCounter(s.m.batchStored); got != 3 {
		t.Fatalf("batches stored = %g, want 3", got)
	}
}
