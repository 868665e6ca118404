package wire

import (
	"bufio"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"
)

// specVectors are the v2 test vectors of docs/protocol.md: each is a frame,
// envelope included.
func specVectors(t testing.TB) map[string][]byte {
	frame := func(p []byte) []byte {
		f, err := AppendFrame(nil, p)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	batch := &Batch{
		Defs: []SeriesDef{
			{Type: TypeGauge, Name: "node_load1", Help: "1m load average.", Labels: []Label{{"instance", "web-01"}, {"job", "node"}}},
			{Type: TypeCounter, Name: "node_cpu_seconds_total", Labels: []Label{{"cpu", "0"}, {"mode", "idle"}}},
		},
		Samples: []Sample{{ID: 0, T: 1700000000000, V: 0.25}, {ID: 1, T: 1700000000000, V: 12345.67}},
	}
	next := &Batch{Defs: batch.Defs, Samples: []Sample{{ID: 0, T: 1700000010000, V: 0.25}, {ID: 1, T: 1700000010000, V: 12355.69}}}
	enc := NewEncoder()
	b1, err := enc.AppendBatch(nil, 7, batch, 0)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := enc.AppendBatch(nil, 8, next, 0)
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{
		"hello": frame(AppendHello(nil, &Hello{Version: 2, AgentID: "a1", Hostname: "web-01", AgentVersion: "0.1.0",
			Labels: []Label{{"job", "node"}}, Token: "t0k"})),
		"welcome": frame(AppendWelcome(nil, &Welcome{Version: 2, ServerTime: 1700000000000000000, HeartbeatInterval: 2 * time.Second,
			LastSeq: 6, MaxBatchSamples: 200000, MaxSeries: 100000, Window: 64, ServerID: "c1"})),
		"heartbeat":      frame(AppendHeartbeat(nil, &Heartbeat{AgentTime: 1700000000000000000, RTT: 250000, Offset: -1000}, false)),
		"heartbeat_echo": frame(AppendHeartbeat(nil, &Heartbeat{AgentTime: 1700000000000000000, ServerRecv: 1700000000000100000, ServerSend: 1700000000000120000}, true)),
		"batch_first":    b1,
		"batch_next":     b2,
		"ack":            frame(AppendAck(nil, Ack{Seq: 8})),
		"goaway":         frame(AppendGoAway(nil, &GoAway{ReconnectAfter: 100 * time.Millisecond, Reason: "drain"})),
		"error":          frame(AppendError(nil, &Error{Code: CodeAuth, Message: "bad token"})),
	}
}

// TestSpecVectors checks that every vector in docs/protocol.md is what this
// package encodes, and that the spec lists them all.
func TestSpecVectors(t *testing.T) {
	f, err := os.Open("../../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := specVectors(t)
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	in := false
	name, hexs := "", ""
	flush := func() {
		if name == "" {
			return
		}
		w, ok := want[name]
		if !ok {
			t.Errorf("spec vector %q unknown to the test", name)
		} else if got := hex.EncodeToString(w); got != hexs {
			t.Errorf("vector %s:\n spec %s\n code %s", name, hexs, got)
		}
		seen[name] = true
		name, hexs = "", ""
	}
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "<!-- v2 vectors -->"):
			in = true
		case in && strings.HasPrefix(line, "<!-- end -->"):
			flush()
			in = false
		case in && strings.HasPrefix(line, "    ") && strings.TrimSpace(line) != "":
			fields := strings.Fields(line)
			if strings.HasPrefix(line, "        ") { // hex, indented 8
				hexs += strings.Join(fields, "")
			} else { // a name, indented 4
				flush()
				name, hexs = fields[0], strings.Join(fields[1:], "")
			}
		}
	}
	flush()
	for n := range want {
		if !seen[n] {
			t.Errorf("vector %s missing from docs/protocol.md", n)
		}
	}
}

func TestPrintVectors(t *testing.T) {
	if os.Getenv("HAWK_PRINT_VECTORS") == "" {
		t.Skip("set HAWK_PRINT_VECTORS=1 to print the vectors for the spec")
	}
	v := specVectors(t)
	for _, n := range []string{"hello", "welcome", "heartbeat", "heartbeat_echo", "batch_first", "batch_next", "ack", "goaway", "error"} {
		h := hex.EncodeToString(v[n])
		t.Logf("    %s", n)
		for len(h) > 0 {
			k := min(len(h), 64)
			t.Logf("        %s", h[:k])
			h = h[k:]
		}
	}
}
