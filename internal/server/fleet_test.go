package server

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/value"

	"hawk/internal/store"
	"hawk/internal/wire"
)

// fastFleet is a config that judges agents offline after 150 ms and writes
// the periodic liveness samples only once an hour, so that what a test sees
// is what the changes wrote.
func fastFleet(sink *store.Memory, file string) Config {
	return Config{Sink: sink, HeartbeatInterval: 50 * time.Millisecond, MissedHeartbeats: 3,
		LivenessInterval: time.Hour, FleetFile: file, FleetSaveInterval: 10 * time.Millisecond}
}

// waitSample waits until series has a sample for which ok holds.
func waitSample(t *testing.T, sink *store.Memory, series string, ok func(store.Sample) bool) store.Sample {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, s := range sink.Get(series) {
			if ok(s) {
				return s
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no matching sample of %s; have %v (series %v)", series, sink.Get(series), sink.Series())
	return store.Sample{}
}

const (
	upA      = `{__name__="up", instance="i-a", job="node"}`
	agentUpA = `{__name__="hawk_agent_up", agent_id="a", hostname="host-a", instance="i-a", job="node"}`
)

func isVal(v float64) func(store.Sample) bool { return func(s store.Sample) bool { return s.V == v } }

func TestUpWrittenAtChange(t *testing.T) {
	t.Run("silent", func(t *testing.T) {
		sink := newMemSink()
		s, addr := startServer(t, fastFleet(sink, ""))
		c := dial(t, addr)
		c.hello("a")
		waitSample(t, sink, upA, isVal(1))
		waitSample(t, sink, agentUpA, isVal(1))
		// Silence: no heartbeat. Judged offline 150 ms after last heard.
		down := waitSample(t, sink, upA, isVal(0))
		last := time.Unix(0, s.fleet.agents["a"].lastSeen.Load())
		if want := last.Add(150 * time.Millisecond).UnixMilli(); down.T != want {
			t.Fatalf("up 0 at %d, want the change time %d (last seen + 150ms)", down.T, want)
		}
		waitSample(t, sink, agentUpA, func(x store.Sample) bool { return x.V == 0 && x.T == down.T })
	})
	t.Run("agent_closed", func(t *testing.T) {
		sink := newMemSink()
		cfg := fastFleet(sink, "")
		cfg.HeartbeatInterval = time.Hour // only the close can make it offline soon
		_, addr := startServer(t, cfg)
		c := dial(t, addr)
		c.hello("a")
		waitSample(t, sink, upA, isVal(1))
		closed := time.Now()
		c.c.Close()
		down := waitSample(t, sink, upA, isVal(0))
		if d := time.UnixMilli(down.T).Sub(closed.Truncate(time.Millisecond)); d < 0 || d > time.Second {
			t.Fatalf("up 0 at %v after the close, want at the close", d)
		}
	})
}

func TestFleetSurvivesRestart(t *testing.T) {
	file := filepath.Join(t.TempDir(), "hawk-fleet")
	sink := newMemSink()
	s1, addr := startServer(t, fastFleet(sink, file))
	c := dial(t, addr)
	c.send(wire.AppendHello(nil, &wire.Hello{Version: wire.ProtocolVersion, AgentID: "a", Hostname: "host-a", AgentVersion: "test",
		BootTime: 1000, Labels: []wire.Label{{Name: "job", Value: "node"}, {Name: "instance", Value: "i-a"}}}))
	c.recv()
	waitSample(t, sink, upA, isVal(1))
	shutdown(t, s1)

	// The host dies while the server is down; a new server reads the file.
	sink2 := newMemSink()
	s2, _ := startServer(t, fastFleet(sink2, file))
	waitSample(t, sink2, upA, isVal(0))
	waitSample(t, sink2, agentUpA, isVal(0))
	rows := s2.Fleet().Agents()
	if len(rows) != 1 || rows[0].AgentID != "a" || rows[0].Up || rows[0].Hostname != "host-a" || rows[0].BootTime != 1000 ||
		rows[0].Labels["job"] != "node" {
		t.Fatalf("fleet after restart = %+v", rows)
	}

	// Forget is the only way out, and it lasts across a restart.
	if err := s2.Fleet().Forget("nope"); err != ErrUnknownAgent {
		t.Fatalf("forget unknown: %v", err)
	}
	if err := s2.Fleet().Forget("a"); err != nil {
		t.Fatal(err)
	}
	waitSample(t, sink2, upA, func(x store.Sample) bool { return value.IsStaleNaN(x.V) })
	shutdown(t, s2)
	s3, _ := startServer(t, fastFleet(newMemSink(), file))
	if rows := s3.Fleet().Agents(); len(rows) != 0 {
		t.Fatalf("forgotten agent back after restart: %+v", rows)
	}
}

func TestForgetConnectedRefused(t *testing.T) {
	cfg := fastFleet(newMemSink(), "")
	cfg.HeartbeatInterval = time.Hour
	s, addr := startServer(t, cfg)
	c := dial(t, addr)
	c.hello("a")
	if err := s.Fleet().Forget("a"); err != ErrAgentConnected {
		t.Fatalf("forget connected: %v", err)
	}
}

func TestCorruptFleetFile(t *testing.T) {
	f := newFleet(time.Second, 10, time.Now)
	a := &Agent{id: "a", hostname: "h", protocol: "v2", closedAt: time.Unix(5, 0), outages: []Outage{{Start: time.Unix(1, 0), End: time.Unix(2, 0), Cause: CauseNetwork}}}
	f.addLocked(a)
	b := encodeFleet(f.fileEntriesLocked())
	got, err := decodeFleet(b, 32)
	if err != nil || len(got) != 1 || got[0].outages[0].Cause != CauseNetwork || !got[0].outages[0].End.Equal(time.Unix(2, 0)) ||
		got[0].closedAt.IsZero() {
		t.Fatalf("round trip: %v %+v", err, got)
	}
	for i := range b {
		c := append([]byte(nil), b...)
		c[i] ^= 0x40
		if _, err := decodeFleet(c, 32); err == nil {
			t.Fatalf("flipped byte %d accepted", i)
		}
	}
	if _, err := decodeFleet(b[:len(b)-1], 32); err == nil {
		t.Fatal("truncated file accepted")
	}
}

// TestFleetFileEncodedInOneBuffer: the fleet file's image is encoded into
// one buffer of its exact size (fleetImageSize), not grown by append,
// which made about five times the image in garbage at every save under
// huge-hello; strings and counts cross the varint's length boundaries.
func TestFleetFileEncodedInOneBuffer(t *testing.T) {
	f := newFleet(time.Second, 100, time.Now)
	for i, n := range []int{0, 1, 127, 128, 16383, 16384} {
		a := &Agent{id: fmt.Sprintf("a%d", i), hostname: strings.Repeat("h", n), protocol: "v2", bootTime: int64(n),
			labels:       []wire.Label{{Name: "l", Value: strings.Repeat("v", n)}, {Name: strings.Repeat("n", n), Value: ""}},
			outageCounts: [nCauses]uint64{0, 127, 128, 1 << 63},
			outages:      []Outage{{Start: time.Unix(1, 0), End: time.Unix(2, 0), Cause: strings.Repeat("c", n)}}}
		a.lastSeen.Store(int64(i))
		f.addLocked(a)
	}
	var b []byte
	es := f.fileEntriesLocked()
	if n := testing.AllocsPerRun(5, func() { b = encodeFleet(es) }); n != 1 {
		t.Errorf("encoding the fleet file: %v allocations, want 1", n)
	}
	if len(b) != cap(b) || len(b) != fleetImageSize(es) {
		t.Fatalf("image of %d bytes in a buffer of %d, size counted %d", len(b), cap(b), fleetImageSize(es))
	}
	got, err := decodeFleet(b, 32)
	if err != nil || len(got) != 6 || got[5].labels[0].Value != strings.Repeat("v", 16384) || got[4].outageCounts[3] != 1<<63 {
		t.Fatalf("round trip: %v, %d agents", err, len(got))
	}
}

// TestFleetFileEntriesCopied: the fleet file is encoded, outside the
// fleet's lock, from a copy of its entries taken under it; an outage
// recorded after the copy (which shifts a full list in place) and new
// labels do not reach the image of the copy.
func TestFleetFileEntriesCopied(t *testing.T) {
	f := newFleet(time.Second, 10, time.Now)
	f.maxOutages = 2
	a := &Agent{id: "a", hostname: "h", protocol: "v2", labels: []wire.Label{{Name: "dc", Value: "one"}},
		outages: []Outage{{Start: time.Unix(1, 0), End: time.Unix(2, 0), Cause: CauseNetwork},
			{Start: time.Unix(3, 0), End: time.Unix(4, 0), Cause: CauseUnknown}}}
	f.mu.Lock()
	f.addLocked(a)
	es := f.fileEntriesLocked()
	a.pending = &pendingOutage{start: time.Unix(5, 0), end: time.Unix(6, 0), reboot: true}
	f.finishOutageLocked(a, time.Unix(7, 0))
	a.labels = cloneLabels([]wire.Label{{Name: "dc", Value: "two"}})
	now := encodeFleet(f.fileEntriesLocked())
	f.mu.Unlock()

	causes := func(b []byte) (string, string) {
		t.Helper()
		got, err := decodeFleet(b, 32)
		if err != nil || len(got) != 1 {
			t.Fatalf("decode: %v, %d agents", err, len(got))
		}
		var cs []string
		for _, o := range got[0].outages {
			cs = append(cs, o.Cause)
		}
		return strings.Join(cs, ","), got[0].labels[0].Value
	}
	if c, dc := causes(encodeFleet(es)); c != CauseNetwork+","+CauseUnknown || dc != "one" {
		t.Errorf("the copy's image: outages %s, dc=%s; want %s,%s and one", c, dc, CauseNetwork, CauseUnknown)
	}
	if c, dc := causes(now); c != CauseUnknown+","+CauseReboot || dc != "two" {
		t.Errorf("the fleet's image now: outages %s, dc=%s; want %s,%s and two", c, dc, CauseUnknown, CauseReboot)
	}
}

// outageServer starts a server whose agent "a" came and went: it returns
// the server and a function that reconnects the agent with a boot time.
func outageCase(t *testing.T, closeConn bool) (*Server, *store.Memory, func(boot int64) *client) {
	sink := newMemSink()
	s, addr := startServer(t, fastFleet(sink, ""))
	hello := func(boot int64) *client {
		c := dial(t, addr)
		c.send(wire.AppendHello(nil, &wire.Hello{Version: wire.ProtocolVersion, AgentID: "a", Hostname: "host-a", AgentVersion: "test",
			BootTime: boot, Labels: []wire.Label{{Name: "job", Value: "node"}, {Name: "instance", Value: "i-a"}}}))
		if _, err := wire.DecodeWelcome(c.recv()); err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := hello(1000)
	waitSample(t, sink, upA, isVal(1))
	if closeConn {
		c.c.Close()
	}
	waitSample(t, sink, upA, isVal(0))
	return s, sink, hello
}

func sampleBatch(ts ...int64) *wire.Batch {
	b := &wire.Batch{Final: true, Defs: []wire.SeriesDef{{Name: "m", Type: wire.TypeGauge}}}
	for _, t := range ts {
		b.Samples = append(b.Samples, wire.Sample{ID: 0, T: t, V: 1})
	}
	return b
}

func waitOutage(t *testing.T, s *Server, cause string) Outage {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if o, ok := s.Fleet().LastOutage("a"); ok {
			if o.Cause != cause {
				t.Fatalf("outage cause %q, want %q (%+v)", o.Cause, cause, o)
			}
			return o
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no outage recorded, want %s", cause)
	return Outage{}
}

func TestOutageCause(t *testing.T) {
	t.Run("reboot", func(t *testing.T) {
		s, _, hello := outageCase(t, false)
		hello(2000)
		waitOutage(t, s, CauseReboot)
	})
	t.Run("network", func(t *testing.T) {
		s, sink, hello := outageCase(t, false)
		a := s.fleet.agents["a"]
		s.fleet.mu.Lock()
		silent := a.silentSince
		s.fleet.mu.Unlock()
		inside := silent.Add(s.fleet.margin + 20*time.Millisecond)
		for time.Now().Before(inside.Add(s.fleet.margin + 20*time.Millisecond)) {
			time.Sleep(10 * time.Millisecond) // let the silent period outgrow both margins
		}
		c := hello(1000)
		c.batch(1, sampleBatch(inside.UnixMilli())) // the spool delivers what it collected while cut off
		c.ack()
		o := waitOutage(t, s, CauseNetwork)
		if !o.Start.Equal(silent) || !o.End.After(o.Start) {
			t.Fatalf("outage %+v, silent since %v", o, silent)
		}
		var total string = `{__name__="hawk_agent_outages_total", agent_id="a", cause="network", hostname="host-a", instance="i-a", job="node"}`
		waitSample(t, sink, total, isVal(1)) // written when recorded, not at the next liveness tick
	})
	t.Run("agent_stopped", func(t *testing.T) {
		s, _, hello := outageCase(t, true)
		c := hello(1000)
		c.batch(1, sampleBatch(time.Now().Add(time.Second).UnixMilli())) // collected after it came back: nothing from the silence
		c.ack()
		waitOutage(t, s, CauseAgentStopped)
	})
	t.Run("unknown", func(t *testing.T) {
		s, _, hello := outageCase(t, false)
		c := hello(1000)
		c.batch(1, sampleBatch(time.Now().Add(time.Second).UnixMilli()))
		c.ack()
		waitOutage(t, s, CauseUnknown)
	})
}

func shutdown(t *testing.T, s *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestUpgradeIsNoOutage: an agent online when the server stopped, back
// promptly after the restart (an upgrade), has no outage and no up 0.
func TestUpgradeIsNoOutage(t *testing.T) {
	file := filepath.Join(t.TempDir(), "hawk-fleet")
	cfg := fastFleet(newMemSink(), file)
	cfg.HeartbeatInterval = 300 * time.Millisecond // offline after 900 ms
	s1, addr := startServer(t, cfg)
	c := dial(t, addr)
	c.hello("a")
	waitFor(t, "agent saved", func() bool { rows := s1.Fleet().Agents(); return len(rows) == 1 && rows[0].Up })
	shutdown(t, s1)
	time.Sleep(1500 * time.Millisecond) // the server's own downtime, longer than the offline time
	sink2 := newMemSink()
	cfg.Sink = sink2
	s2, addr2 := startServer(t, cfg)
	time.Sleep(300 * time.Millisecond) // the agent's reconnect delay, within the offline time
	c2 := dial(t, addr2)
	c2.hello("a")
	waitSample(t, sink2, upA, isVal(1))
	for _, x := range sink2.Get(upA) {
		if x.V == 0 {
			t.Fatalf("up 0 written across the restart: %v", sink2.Get(upA))
		}
	}
	if o, ok := s2.Fleet().LastOutage("a"); ok {
		t.Fatalf("outage recorded across the restart: %+v", o)
	}
}

// FuzzDecodeFleet: no fleet file crashes the decoder, and what decodes
// encodes to a file that decodes again.
func FuzzDecodeFleet(f *testing.F) {
	fl := newFleet(time.Second, 10, time.Now)
	fl.addLocked(&Agent{id: "a", hostname: "h", protocol: "v2", labels: nil,
		outages: []Outage{{Start: time.Unix(1, 0), End: time.Unix(2, 0), Cause: CauseReboot}}})
	f.Add(encodeFleet(fl.fileEntriesLocked()))
	f.Add([]byte("HKFL\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		agents, err := decodeFleet(b, 32)
		if err != nil {
			return
		}
		g := newFleet(time.Second, 1<<20, time.Now)
		for _, a := range agents {
			g.addLocked(a)
		}
		if len(agents) > 0 && len(agents[0].outages) <= 32 {
			b := encodeFleet(g.fileEntriesLocked())
			if _, err := decodeFleet(b, 32); err != nil {
				t.Fatalf("re-encoded file does not decode: %v", err)
			}
			if len(b) != cap(b) {
				t.Fatalf("re-encoded image of %d bytes in a buffer of %d", len(b), cap(b))
			}
		}
	})
}
