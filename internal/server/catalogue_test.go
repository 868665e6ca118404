package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"math"
	"net"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"hawk/internal/metrictest"
	"hawk/internal/store"
	"hawk/internal/wire"
)

// The hostile-input catalogue of docs/security.md: one subtest per row,
// named as the row. Each row feeds one kind of bad input and checks the
// outcome the table promises: the reply or ERROR code, the counter, and
// whether the connection is kept (proved by a round trip after the bad
// input) or closed (proved by end of stream).

// cat is a server started for one catalogue row.
type cat struct {
	t    *testing.T
	s    *Server
	addr string
	sink *store.Memory
}

func newCat(t *testing.T, mod func(*Config)) *cat {
	t.Helper()
	sink := newMemSink()
	cfg := Config{Sink: sink, HandshakeTimeout: 5 * time.Second, StallTimeout: 200 * time.Millisecond,
		FrameTimeout: 3 * time.Second, MaxSeries: 1000, MaxBatchSamples: 1000}
	if mod != nil {
		mod(&cfg)
	}
	if cfg.Sink == nil {
		cfg.Sink = sink
	}
	s, addr := startServer(t, cfg)
	return &cat{t: t, s: s, addr: addr, sink: sink}
}

func (k *cat) errs(reason string) float64 {
	return testutilCounter(k.s.m.errors.WithLabelValues(reason))
}
func (k *cat) refused(reason string) float64 {
	return testutilCounter(k.s.m.connsRefused.WithLabelValues(reason))
}
func (k *cat) frames(outcome string) float64 {
	return testutilCounter(k.s.m.frames.WithLabelValues(outcome))
}
func (k *cat) legacy(typ string) float64 { return testutilCounter(k.s.m.legacy.WithLabelValues(typ)) }
func (k *cat) samples(outcome string) float64 {
	return testutilCounter(k.s.m.samples.WithLabelValues(outcome))
}

// want fails the row if a counter does not hold the value expected.
func (k *cat) want(what string, got, want float64) {
	k.t.Helper()
	if got != want {
		k.t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

// v2 dials and completes a handshake as agent id.
func (k *cat) v2(id string) *client {
	k.t.Helper()
	c := dial(k.t, k.addr)
	c.hello(id)
	return c
}

// raw writes bytes as they are.
func (c *client) raw(b []byte) {
	c.t.Helper()
	if _, err := c.c.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

func frame(t testing.TB, payload []byte) []byte {
	f, err := wire.AppendFrame(nil, payload)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// expectError reads an ERROR with code, then end of stream.
func (c *client) expectError(code wire.ErrorCode) string {
	c.t.Helper()
	p := c.recv()
	e, err := wire.DecodeError(p)
	if err != nil || e.Code != code {
		c.t.Fatalf("got %x (%+v, %v), want ERROR %d", p, e, err, code)
	}
	c.expectClosed()
	return e.Message
}

// expectClosed reads to the end of the stream and fails on any frame.
func (c *client) expectClosed() {
	c.t.Helper()
	if p := c.recv(); p != nil {
		c.t.Fatalf("connection still open: got %x", p)
	}
}

// alive proves a v2 connection is served: a heartbeat is echoed. ACKs on
// the way are returned.
func (c *client) alive() (acks []uint64) {
	c.t.Helper()
	c.send(wire.AppendHeartbeat(nil, &wire.Heartbeat{AgentTime: 7}, false))
	for range 100 {
		p := c.recv()
		if p == nil {
			c.t.Fatal("connection closed; want it kept")
		}
		switch k, _ := wire.PeekKind(p); k {
		case wire.KindHeartbeatEcho:
			return acks
		case wire.KindAck:
			a, _ := wire.DecodeAck(p)
			acks = append(acks, a.Seq)
		default:
			c.t.Fatalf("got %v %x, want HEARTBEAT_ECHO", k, p)
		}
	}
	c.t.Fatal("no echo")
	return nil
}

// rawConn is a connection without the v2 client around it.
func (k *cat) rawConn() net.Conn {
	k.t.Helper()
	c, err := net.Dial("tcp", k.addr)
	if err != nil {
		k.t.Fatal(err)
	}
	k.t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return c
}

// legacyAlive sends a legacy heartbeat and expects its line, and nothing
// before it.
func legacyAlive(t *testing.T, c net.Conn) {
	t.Helper()
	if _, err := c.Write(legacyFrame(t, 0, wire.LegacyHeartbeatContent{Version: "1.0", Timestamp: 1})); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(wire.LegacyHeartbeatReply))
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != wire.LegacyHeartbeatReply {
		t.Fatalf("reply %q (%v), want %q", buf, err, wire.LegacyHeartbeatReply)
	}
}

func expectEOF(t *testing.T, c net.Conn) {
	t.Helper()
	b, err := io.ReadAll(c)
	if err != nil || len(b) != 0 {
		t.Fatalf("read %q (%v), want a close and nothing", b, err)
	}
}

// bb builds BATCH payloads byte by byte, for batches no encoder would make.
type bb []byte

func newBB(flags byte, seq, part uint64) bb {
	b := bb{byte(wire.KindBatch), flags}
	b = binary.AppendUvarint(b, seq)
	return binary.AppendUvarint(b, part)
}

func (b bb) uv(v uint64) bb { return binary.AppendUvarint(b, v) }
func (b bb) vi(v int64) bb  { return binary.AppendVarint(b, v) }
func (b bb) str(s string) bb {
	return append(b.uv(uint64(len(s))), s...)
}

// def appends a gauge definition without help.
func (b bb) def(name string, labels ...string) bb {
	b = append(b, byte(wire.TypeGauge))
	b = b.str(name).str("").uv(uint64(len(labels) / 2))
	for _, l := range labels {
		b = b.str(l)
	}
	return b
}

// rawSample appends a sample with the head's id delta and a raw value.
func (b bb) rawSample(idDelta int64, v float64) bb {
	b = b.uv(uint64(idDelta<<1^idDelta>>63)<<3 | 4)
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
}

// oneSeries is a batch defining one series with one sample at t.
func oneSeries(flags byte, seq, part uint64, t int64, name string, labels ...string) []byte {
	return newBB(flags, seq, part).uv(1).def(name, labels...).uv(1).vi(t).uv(1).rawSample(0, 1)
}

func nowMs() int64 { return time.Now().UnixMilli() }

// stores checks a batch of one series is acknowledged and whether its
// sample was stored.
func (k *cat) stores(c *client, payload []byte, seq uint64, series string, stored bool) {
	k.t.Helper()
	c.send(payload)
	if a := c.ack(); a != seq {
		k.t.Fatalf("ack %d, want %d", a, seq)
	}
	got := k.sink.Get(series)
	if stored != (len(got) > 0) {
		k.t.Fatalf("series %s stored %v, want stored=%v", series, got, stored)
	}
	c.alive()
}

type catRow struct {
	name string
	run  func(t *testing.T)
}

// catalogue returns the rows, named as in docs/security.md.
func catalogue() []catRow {
	return slices.Concat(wireRows(), legacyRows(), v2Rows(), limitRows(), tlsRows(), trustRows(), tarpitRows(), fleetRows())
}

func TestCatalogue(t *testing.T) {
	for _, r := range catalogue() {
		t.Run(r.name, r.run)
	}
}

func wireRows() []catRow {
	hb := func(t testing.TB) []byte {
		return frame(t, wire.AppendHeartbeat(nil, &wire.Heartbeat{AgentTime: 1}, false))
	}
	return []catRow{
		{"wire/garbage_before_frame", func(t *testing.T) {
			k := newCat(t, nil)
			c := k.v2("a")
			c.raw([]byte("GET / HTTP/1.1\r\n\x00\xfe\xff"))
			c.alive()
			k.want("skipped bytes", testutilCounter(k.s.m.bytesSkipped), 19)
		}},
		{"wire/bad_crc", func(t *testing.T) {
			k := newCat(t, nil)
			c := k.v2("a")
			f := hb(t)
			f[len(f)-3] ^= 1
			c.raw(f)
			c.alive()
			k.want("bad_check frames", k.frames("bad_check"), 1)
		}},
		{"wire/bad_tail", func(t *testing.T) {
			k := newCat(t, nil)
			c := k.v2("a")
			f := hb(t)
			f[len(f)-1] = 0xFF
			c.raw(f)
			c.alive()
			k.want("bad_tail frames", k.frames("bad_tail"), 1)
		}},
		{"wire/len_up", func(t *testing.T) {
			k := newCat(t, nil)
			c := k.v2("a")
			f := hb(t)
			f[3] += 3
			c.raw(append(f, hb(t)...)) // the good frame behind must still be found
			c.alive()
			if k.frames("bad_tail")+k.frames("bad_check") < 1 {
				t.Fatal("corrupted length not counted")
			}
		}},
		{"wire/len_down", func(t *testing.T) {
			k := newCat(t, nil)
			c := k.v2("a")
			f := hb(t)
			f[3] -= 3
			c.raw(f)
			c.alive()
			if k.frames("bad_tail")+k.frames("bad_check") < 1 {
				t.Fatal("corrupted length not counted")
			}
		}},
		{"wire/len_zero_first", func(t *testing.T) {
			k := newCat(t, nil)
			c := dial(t, k.addr)
			c.raw(frame(t, nil)) // decides nothing
			c.hello("a")
			c.alive()
		}},
		{"wire/frame_64k_of_ff", func(t *testing.T) {
			k := newCat(t, nil)
			c := k.v2("a")
			c.raw(bytes.Repeat([]byte{0xFF}, 64<<10))
			c.raw(hb(t)) // found once the stall gives the 0xFF bytes up
			c.alive()
			if k.frames("stalled") < 1 {
				t.Fatal("stall not counted")
			}
		}},
		{"wire/payload_64k_of_ff", func(t *testing.T) {
			k := newCat(t, nil)
			c := k.v2("a")
			c.raw(frame(t, bytes.Repeat([]byte{0xFF}, wire.MaxPayload)))
			c.expectError(wire.CodeProtocol)
			k.want("protocol errors", k.errs("protocol_1"), 1)
		}},
		{"wire/byte_by_byte", func(t *testing.T) {
			k := newCat(t, nil)
			c := k.v2("a")
			for _, b := range hb(t) {
				c.raw([]byte{b})
				time.Sleep(5 * time.Millisecond) // the input pattern under test, not a synchronisation
			}
			if _, err := wire.DecodeHeartbeat(c.recv()); err != nil {
				t.Fatal(err)
			}
		}},
		{"wire/never_ending_frame", func(t *testing.T) {
			k := newCat(t, func(c *Config) { c.FrameTimeout = 500 * time.Millisecond })
			c := k.v2("a")
			c.raw([]byte{0xFF, 0xFF, 0x10, 0x00})
			start := time.Now()
			for i := 0; i < 200; i++ { // a byte every 50 ms: never stalls, never completes
				if _, err := c.c.Write([]byte{0x01}); err != nil {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			c.expectClosed()
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("closed after %v", d)
			}
			k.want("frame_timeout", k.errs("frame_timeout"), 1)
		}},
		{"wire/split_across_reads", func(t *testing.T) {
			k := newCat(t, nil)
			c := k.v2("a")
			out, err := c.enc.AppendBatch(nil, 1, testBatch(5, nowMs(), 1), 0)
			if err != nil {
				t.Fatal(err)
			}
			for i := range out { // split at every offset: one byte a write
				c.raw(out[i : i+1])
			}
			if a := c.ack(); a != 1 {
				t.Fatalf("ack %d", a)
			}
		}},
		{"wire/many_frames_one_read", func(t *testing.T) {
			k := newCat(t, nil)
			c := k.v2("a")
			var all []byte
			for range 200 {
				all = append(all, hb(t)...)
			}
			c.raw(all)
			for i := range 200 {
				if _, err := wire.DecodeHeartbeat(c.recv()); err != nil {
					t.Fatalf("echo %d: %v", i, err)
				}
			}
		}},
		{"wire/stalled_partial_frame", func(t *testing.T) {
			k := newCat(t, nil)
			c := k.v2("a")
			f := hb(t)
			c.raw(f[:len(f)/2]) // then silence beyond the stall timeout
			time.Sleep(400 * time.Millisecond)
			c.alive()
			if k.frames("stalled") < 1 {
				t.Fatal("stall not counted")
			}
		}},
	}
}

func legacyRows() []catRow {
	bad := func(name, payload, counter string) catRow {
		return catRow{name, func(t *testing.T) {
			k := newCat(t, nil)
			c := k.rawConn()
			legacyAlive(t, c)
			if _, err := c.Write(frame(t, []byte(payload))); err != nil {
				t.Fatal(err)
			}
			legacyAlive(t, c) // nothing answered the bad packet, the connection is kept
			k.want(counter, k.errs(counter), 1)
		}}
	}
	return []catRow{
		bad("legacy/malformed_json", `{"PacketType":0,"PacketContent":`, "legacy_malformed"),
		bad("legacy/unknown_type", `{"PacketType":7,"PacketContent":"e30="}`, "legacy_unknown_type"),
		bad("legacy/missing_packet_type", `{"PacketContent":"e30="}`, "legacy_malformed"),
		bad("legacy/base64_garbage", `{"PacketType":0,"PacketContent":"!!!not base64"}`, "legacy_malformed"),
		bad("legacy/content_not_json", `{"PacketType":1,"PacketContent":"bm90IGpzb24="}`, "legacy_malformed"),
		bad("legacy/content_wrong_types", `{"PacketType":1,"PacketContent":"eyJjb250ZW50IjoxLCJyYW5kIjoieCJ9"}`, "legacy_malformed"),
		bad("legacy/packet_type_out_of_range", `{"PacketType":300,"PacketContent":"e30="}`, "legacy_malformed"),
		{"legacy/v2_payload_on_legacy", func(t *testing.T) {
			k := newCat(t, nil)
			c := k.rawConn()
			legacyAlive(t, c)
			c.Write(frame(t, wire.AppendHello(nil, &wire.Hello{Version: 2, AgentID: "x"})))
			legacyAlive(t, c)
			k.want("legacy_non_json", k.errs("legacy_non_json"), 1)
		}},
		{"legacy/huge_content", func(t *testing.T) {
			k := newCat(t, nil)
			c := k.rawConn()
			f := legacyFrame(t, 1, wire.LegacyReportContent{Content: strings.Repeat("x", 40000), Rand: 1})
			c.Write(f)
			buf := make([]byte, len(wire.LegacyReportReply))
			if _, err := io.ReadFull(c, buf); err != nil || string(buf) != wire.LegacyReportReply {
				t.Fatalf("reply %q %v", buf, err)
			}
			legacyAlive(t, c)
			k.want("reports", k.legacy("report"), 1)
		}},
		{"legacy/disabled", func(t *testing.T) {
			k := newCat(t, func(c *Config) { c.DisableLegacy = true })
			c := k.rawConn()
			c.Write(legacyFrame(t, 0, wire.LegacyHeartbeatContent{Version: "1.0"}))
			expectEOF(t, c)
			k.want("refused legacy_disabled", k.refused("legacy_disabled"), 1)
		}},
		{"legacy/not_in_allowed_networks", func(t *testing.T) {
			k := newCat(t, func(c *Config) { c.LegacyAllow = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")} })
			c := k.rawConn()
			c.Write(legacyFrame(t, 0, wire.LegacyHeartbeatContent{Version: "1.0"}))
			expectEOF(t, c)
			k.want("refused legacy_not_allowed", k.refused("legacy_not_allowed"), 1)
		}},
		{"legacy/allowed_network", func(t *testing.T) {
			k := newCat(t, func(c *Config) { c.LegacyAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} })
			legacyAlive(t, k.rawConn())
		}},
		{"legacy/empty_frame_on_legacy", func(t *testing.T) {
			k := newCat(t, nil)
			c := k.rawConn()
			legacyAlive(t, c)
			c.Write(frame(t, nil))
			legacyAlive(t, c)
			k.want("legacy_non_json", k.errs("legacy_non_json"), 1)
		}},
	}
}

func v2Rows() []catRow {
	refuse := func(name string, mod func(*Config), first []byte, code wire.ErrorCode) catRow {
		return catRow{name, func(t *testing.T) {
			k := newCat(t, mod)
			c := dial(t, k.addr)
			c.send(first)
			c.expectError(code)
			k.want("errors", k.errs("protocol_"+itoa(int(code))), 1)
		}}
	}
	after := func(name string, mod func(*Config), next []byte, code wire.ErrorCode) catRow {
		return catRow{name, func(t *testing.T) {
			k := newCat(t, mod)
			c := k.v2("a")
			c.send(next)
			c.expectError(code)
			k.want("errors", k.errs("protocol_"+itoa(int(code))), 1)
		}}
	}
	hello := func(h wire.Hello) []byte { h.Version = 2; return wire.AppendHello(nil, &h) }
	auth := func(c *Config) { c.Auth = TokenAuth("s3cret", map[string]string{"b": "b-token"}) }
	manyLabels := make([]wire.Label, 100)
	for i := range manyLabels {
		manyLabels[i] = wire.Label{Name: "l" + itoa(i), Value: "v"}
	}
	hugeCount := append([]byte{byte(wire.KindHello), 2, 1, 'x', 0, 0}, binary.AppendUvarint(nil, 1<<40)...)
	mt := nowMs()
	return []catRow{
		refuse("v2/unknown_kind", nil, []byte{0x42, 1, 2}, wire.CodeProtocol),
		refuse("v2/kind_zero", nil, []byte{0x00}, wire.CodeProtocol),
		refuse("v2/batch_before_hello", nil, oneSeries(1, 1, 0, mt, "m"), wire.CodeProtocol),
		refuse("v2/heartbeat_before_hello", nil, wire.AppendHeartbeat(nil, &wire.Heartbeat{}, false), wire.CodeProtocol),
		after("v2/second_hello", nil, hello(wire.Hello{AgentID: "a"}), wire.CodeProtocol),
		refuse("v2/hello_huge_label_count", nil, hugeCount, wire.CodeProtocol),
		refuse("v2/hello_too_many_labels", nil, hello(wire.Hello{AgentID: "a", Labels: manyLabels}), wire.CodeLimit),
		refuse("v2/hello_label_too_long", nil, hello(wire.Hello{AgentID: "a", Labels: []wire.Label{{Name: "k", Value: strings.Repeat("v", 5000)}}}), wire.CodeLimit),
		refuse("v2/hello_hostname_not_utf8", nil, hello(wire.Hello{AgentID: "a", Hostname: "\xff\xfe"}), wire.CodeProtocol),
		refuse("v2/empty_agent_id", nil, hello(wire.Hello{}), wire.CodeProtocol),
		refuse("v2/agent_id_too_long", nil, hello(wire.Hello{AgentID: strings.Repeat("a", 129)}), wire.CodeProtocol),
		refuse("v2/agent_id_not_utf8", nil, hello(wire.Hello{AgentID: "a\xc3\x28"}), wire.CodeProtocol),
		refuse("v2/bad_token", auth, hello(wire.Hello{AgentID: "a", Token: "guess"}), wire.CodeAuth),
		refuse("v2/no_token", auth, hello(wire.Hello{AgentID: "a"}), wire.CodeAuth),
		refuse("v2/other_agents_token", auth, hello(wire.Hello{AgentID: "c", Token: "b-token"}), wire.CodeAuth),
		{"v2/token_accepted", func(t *testing.T) {
			k := newCat(t, auth)
			for _, h := range []wire.Hello{{AgentID: "a", Token: "s3cret"}, {AgentID: "b", Token: "b-token"}} {
				c := dial(t, k.addr)
				c.send(hello(h))
				if _, err := wire.DecodeWelcome(c.recv()); err != nil {
					t.Fatalf("%s: %v", h.AgentID, err)
				}
			}
			k.want("refused auth", k.refused("auth"), 0)
		}},
		refuse("v2/old_version", nil, wire.AppendHello(nil, &wire.Hello{Version: 1, AgentID: "a"}), wire.CodeVersion),
		refuse("v2/truncated_hello", nil, hello(wire.Hello{AgentID: "agent"})[:4], wire.CodeProtocol),
		after("v2/truncated_heartbeat", nil, wire.AppendHeartbeat(nil, &wire.Heartbeat{AgentTime: 1 << 60}, false)[:5], wire.CodeProtocol),
		after("v2/truncated_batch", nil, oneSeries(1, 1, 0, mt, "m")[:9], wire.CodeProtocol),
		after("v2/empty_message", nil, []byte{}, wire.CodeProtocol),
		after("v2/welcome_from_agent", nil, wire.AppendWelcome(nil, &wire.Welcome{}), wire.CodeProtocol),
		after("v2/ack_from_agent", nil, wire.AppendAck(nil, wire.Ack{Seq: 1}), wire.CodeProtocol),
		after("v2/undefined_series_id", nil, newBB(1, 1, 0).uv(0).uv(1).vi(mt).uv(1).rawSample(5, 1), wire.CodeProtocol),
		after("v2/reserved_value_mode", nil, newBB(1, 1, 0).uv(1).def("m").uv(1).vi(mt).uv(1).uv(5), wire.CodeProtocol),
		after("v2/bad_xor_length", nil, newBB(1, 1, 0).uv(1).def("m").uv(1).vi(mt).uv(1).uv(3).uv(0x44), wire.CodeProtocol),
		after("v2/unknown_flags", nil, oneSeries(0x81, 1, 0, mt, "m"), wire.CodeProtocol),
		after("v2/sequence_zero", nil, oneSeries(1, 0, 0, mt, "m"), wire.CodeProtocol),
		after("v2/first_part_not_zero", nil, oneSeries(1, 1, 1, mt, "m"), wire.CodeProtocol),
		after("v2/def_count_beyond_payload", nil, newBB(1, 1, 0).uv(1<<30), wire.CodeProtocol),
		{"v2/sequence_backward", func(t *testing.T) {
			k := newCat(t, nil)
			c := k.v2("a")
			k.stores(c, oneSeries(1, 5, 0, mt, "m"), 5, `{__name__="m"}`, true)
			c.send(oneSeries(1, 4, 0, mt+1, "m2"))
			c.expectError(wire.CodeProtocol)
		}},
		{"v2/part_out_of_order", func(t *testing.T) {
			k := newCat(t, nil)
			c := k.v2("a")
			c.send(oneSeries(0, 1, 0, mt, "m"))
			c.send(oneSeries(1, 1, 2, mt, "m2"))
			c.expectError(wire.CodeProtocol)
			if len(agentSeries(k.sink)) != 0 {
				t.Fatalf("incomplete batch stored: %v", agentSeries(k.sink))
			}
		}},
		{"v2/batch_interleaved", func(t *testing.T) {
			k := newCat(t, nil)
			c := k.v2("a")
			c.send(oneSeries(0, 1, 0, mt, "m"))
			c.send(oneSeries(1, 2, 0, mt, "m2"))
			c.expectError(wire.CodeProtocol)
		}},
		{"v2/error_from_agent", func(t *testing.T) {
			k := newCat(t, nil)
			c := k.v2("a")
			c.send(wire.AppendError(nil, &wire.Error{Code: wire.CodeInternal, Message: "bye"}))
			c.expectClosed()
		}},
		{"v2/invalid_metric_name", func(t *testing.T) {
			k := newCat(t, nil)
			c := k.v2("a")
			k.stores(c, oneSeries(1, 1, 0, mt, "", "job", "x"), 1, `{job="x"}`, false)
			k.want("invalid_series", k.errs("invalid_series"), 1)
		}},
		{"v2/metric_name_not_utf8", func(t *testing.T) {
			k := newCat(t, nil)
			c := k.v2("a")
			k.stores(c, oneSeries(1, 1, 0, mt, "m\xff", "job", "x"), 1, `{job="x"}`, false)
			k.want("invalid_series", k.errs("invalid_series"), 1)
		}},
		{"v2/duplicate_label_names", func(t *testing.T) {
			k := newCat(t, nil)
			c := k.v2("a")
			k.stores(c, oneSeries(1, 1, 0, mt, "m", "a", "1", "a", "2"), 1, `{__name__="m"}`, false)
			k.want("invalid_series", k.errs("invalid_series"), 1)
		}},
		{"v2/name_label_among_labels", func(t *testing.T) {
			k := newCat(t, nil)
			c := k.v2("a")
			k.stores(c, oneSeries(1, 1, 0, mt, "m", "__name__", "other"), 1, `{__name__="m"}`, false)
			k.want("invalid_series", k.errs("invalid_series"), 1)
		}},
		{"v2/empty_label_name", func(t *testing.T) {
			k := newCat(t, nil)
			c := k.v2("a")
			k.stores(c, oneSeries(1, 1, 0, mt, "m", "", "v"), 1, `{__name__="m"}`, false)
			k.want("invalid_series", k.errs("invalid_series"), 1)
		}},
		{"v2/label_value_not_utf8", func(t *testing.T) {
			k := newCat(t, nil)
			c := k.v2("a")
			k.stores(c, oneSeries(1, 1, 0, mt, "m", "k", "\xc3\x28"), 1, `{__name__="m"}`, false)
			k.want("invalid_series", k.errs("invalid_series"), 1)
		}},
		{"v2/nan_and_inf_values", func(t *testing.T) {
			k := newCat(t, nil)
			c := k.v2("a")
			b := newBB(1, 1, 0).uv(3).def("m", "v", "nan").def("m", "v", "pinf").def("m", "v", "ninf").
				uv(1).vi(mt).uv(3).rawSample(0, math.NaN()).rawSample(0, math.Inf(1)).rawSample(0, math.Inf(-1))
			c.send(b)
			if c.ack() != 1 {
				t.Fatal("no ack")
			}
			for v, check := range map[string]func(float64) bool{
				"nan": math.IsNaN, "pinf": func(f float64) bool { return math.IsInf(f, 1) }, "ninf": func(f float64) bool { return math.IsInf(f, -1) }} {
				got := k.sink.Get(`{__name__="m", v="` + v + `"}`)
				if len(got) != 1 || !check(got[0].V) {
					t.Fatalf("%s stored as %v", v, got)
				}
			}
		}},
		{"v2/timestamp_far_future", func(t *testing.T) {
			k := newCat(t, nil)
			c := k.v2("a")
			k.stores(c, oneSeries(1, 1, 0, nowMs()+int64(time.Hour/time.Millisecond), "m"), 1, `{__name__="m"}`, false)
			k.want("timestamp_future", k.errs("timestamp_future"), 1)
			k.stores(k.v2("b"), oneSeries(1, 1, 0, nowMs()+int64(time.Minute/time.Millisecond), "m2"), 1, `{__name__="m2"}`, true)
		}},
		{"v2/timestamp_too_old", func(t *testing.T) {
			db, err := store.OpenTSDB(store.TSDBOptions{Dir: t.TempDir(), Retention: 24 * time.Hour, OutOfOrderWindow: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			k := newCat(t, func(c *Config) { c.Sink = db })
			c := k.v2("a")
			c.send(oneSeries(1, 1, 0, nowMs(), "m"))
			c.ack()
			c.send(newBB(1, 2, 0).uv(0).uv(1).vi(nowMs()-int64(3*time.Hour/time.Millisecond)).uv(1).rawSample(0, 2))
			if a := c.ack(); a != 2 {
				t.Fatalf("ack %d", a)
			}
			c.alive()
			k.want("rejected samples", k.samples("rejected"), 1)
		}},
		{"v2/duplicate_batch_resent", func(t *testing.T) {
			k := newCat(t, nil)
			c := k.v2("a")
			k.stores(c, oneSeries(1, 1, 0, mt, "m"), 1, `{__name__="m"}`, true)
			c.c.Close()
			c = k.v2("a")
			c.send(oneSeries(1, 1, 0, mt, "m")) // resent after a reconnect: WELCOME said 1 is stored
			k.stores(c, newBB(1, 2, 0).uv(0).uv(1).vi(mt+1).uv(1).rawSample(0, 2), 2, `{__name__="m"}`, true)
			if got := k.sink.Get(`{__name__="m"}`); len(got) != 2 || got[0].V != 1 || got[1].V != 2 {
				t.Fatalf("stored %v, want each batch once", got)
			}
			k.want("duplicate samples", k.samples("duplicate"), 1)
		}},
		{"v2/duplicate_agent_id", func(t *testing.T) {
			k := newCat(t, nil)
			c1 := k.v2("dup")
			k.stores(c1, oneSeries(1, 1, 0, mt, "m"), 1, `{__name__="m"}`, true)
			c2 := k.v2("dup")
			c1.expectError(wire.CodeDuplicate)
			k.stores(c2, oneSeries(1, 2, 0, mt+1, "m"), 2, `{__name__="m"}`, true)
		}},
	}
}

func limitRows() []catRow {
	mt := nowMs()
	return []catRow{
		{"limit/dictionary_overflow", func(t *testing.T) {
			k := newCat(t, func(c *Config) { c.MaxSeries = 3 })
			c := k.v2("a")
			c.batch(1, testBatch(4, mt, 1))
			c.expectError(wire.CodeLimit)
			k.want("limit errors", k.errs("protocol_4"), 1)
		}},
		{"limit/dictionary_bytes", func(t *testing.T) {
			k := newCat(t, func(c *Config) { c.MaxDictBytes = 10000 })
			c := k.v2("a")
			c.send(oneSeries(1, 1, 0, mt, "m", "k", strings.Repeat("v", 4000)))
			c.ack()
			c.send(newBB(1, 2, 0).uv(3).def("m", "k", strings.Repeat("w", 4000)).def("m", "k", strings.Repeat("x", 4000)).
				def("m", "k", strings.Repeat("y", 4000)).uv(0))
			c.expectError(wire.CodeLimit)
			k.want("limit errors", k.errs("protocol_4"), 1)
		}},
		{"limit/batch_over_max_samples", func(t *testing.T) {
			k := newCat(t, func(c *Config) { c.MaxBatchSamples = 3 })
			c := k.v2("a")
			c.batch(1, testBatch(4, mt, 1))
			c.expectError(wire.CodeLimit)
			if len(agentSeries(k.sink)) != 0 {
				t.Fatal("over-limit batch stored")
			}
		}},
		{"limit/label_too_long", func(t *testing.T) {
			k := newCat(t, nil)
			c := k.v2("a")
			k.stores(c, oneSeries(1, 1, 0, mt, "m", "k", strings.Repeat("v", 5000)), 1, `{__name__="m"}`, false)
			k.want("label_too_long", k.errs("label_too_long"), 1)
		}},
		{"limit/label_name_too_long", func(t *testing.T) {
			k := newCat(t, nil)
			c := k.v2("a")
			k.stores(c, oneSeries(1, 1, 0, mt, "m", strings.Repeat("k", 300), "v"), 1, `{__name__="m"}`, false)
			k.want("label_too_long", k.errs("label_too_long"), 1)
		}},
		{"limit/too_many_labels", func(t *testing.T) {
			k := newCat(t, func(c *Config) { c.MaxLabels = 4 })
			c := k.v2("a")
			k.stores(c, oneSeries(1, 1, 0, mt, "m", "a", "1", "b", "1", "c", "1", "d", "1", "e", "1"), 1, `{__name__="m"}`, false)
			k.want("too_many_labels", k.errs("too_many_labels"), 1)
		}},
		{"limit/series_per_agent", func(t *testing.T) {
			k := newCat(t, func(c *Config) { c.MaxSeriesPerAgent = 4 })
			c := k.v2("a")
			c.batch(1, testBatch(3, mt, 1)) // i=a,b,c
			c.ack()
			c.c.Close()
			c = k.v2("a") // a new connection: the guard remembers the agent's series
			b := testBatch(6, mt+1, 1)
			c.batch(2, b) // a,b,c known; d admitted; e,f refused
			c.ack()
			c.alive()
			if got := len(agentSeries(k.sink)); got != 4 {
				t.Fatalf("%d series stored, want 4: %v", got, agentSeries(k.sink))
			}
			k.want("series_limit", k.errs("series_limit"), 2)
			other := k.v2("b") // another agent has its own budget
			other.batch(1, testBatch(4, mt, 1))
			other.ack()
		}},
		{"limit/connections_per_address", func(t *testing.T) {
			k := newCat(t, func(c *Config) { c.MaxConnsPerAddr = 3 })
			for i := range 3 {
				k.v2("a" + itoa(i))
			}
			extra := k.rawConn()
			expectEOF(t, extra)
			k.want("refused per address", k.refused("max_connections_per_address"), 1)
		}},
		{"limit/agent_id_flood", func(t *testing.T) {
			k := newCat(t, func(c *Config) { c.MaxAgents = 3 })
			for i := range 3 {
				c := k.v2("a" + itoa(i))
				c.c.Close()
			}
			c := dial(t, k.addr)
			c.send(wire.AppendHello(nil, &wire.Hello{Version: 2, AgentID: "a-new"}))
			c.expectError(wire.CodeOverload)
			k.want("refused max_agents", k.refused("max_agents"), 1)
			k.v2("a1").alive() // a known agent still gets in
		}},
		{"limit/connections_total", func(t *testing.T) {
			k := newCat(t, func(c *Config) { c.MaxConns = 2 })
			k.v2("a")
			k.v2("b")
			expectEOF(t, k.rawConn())
			k.want("refused total", k.refused("max_connections"), 1)
		}},
		{"limit/handshake_timeout_silent", func(t *testing.T) {
			k := newCat(t, func(c *Config) { c.HandshakeTimeout = 300 * time.Millisecond })
			c := dial(t, k.addr)
			c.expectClosed()
			k.want("handshake_timeout", k.errs("handshake_timeout"), 1)
		}},
		{"limit/slowloris_handshake", func(t *testing.T) {
			k := newCat(t, func(c *Config) { c.HandshakeTimeout = 500 * time.Millisecond })
			c := dial(t, k.addr)
			h := frame(t, wire.AppendHello(nil, &wire.Hello{Version: 2, AgentID: "slow"}))
			start := time.Now()
			for _, b := range h[:len(h)-1] { // never quite a HELLO
				if _, err := c.c.Write([]byte{b}); err != nil {
					break
				}
				time.Sleep(40 * time.Millisecond)
			}
			c.expectClosed()
			if d := time.Since(start); d > 3*time.Second {
				t.Fatalf("closed after %v", d)
			}
			k.want("handshake_timeout", k.errs("handshake_timeout"), 1)
		}},
		{"limit/idle_timeout", func(t *testing.T) {
			k := newCat(t, func(c *Config) { c.IdleTimeout = 300 * time.Millisecond })
			c := k.v2("a")
			c.expectClosed()
			k.want("idle timeout", k.errs("timeout"), 1)
		}},
		{"limit/garbage_trickle_before_handshake", func(t *testing.T) {
			k := newCat(t, func(c *Config) { c.HandshakeTimeout = 300 * time.Millisecond })
			c := dial(t, k.addr)
			for range 40 { // garbage never forms a frame
				if _, err := c.c.Write([]byte("x")); err != nil {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			c.expectClosed()
			k.want("handshake_timeout", k.errs("handshake_timeout"), 1)
		}},
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestCatalogueDocumented keeps docs/security.md and the catalogue in
// step: every row there names a subtest here, and every subtest has a row.
func TestCatalogueDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/security.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("`TestCatalogue/([^`]+)`").FindAllStringSubmatch(string(doc), -1) {
		documented[m[1]] = true
	}
	for _, r := range catalogue() {
		if !documented[r.name] {
			t.Errorf("row %s is not in docs/security.md", r.name)
		}
		delete(documented, r.name)
	}
	for name := range documented {
		t.Errorf("docs/security.md names TestCatalogue/%s, which does not exist", name)
	}
	if n := len(catalogue()); n < 40 {
		t.Errorf("only %d rows", n)
	}
}

// trustRows are the rows of issue 17: agent identity, labels the session
// owns, and bounded resources.
func trustRows() []catRow {
	hello := func(h wire.Hello) []byte { h.Version = 2; return wire.AppendHello(nil, &h) }
	// refused checks that HELLO h gets ERROR code and the refusal is counted.
	refused := func(k *cat, h wire.Hello, code wire.ErrorCode, reason string) {
		k.t.Helper()
		c := dial(k.t, k.addr)
		c.send(hello(h))
		c.expectError(code)
		k.want("refused "+reason, k.refused(reason), 1)
	}
	// welcome sends HELLO h and returns the WELCOME, keeping the connection.
	welcome := func(k *cat, h wire.Hello) (*client, wire.Welcome) {
		k.t.Helper()
		c := dial(k.t, k.addr)
		c.send(hello(h))
		w, err := wire.DecodeWelcome(c.recv())
		if err != nil {
			k.t.Fatalf("%s: %v", h.AgentID, err)
		}
		return c, w
	}
	enrolling := func(c *Config) {
		e, err := OpenEnrolments("", 0)
		if err != nil {
			panic(err)
		}
		c.Enrolment = e
	}
	mt := nowMs()
	return []catRow{
		{"trust/impostor_without_secret", func(t *testing.T) {
			k := newCat(t, enrolling)
			c, w := welcome(k, wire.Hello{AgentID: "a"})
			if len(w.Secret) != 64 {
				t.Fatalf("first HELLO: secret %q issued, want 64 hex digits", w.Secret)
			}
			k.stores(c, oneSeries(1, 1, 0, mt, "m"), 1, `{__name__="m"}`, true)
			refused(k, wire.Hello{AgentID: "a"}, wire.CodeAuth, "enrolment")
			c.alive() // the real agent was not kicked
			c.c.Close()
			c, w2 := welcome(k, wire.Hello{AgentID: "a", Secret: w.Secret})
			if w2.Secret != "" || w2.LastSeq != 1 {
				t.Fatalf("second HELLO: secret %q, last seq %d; want none, 1", w2.Secret, w2.LastSeq)
			}
			c.alive()
		}},
		{"trust/impostor_wrong_secret", func(t *testing.T) {
			k := newCat(t, enrolling)
			c, _ := welcome(k, wire.Hello{AgentID: "a"})
			k.stores(c, oneSeries(1, 5, 0, mt, "m"), 5, `{__name__="m"}`, true)
			refused(k, wire.Hello{AgentID: "a", Secret: strings.Repeat("0", 64)}, wire.CodeAuth, "enrolment")
			c.alive()
			if got := k.s.cfg.Sequences.Last("a"); got != 5 {
				t.Fatalf("stored sequence %d, want 5", got)
			}
		}},
		{"trust/secret_from_another_server", func(t *testing.T) {
			k := newCat(t, enrolling)
			own := strings.Repeat("ab", 32)
			c, w := welcome(k, wire.Hello{AgentID: "a", Secret: own})
			if w.Secret != "" {
				t.Fatalf("issued %q to an agent that brought its secret", w.Secret)
			}
			c.c.Close()
			refused(k, wire.Hello{AgentID: "a"}, wire.CodeAuth, "enrolment")
			welcome(k, wire.Hello{AgentID: "a", Secret: own})
		}},
		{"trust/re_enrolment", func(t *testing.T) {
			k := newCat(t, enrolling)
			c, _ := welcome(k, wire.Hello{AgentID: "a"})
			c.c.Close()
			if ok, err := k.s.cfg.Enrolment.Forget("a"); !ok || err != nil {
				t.Fatalf("forget: %v %v", ok, err)
			}
			_, w := welcome(k, wire.Hello{AgentID: "a"}) // the reinstalled host, without its old secret
			if len(w.Secret) != 64 {
				t.Fatalf("re-enrolment issued %q", w.Secret)
			}
		}},
		{"trust/other_agents_series", func(t *testing.T) {
			k := newCat(t, func(c *Config) { c.StampIdentity = true })
			c := k.v2("a") // HELLO: job node, instance i-a
			c.send(newBB(1, 1, 0).uv(2).def("node_load1", "agent_id", "b", "instance", "host-b", "job", "other").
				def("hawk_agent_up", "agent_id", "b").uv(2).vi(mt).uv(1).rawSample(0, 999).vi(0).uv(1).rawSample(1, 0))
			if a := c.ack(); a != 1 {
				t.Fatalf("ack %d", a)
			}
			c.alive()
			want := `{__name__="node_load1", agent_id="a", instance="i-a", job="node"}`
			if got := agentSeries(k.sink); len(got) != 1 || got[0] != want {
				t.Fatalf("stored %q, want only %s", got, want)
			}
			k.want("reserved_series", k.errs("reserved_series"), 1)
		}},
		{"trust/local_target", func(t *testing.T) {
			k := newCat(t, func(c *Config) { c.StampIdentity = true })
			c := k.v2("a") // HELLO: job node, instance i-a
			c.send(newBB(1, 1, 0).uv(3).def("up", "instance", "i-a:9104", "job", "mysql").
				def("mysql_up", "instance", "i-a:9104", "job", "mysql", "agent_id", "b").
				def("up", "instance", "host-b:9100", "job", "node").
				uv(3).vi(mt).uv(1).rawSample(0, 1).vi(0).uv(1).rawSample(1, 1).vi(0).uv(1).rawSample(2, 0))
			if a := c.ack(); a != 1 {
				t.Fatalf("ack %d", a)
			}
			c.alive()
			var got []string // without the server's own up and hawk_agent_* (no agent_id on up)
			for _, s := range k.sink.Series() {
				if !strings.HasPrefix(s, `{__name__="hawk_agent_`) && !strings.HasPrefix(s, `{__name__="up", instance=`) {
					got = append(got, s)
				}
			}
			slices.Sort(got)
			want := []string{
				`{__name__="mysql_up", agent_id="a", instance="i-a:9104", job="mysql"}`,
				`{__name__="up", agent_id="a", instance="i-a:9104", job="mysql"}`,
			}
			if !slices.Equal(got, want) {
				t.Fatalf("stored %q, want %q", got, want)
			}
			k.want("reserved_series", k.errs("reserved_series"), 1) // up of another host's target
		}},
		{"trust/honor_labels", func(t *testing.T) {
			k := newCat(t, func(c *Config) { c.StampIdentity, c.HonorLabels = true, true })
			c := k.v2("a")
			k.stores(c, oneSeries(1, 1, 0, mt, "m", "agent_id", "b", "instance", "host-b"), 1,
				`{__name__="m", agent_id="a", instance="host-b"}`, true)
		}},
		{"trust/series_total", func(t *testing.T) {
			k := newCat(t, func(c *Config) { c.MaxSeriesPerAgent, c.MaxSeriesTotal, c.StampIdentity = 4, 6, true })
			a := k.v2("a")
			a.batch(1, testBatch(4, mt, 1))
			a.ack()
			b := k.v2("b") // within its own limit, but past the server's
			b.batch(1, testBatch(4, mt, 2))
			b.ack()
			b.alive()
			if got := len(agentSeries(k.sink)); got != 6 {
				t.Fatalf("%d series stored, want 6: %v", got, agentSeries(k.sink))
			}
			k.want("series_limit_global", k.errs("series_limit_global"), 2)
		}},
		{"trust/series_past_limit_held_small", func(t *testing.T) {
			// An agent defines 20,000 new series against -max-series 10: the
			// 19,990 refused definitions keep their ids (the dictionaries stay
			// in step, their samples are dropped and counted) but hardly any
			// memory, in the session's dictionary and the agent's guard.
			const limit, batches, per = 10, 10, 2000
			k := newCat(t, func(c *Config) {
				c.MaxSeries, c.MaxBatchSamples, c.MaxSeriesTotal, c.StampIdentity = 1<<20, per, limit, true
			})
			a := k.v2("a")
			for seq := uint64(1); seq <= batches; seq++ {
				b := &wire.Batch{}
				for j := range per {
					b.Defs = append(b.Defs, wire.SeriesDef{Type: wire.TypeGauge, Name: "flood",
						Help: "a series of the flood", Labels: []wire.Label{{Name: "s", Value: strconv.Itoa(int(seq)*per + j)}}})
					b.Samples = append(b.Samples, wire.Sample{ID: uint32(j), T: mt, V: 1})
				}
				a.batch(seq, b)
				if got := a.ack(); got != seq {
					t.Fatalf("ack %d, want %d", got, seq)
				}
			}
			a.alive()
			const n = batches * per
			if got := len(agentSeries(k.sink)); got != limit {
				t.Fatalf("%d series stored, want %d", got, limit)
			}
			k.want("series_limit_global", k.errs("series_limit_global"), n-limit)
			// 12 bytes an id (its index and the wire.Dict's last value),
			// room for the slices' growth, and 1 KiB a kept series.
			if held, most := testutilGauge(k.s.m.dictBytes), float64(20*n+1024*limit); held > most {
				t.Fatalf("the dictionary holds %.0f bytes for %d definitions, %d kept; want at most %.0f", held, n, limit, most)
			}
			if got := guardLen(k.s, "a"); got != limit {
				t.Fatalf("agent a's series guard holds %d series, want the %d stored", got, limit)
			}
		}},
		{"trust/refused_definitions_paced", func(t *testing.T) {
			k := newCat(t, func(c *Config) {
				c.MaxSeries, c.MaxBatchSamples, c.MaxSeriesTotal, c.MaxRefusedSeriesRate = 1<<20, 10000, 1, 1000
				c.HandshakeTimeout = 2 * time.Second // a reconnecting f waits this long for its old session
			})
			g := k.v2("g")
			g.batch(1, testBatch(1, mt, 1)) // g's series: the one the server has room for
			g.ack()
			f := k.v2("f")
			f.batch(1, floodBatch(0, 2000, mt)) // 2,000 refused: 1 s past the burst of 1,000
			g.batch(2, testBatch(1, mt+1, 2))   // accepted definitions are not paced
			if got := g.ack(); got != 2 {
				t.Fatalf("g: ack %d", got)
			}
			if got := f.ack(); got != 1 {
				t.Fatalf("f: ack %d", got)
			}
			k.want("seconds waited", testutilCounter(k.s.m.refusalWait), 1)
			k.want("series_limit_global", k.errs("series_limit_global"), 2000)
			if got := len(k.sink.Get(`{__name__="test_metric", i="a", job="node"}`)); got != 2 {
				t.Fatalf("%d samples of g stored, want 2", got)
			}
			// 6,000 more owe more than refusalMaxWait (5 s); f reconnecting
			// ends its old session's wait within g's handshake timeout.
			f.batch(2, floodBatch(1, 6000, mt))
			waitFor(t, "f's session waiting", func() bool { return testutilCounter(k.s.m.refusalWait) > 1 })
			f2 := dial(t, k.addr)
			if w := f2.hello("f"); w.LastSeq != 1 {
				t.Fatalf("f reconnected: last seq %d, want 1", w.LastSeq)
			}
		}},
		{"trust/open_batch_bytes", func(t *testing.T) {
			k := newCat(t, func(c *Config) { c.MaxOpenBatchBytes = 10000 })
			c := k.v2("a")
			parts := batchParts(t, c, 1, oneSeriesSamples(1000, mt))
			c.raw(bytes.Join(parts[:len(parts)-1], nil)) // one write: the server closes part way
			c.expectError(wire.CodeLimit)
			k.want("open_batch_bytes", k.errs("open_batch_bytes"), 1)
			k.want("bytes held", float64(k.s.openBatchBytes.Load()), 0)
		}},
		{"trust/open_batch_bytes_total", func(t *testing.T) {
			// A part leaving its batch unfinished reserves 48 bytes per
			// payload byte before it is decoded: a's 1,000-byte parts fit
			// the limit, and b's 2,000-byte ones would alone.
			const limit = 100000
			k := newCat(t, func(c *Config) { c.MaxOpenBatchBytes, c.MaxOpenBatchBytesTotal = 1<<20, limit })
			a, b := k.v2("a"), k.v2("b")
			pa := batchParts(t, a, 1, oneSeriesSamples(1000, mt))
			pb := batchPartsOf(t, b, 1, oneSeriesSamples(1000, mt), 2000)
			for _, p := range pa[:len(pa)-1] {
				a.raw(p)
			}
			a.alive() // a's parts are read
			if held, most := k.s.openBatchBytes.Load(), int64(2*len(pb[0])*24); most > limit || held+most <= limit {
				t.Fatalf("a holds %d bytes, b's first part reserves up to %d: not past the limit %d together only", held, most, limit)
			}
			b.raw(bytes.Join(pb, nil))
			b.expectError(wire.CodeOverload)
			k.want("open_batch_bytes_total", k.errs("open_batch_bytes_total"), 1)
			a.raw(pa[len(pa)-1])
			if got := a.ack(); got != 1 {
				t.Fatalf("ack %d", got)
			}
			if got := len(k.sink.Get(`{__name__="m"}`)); got != 1000 {
				t.Fatalf("%d samples stored, want 1000", got)
			}
		}},
		{"trust/unfinished_part_refused_undecoded", func(t *testing.T) {
			// Past the limit, a part leaving its batch unfinished is refused
			// before it is decoded: one whose samples are garbage gets
			// ERROR 8, not the protocol error its decoding would give.
			const limit = 100000
			k := newCat(t, func(c *Config) { c.MaxOpenBatchBytes, c.MaxOpenBatchBytesTotal = 1<<20, limit })
			a, b := k.v2("a"), k.v2("b")
			pa := batchParts(t, a, 1, oneSeriesSamples(1000, mt))
			for _, p := range pa[:len(pa)-1] {
				a.raw(p)
			}
			a.alive()
			held := k.s.openBatchBytes.Load()
			// flags 0 (not final), sequence 1, part 0, no definitions, one
			// group at t=0 of n samples of the undefined series 5.
			n := int(limit-held)/48 + 1
			p := []byte{byte(wire.KindBatch), 0, 1, 0, 0, 1, 0}
			p = binary.AppendUvarint(p, uint64(n))
			p = append(p, bytes.Repeat([]byte{5 << 4}, n)...)
			if err := new(wire.Dict).DecodeBatch(p, new(wire.Batch)); err == nil {
				t.Fatal("the part decodes; want the error its decoding gives")
			}
			b.raw(frame(t, p))
			b.expectError(wire.CodeOverload)
			k.want("open_batch_bytes_total", k.errs("open_batch_bytes_total"), 1)
			k.want("protocol_1", k.errs("protocol_1"), 0)
			a.raw(pa[len(pa)-1])
			if got := a.ack(); got != 1 {
				t.Fatalf("ack %d", got)
			}
		}},
		{"trust/whole_batch_past_open_batch_bytes_total", func(t *testing.T) {
			// a's parts of 200 bytes reserve little more than they hold.
			const limit = 40000
			k := newCat(t, func(c *Config) { c.MaxOpenBatchBytes, c.MaxOpenBatchBytesTotal = 1<<20, limit })
			a, b := k.v2("a"), k.v2("b")
			pa := batchPartsOf(t, a, 1, oneSeriesSamples(1000, mt), 200)
			for _, p := range pa[:len(pa)-1] {
				a.raw(p)
			}
			a.alive() // a's unfinished batch holds most of the server's limit
			if held := k.s.openBatchBytes.Load(); held+1000*24 <= limit {
				t.Fatalf("a holds %d bytes: b's 1,000 samples would not pass the limit", held)
			}
			b.batch(1, oneSeriesSamples(1000, mt)) // one whole part, past the limit: committed and released at once
			if got := b.ack(); got != 1 {
				t.Fatalf("ack %d", got)
			}
			b.alive()
			k.want("open_batch_bytes_total", k.errs("open_batch_bytes_total"), 0)
		}},
		{"trust/hello_duplicate_job", func(t *testing.T) {
			k := newCat(t, nil)
			c := dial(t, k.addr)
			c.send(hello(wire.Hello{AgentID: "a", Labels: []wire.Label{{Name: "job", Value: "x"}, {Name: "job", Value: "y"}}}))
			c.expectError(wire.CodeProtocol)
			k.want("protocol_1", k.errs("protocol_1"), 1)
		}},
		{"trust/hello_name_label", func(t *testing.T) {
			k := newCat(t, nil)
			c := dial(t, k.addr)
			c.send(hello(wire.Hello{AgentID: "a", Labels: []wire.Label{{Name: "__name__", Value: "x"}}}))
			c.expectError(wire.CodeProtocol)
			k.want("protocol_1", k.errs("protocol_1"), 1)
		}},
		{"trust/unknown_metric_type", func(t *testing.T) {
			k := newCat(t, nil)
			c := k.v2("a")
			b := &wire.Batch{Defs: []wire.SeriesDef{{Type: 7, Name: "m"}}, Samples: []wire.Sample{{T: mt, V: 1}}}
			c.batch(1, b)
			if a := c.ack(); a != 1 {
				t.Fatalf("ack %d", a)
			}
			c.alive()
			if len(agentSeries(k.sink)) != 0 {
				t.Fatalf("stored %v", agentSeries(k.sink))
			}
			k.want("invalid_series", k.errs("invalid_series"), 1)
		}},
		{"trust/help_too_long", func(t *testing.T) {
			k := newCat(t, func(c *Config) { c.MaxHelpLen = 100 })
			c := k.v2("a")
			b := &wire.Batch{Defs: []wire.SeriesDef{{Type: wire.TypeGauge, Name: "m", Help: strings.Repeat("h", 60000)}},
				Samples: []wire.Sample{{T: mt, V: 1}}}
			c.batch(1, b)
			c.ack()
			c.alive()
			if got := k.sink.Get(`{__name__="m"}`); len(got) != 1 {
				t.Fatalf("stored %v", got)
			}
			k.want("help_too_long", k.errs("help_too_long"), 1)
		}},
		{"trust/metadata_entries", func(t *testing.T) {
			reg := prometheus.NewRegistry()
			db, err := store.OpenTSDB(store.TSDBOptions{Dir: t.TempDir(), MaxMetadataEntries: 2, Registerer: reg})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			k := newCat(t, func(c *Config) { c.Sink = db })
			c := k.v2("a")
			b := &wire.Batch{}
			for i := range 3 {
				name := "m" + strconv.Itoa(i)
				b.Defs = append(b.Defs, wire.SeriesDef{Type: wire.TypeGauge, Name: name, Help: "help of " + name})
				b.Samples = append(b.Samples, wire.Sample{ID: uint32(i), T: mt, V: 1})
			}
			c.batch(1, b)
			c.ack()
			c.alive()
			if md := db.Metadata(""); len(md) != 2 {
				t.Fatalf("metadata of %d families kept, want 2: %v", len(md), md)
			}
			q, err := db.Storage().Querier(mt, mt)
			if err != nil {
				t.Fatal(err)
			}
			defer q.Close()
			ss := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchRegexp, "__name__", "m[0-2]"))
			n := 0
			for ss.Next() {
				n++
			}
			if n != 3 {
				t.Fatalf("%d of 3 series stored", n)
			}
			k.want("hawk_store_metadata_dropped_total", metrictest.Sum(t, reg, "hawk_store_metadata_dropped_total"), 1)
		}},
		{"trust/aliased_series_same_ms", func(t *testing.T) {
			db, err := store.OpenTSDB(store.TSDBOptions{Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			k := newCat(t, func(c *Config) { c.Sink = db })
			// held returns the timestamps the TSDB holds for m.
			held := func() []int64 {
				t.Helper()
				q, err := db.Storage().Querier(mt-time.Hour.Milliseconds(), mt+time.Hour.Milliseconds())
				if err != nil {
					t.Fatal(err)
				}
				defer q.Close()
				ss := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "m"))
				var ts []int64
				for n := 0; ss.Next(); n++ {
					if n > 0 {
						t.Fatalf("m stored as more than one series")
					}
					it := ss.At().Iterator(nil)
					for it.Next() != chunkenc.ValNone {
						tt, _ := it.At()
						ts = append(ts, tt)
					}
				}
				return ts
			}
			c := k.v2("a")
			// m{a=""}, m{} and m{} again (raw: the encoder defines a series
			// once): three ids, one label set once the empty label is
			// dropped; and an ordinary series o. All sampled at mt.
			c.send(newBB(1, 1, 0).uv(4).def("m", "a", "").def("m").def("m").def("o").
				uv(1).vi(mt).uv(4).rawSample(0, 1).rawSample(0, 1).rawSample(0, 2).rawSample(0, 1))
			if a := c.ack(); a != 1 {
				t.Fatalf("ack %d", a)
			}
			k.want("stored", k.samples("stored"), 2)
			k.want("duplicate", k.samples("duplicate"), 2)
			if ts := held(); !slices.Equal(ts, []int64{mt}) {
				t.Fatalf("m holds samples at %v, want one at %d", ts, mt)
			}
			// A later batch: mt again under another id (the series' last
			// committed timestamp), and a new timestamp under two ids.
			c.send(newBB(1, 2, 0).uv(0).uv(2).vi(mt).uv(1).rawSample(2, 1).vi(1000).uv(2).rawSample(0, 3).rawSample(0, 3))
			if a := c.ack(); a != 2 {
				t.Fatalf("ack %d", a)
			}
			c.alive()
			k.want("stored", k.samples("stored"), 3)
			k.want("duplicate", k.samples("duplicate"), 4)
			if ts := held(); !slices.Equal(ts, []int64{mt, mt + 1000}) {
				t.Fatalf("m holds samples at %v, want %d and %d", ts, mt, mt+1000)
			}
		}},
		{"trust/sequence_jump", func(t *testing.T) {
			k := newCat(t, func(c *Config) { c.MaxSeqGap = 1000 })
			c := k.v2("a")
			k.stores(c, oneSeries(1, 1, 0, mt, "m"), 1, `{__name__="m"}`, true)
			c.c.Close()
			c = k.v2("a")
			c.send(oneSeries(1, math.MaxUint64, 0, mt+1, "m"))
			c.expectError(wire.CodeLimit)
			k.want("sequence_jump", k.errs("sequence_jump"), 1)
			if got := k.s.cfg.Sequences.Last("a"); got != 1 {
				t.Fatalf("stored sequence %d, want 1", got)
			}
			c = k.v2("a")
			c.send(oneSeries(1, 1001, 0, mt+2, "m")) // within the gap
			if a := c.ack(); a != 1001 {
				t.Fatalf("ack %d, want 1001", a)
			}
		}},
		{"trust/shared_token_for_listed_agent", func(t *testing.T) {
			k := newCat(t, func(c *Config) { c.Auth = TokenAuth("s3cret", map[string]string{"b": "b-token"}) })
			refused(k, wire.Hello{AgentID: "b", Token: "s3cret"}, wire.CodeAuth, "auth")
			c := dial(t, k.addr) // the shared token still serves unlisted ids
			c.send(hello(wire.Hello{AgentID: "a", Token: "s3cret"}))
			if _, err := wire.DecodeWelcome(c.recv()); err != nil {
				t.Fatal(err)
			}
		}},
	}
}

// oneSeriesSamples is a batch of n samples of one series m, a millisecond
// apart from t.
func oneSeriesSamples(n int, t int64) *wire.Batch {
	b := &wire.Batch{Defs: []wire.SeriesDef{{Type: wire.TypeGauge, Name: "m"}}}
	for i := range n {
		b.Samples = append(b.Samples, wire.Sample{ID: 0, T: t + int64(i), V: float64(i)})
	}
	return b
}

// batchParts encodes b with c's encoder in parts of at most 1000 bytes and
// returns each part's frame.
func batchParts(t *testing.T, c *client, seq uint64, b *wire.Batch) [][]byte {
	t.Helper()
	return batchPartsOf(t, c, seq, b, 1000)
}

// batchPartsOf is batchParts with parts of at most size bytes.
func batchPartsOf(t *testing.T, c *client, seq uint64, b *wire.Batch, size int) [][]byte {
	t.Helper()
	out, err := c.enc.AppendBatch(nil, seq, b, size)
	if err != nil {
		t.Fatal(err)
	}
	var dec wire.Decoder
	defer dec.Release()
	dec.Write(out)
	var parts [][]byte
	for p, ok := dec.Next(); ok; p, ok = dec.Next() {
		parts = append(parts, frame(t, p))
	}
	if len(parts) < 3 {
		t.Fatalf("%d parts, want several", len(parts))
	}
	return parts
}
