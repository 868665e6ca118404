package server

import (
	"io"
	"math"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"hawk/internal/wire"
)

// pipeListener hands net.Pipe ends to Serve.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error   { l.once.Do(func() { close(l.done) }); return nil }
func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// FuzzSession feeds a byte stream to a whole server session, from the
// first byte to the end of the stream: framing, protocol detection, legacy,
// HELLO, batches, definitions, limits and commits. An even first byte puts
// a valid HELLO before the input, so the fuzzer reaches welcomed sessions
// at once. Properties: no panic, the session ends when the stream does,
// and every reply is a well-formed frame or a legacy line.
func FuzzSession(f *testing.F) {
	hello := frame(f, wire.AppendHello(nil, &wire.Hello{Version: 2, AgentID: "fz", Hostname: "h",
		Labels: []wire.Label{{Name: "job", Value: "node"}}}))
	enc := wire.NewEncoder()
	b1, _ := enc.AppendBatch(nil, 1, testBatch(3, 1700000000000, 1.5), 0)
	b2, _ := enc.AppendBatch(nil, 2, testBatch(3, 1700000010000, 2.25), 0)
	split, _ := wire.NewEncoder().AppendBatch(nil, 1, testBatch(20, 1700000000000, 0), 100)
	hb := frame(f, wire.AppendHeartbeat(nil, &wire.Heartbeat{AgentTime: 5}, false))
	for _, seed := range [][]byte{
		append([]byte{0}, append(b1, b2...)...),
		append([]byte{0}, split...),
		append([]byte{0}, hb...),
		append([]byte{1}, append(hello, b1...)...),
		append([]byte{1}, legacyFrame(f, 0, wire.LegacyHeartbeatContent{Version: "1.0", Timestamp: 1})...),
		append([]byte{1}, legacyFrame(f, 1, wire.LegacyReportContent{Content: "x", Rand: 1})...),
		append([]byte{0}, frame(f, oneSeries(1, 1, 0, 1700000000000, "m", "a", "1", "a", "2"))...),
		append([]byte{0}, frame(f, newBB(1, 1, 0).uv(1).def("m").uv(2).vi(1).uv(1).rawSample(0, 1).vi(5).uv(1).uv(3).uv(0x12).uv(7))...),
		// m{a=""} and m{}, one label set under two ids, sampled twice at
		// one timestamp: aliased series.
		append([]byte{0}, frame(f, newBB(1, 1, 0).uv(2).def("m", "a", "").def("m").uv(2).vi(1).uv(2).rawSample(0, 1).rawSample(0, 1).
			vi(0).uv(1).rawSample(1, 2))...),
		{1, 0xFF, 0xFF, 0x00},
	} {
		f.Add(seed)
	}
	s, err := New(Config{Sink: newMemSink(), MaxSeries: 64, MaxBatchSamples: 256, MaxSeriesPerAgent: 32,
		HandshakeTimeout: 2 * time.Second, StallTimeout: 50 * time.Millisecond, IdleTimeout: 2 * time.Second})
	if err != nil {
		f.Fatal(err)
	}
	ln := newPipeListener()
	serveOn(f, s, ln)
	f.Fuzz(func(t *testing.T, in []byte) { fuzzOne(t, ln, hello, in) })
}

// fuzzOne runs one input as a connection to the server behind ln.
func fuzzOne(t *testing.T, ln *pipeListener, hello, in []byte) {
	if len(in) == 0 {
		return
	}
	stream := in[1:]
	if in[0]%2 == 0 {
		stream = append(append([]byte(nil), hello...), stream...)
	}
	cli, srv := net.Pipe()
	defer cli.Close()
	cli.SetDeadline(time.Now().Add(10 * time.Second))
	select {
	case ln.conns <- srv:
	case <-time.After(10 * time.Second):
		t.Fatal("not accepted")
	}
	replies := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(cli)
		replies <- b
	}()
	cli.Write(stream) //nolint:errcheck // the server may close first
	cli.Close()
	out := <-replies
	checkReplies(t, out)
}

// checkReplies checks a session's output is v2 frames with known kinds,
// or legacy reply lines.
func checkReplies(t *testing.T, out []byte) {
	for len(out) > 0 {
		switch {
		case len(out) >= len(wire.LegacyHeartbeatReply) && string(out[:len(wire.LegacyHeartbeatReply)]) == wire.LegacyHeartbeatReply:
			out = out[len(wire.LegacyHeartbeatReply):]
		case len(out) >= len(wire.LegacyReportReply) && string(out[:len(wire.LegacyReportReply)]) == wire.LegacyReportReply:
			out = out[len(wire.LegacyReportReply):]
		case strings.HasPrefix(wire.LegacyHeartbeatReply, string(out)) || strings.HasPrefix(wire.LegacyReportReply, string(out)):
			return // cut short, as below
		default:
			var d wire.Decoder
			d.Write(out)
			p, ok := d.Next()
			if d.Stats().Skipped != 0 {
				t.Fatalf("reply is not a frame: %x", out[:min(len(out), 40)])
			}
			if !ok {
				return // cut short: the client closes the pipe, both ways, once it has written
			}
			if _, err := wire.PeekKind(p); err != nil {
				t.Fatalf("reply of unknown kind: %x", p)
			}
			out = out[wire.Overhead+len(p):]
			d.Release()
		}
	}
}

// FuzzHelloEnrolment runs sessions that open with a HELLO of fuzzed agent
// id and secret on a server that enrols agents, stamps identity labels and
// bounds unfinished batches, followed by fuzzed bytes: the paths of issue
// 17. One id is enrolled beforehand, so both its refusal and its
// acceptance are reachable. Properties as FuzzSession's.
func FuzzHelloEnrolment(f *testing.F) {
	enc := wire.NewEncoder()
	b1, _ := enc.AppendBatch(nil, 1, testBatch(3, 1700000000000, 1.5), 0)
	split, _ := wire.NewEncoder().AppendBatch(nil, 1, testBatch(40, 1700000000000, 0), 100)
	e, err := OpenEnrolments("", 100)
	if err != nil {
		f.Fatal(err)
	}
	const known = "enrolled"
	secret, err := e.enrol(known, "")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(known, secret, b1)
	f.Add(known, "", b1)
	f.Add("fresh", strings.Repeat("s", 40), split)
	f.Add("fresh", "", frame(f, oneSeries(1, math.MaxUint64, 0, 1700000000000, "up")))
	s, err := New(Config{Sink: newMemSink(), MaxSeries: 64, MaxBatchSamples: 256, MaxSeriesPerAgent: 32,
		HandshakeTimeout: 2 * time.Second, StallTimeout: 50 * time.Millisecond, IdleTimeout: 2 * time.Second,
		Enrolment: e, StampIdentity: true, MaxOpenBatchBytes: 2000, MaxSeqGap: 100, MaxSeriesTotal: 200})
	if err != nil {
		f.Fatal(err)
	}
	ln := newPipeListener()
	serveOn(f, s, ln)
	f.Fuzz(func(t *testing.T, id, secret string, rest []byte) {
		p := wire.AppendHello(nil, &wire.Hello{Version: 2, AgentID: id, Secret: secret,
			Labels: []wire.Label{{Name: "job", Value: "node"}}})
		hello, err := wire.AppendFrame(nil, p)
		if err != nil {
			return // larger than a frame
		}
		fuzzOne(t, ln, hello, append([]byte{0}, rest...))
	})
}
