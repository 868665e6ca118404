package server

import (
	"bytes"
	"encoding/json"
	"math"
	"net"
	"strings"
	"testing"
	"time"

	"hawk/internal/wire"
)

// awkward strings: what encoding/json escapes, or replaces, in its own way.
var awkward = []string{
	"", `quo"te`, `back\slash`, "ctl\x00\x01\x1f\x7f", "tab\tnl\nret\r", "<script>&amp;</script>",
	"bad\xffutf8\xc3", "line\u2028sep\u2029", "snow\u2603man", "emoji \U0001F600", strings.Repeat("x", 300),
}

// TestAgentsPageJSONMatchesMarshal: AgentsPageJSON writes byte for byte
// what json.Marshal made of the page's []AgentStatus (what /api/v1/agents
// served before rows were cached), for identities of awkward strings,
// entries attached, legacy, loaded (no cached row) and too large to cache,
// and every live member in its odd values.
func TestAgentsPageJSONMatchesMarshal(t *testing.T) {
	now := time.Date(2026, 12, 7, 1, 2, 3, 456789000, time.UTC)
	f := newFleet(time.Minute, 1000, func() time.Time { return now })
	f.maxEntry = 4096
	for i, s := range awkward {
		h := &wire.Hello{AgentID: "id-" + s, Hostname: s, AgentVersion: s + "v", BootTime: int64(i * 1000),
			Labels: []wire.Label{{Name: "z" + s, Value: s}, {Name: "job", Value: s}, {Name: "a", Value: "1"}, {Name: "a", Value: "2"}}}
		if i%3 == 0 {
			h.Labels = append(h.Labels, wire.Label{Name: "instance", Value: s + "i"})
		}
		if i%4 == 1 {
			h.Labels = nil
		}
		a, _, err := f.attach(h, &session{remote: "[::1]:" + s}, now.Add(-time.Duration(i)*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if a.row == nil {
			t.Fatalf("%q: no cached row", s)
		}
		a.seen(now.Add(-time.Duration(i*20) * time.Second)) // some down
		a.clock([]int64{0, 1, -1, 999, 1e9, -123456789, 1e16}[i%7], int64(i)*1000)
		a.samples.Store(uint64(i) * 1e17)
		a.rate.Store(math.Float64bits([]float64{0, 1e-7, 1e21, 12.5, 1.0 / 3, 5e-324}[i%6]))
		if i%2 == 0 {
			f.mu.Lock()
			a.outages = append(a.outages, Outage{Start: now.Add(-time.Hour), End: now.Add(-time.Minute), Cause: []string{CauseReboot, s}[i%4/2]})
			f.mu.Unlock()
			f.detach(a, a.session, true, now)
		}
	}
	// A reconnection with another identity replaces the cached row.
	if _, _, err := f.attach(&wire.Hello{AgentID: "id-" + awkward[1], Hostname: "new", AgentVersion: "2",
		Labels: []wire.Label{{Name: "job", Value: "j2"}}}, &session{remote: "10.0.0.2:1"}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := f.attachLegacy(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 9), Port: 4000}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := f.attachLegacy(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 9), Port: 4001}, now); err != nil {
		t.Fatal(err)
	}
	if r := f.agents["legacy:127.0.0.9"].row; r == nil || !bytes.Contains(r.b, []byte(`"127.0.0.9:4001"`)) {
		t.Fatalf("legacy row not the last connection's: %v", r)
	}
	// An entry without a cached row (as before a fleet file's rows are
	// encoded) and one too large to cache: encoded per request.
	loaded := &Agent{id: "loaded", hostname: "<h>", protocol: "v2", labels: []wire.Label{{Name: "k", Value: "\x00"}}}
	f.mu.Lock()
	f.addLocked(loaded)
	f.mu.Unlock()
	big := strings.Repeat("\x01", 1000) // 6 bytes each once escaped
	if _, _, err := f.attach(&wire.Hello{AgentID: "big", Hostname: big, Labels: []wire.Label{{Name: "instance", Value: big}, {Name: "job", Value: big}}},
		&session{remote: "r"}, now); err != nil {
		t.Fatal(err)
	}
	if f.agents["big"].row != nil {
		t.Fatal("a row past -max-agent-entry-bytes + rowSlack was cached")
	}

	for _, q := range []AgentsQuery{{}, {Limit: 3}, {Offset: 4, Limit: 5}, {Down: true}, {Match: "x"}, {Offset: 100}} {
		rows, total := f.AgentsPage(q)
		want, err := json.Marshal(rows)
		if err != nil {
			t.Fatal(err)
		}
		got, gotTotal, err := f.AgentsPageJSON([]byte("prefix"), q)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(got, []byte("prefix")) {
			t.Fatalf("%+v: dst not appended to: %.40q", q, got)
		}
		got = got[len("prefix"):]
		if gotTotal != total {
			t.Errorf("%+v: total %d, want %d", q, gotTotal, total)
		}
		if !bytes.Equal(got, want) {
			i := 0
			for i < min(len(got), len(want)) && got[i] == want[i] {
				i++
			}
			t.Fatalf("%+v: differs at byte %d:\n got …%.200q\nwant …%.200q", q, i, got[max(i-40, 0):], want[max(i-40, 0):])
		}
		if q == (AgentsQuery{}) && total != len(awkward)+3 {
			t.Fatalf("all: %d rows, want %d", total, len(awkward)+3)
		}
	}
}

// TestAgentsPageJSONUnsupportedFloat: a row json.Marshal cannot encode (a
// NaN rate) is an error, as it was, not invalid JSON.
func TestAgentsPageJSONUnsupportedFloat(t *testing.T) {
	now := time.Unix(1e9, 0)
	f := newFleet(time.Minute, 10, func() time.Time { return now })
	a, _, err := f.attach(&wire.Hello{AgentID: "a"}, &session{remote: "r"}, now)
	if err != nil {
		t.Fatal(err)
	}
	a.rate.Store(math.Float64bits(math.NaN()))
	if _, err := json.Marshal(f.Agents()); err == nil {
		t.Fatal("json.Marshal encoded a NaN")
	}
	if b, _, err := f.AgentsPageJSON(nil, AgentsQuery{}); err == nil {
		t.Fatalf("NaN rate encoded: %s", b)
	}
}

// TestAgentsPageOrderKeptUpToDate: the kept order follows new entries,
// changed hostnames and forgotten entries.
func TestAgentsPageOrderKeptUpToDate(t *testing.T) {
	now := time.Unix(1e9, 0)
	f := newFleet(time.Minute, 100, func() time.Time { return now })
	hosts := func() string {
		var s []string
		for _, r := range f.Agents() {
			s = append(s, r.Hostname+"/"+r.AgentID)
		}
		return strings.Join(s, " ")
	}
	attach := func(id, host string) *Agent {
		a, _, err := f.attach(&wire.Hello{AgentID: id, Hostname: host}, &session{remote: "r"}, now)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a := attach("1", "c")
	attach("2", "a")
	attach("3", "a")
	for _, step := range []struct {
		do   func()
		want string
	}{
		{func() {}, "a/2 a/3 c/1"},
		{func() { attach("4", "b") }, "a/2 a/3 b/4 c/1"},
		{func() { attach("3", "d") }, "a/2 b/4 c/1 d/3"},
		{func() { attach("3", "d") }, "a/2 b/4 c/1 d/3"},
		{func() { f.detach(a, a.session, false, now); _ = f.Forget("1") }, "a/2 b/4 d/3"},
	} {
		step.do()
		if got := hosts(); got != step.want {
			t.Fatalf("order %q, want %q", got, step.want)
		}
		if rows, total := f.AgentsPage(AgentsQuery{Offset: 1, Limit: 2}); total != len(strings.Fields(step.want)) || len(rows) != 2 ||
			rows[0].Hostname+"/"+rows[0].AgentID != strings.Fields(step.want)[1] {
			t.Fatalf("page 1+2 of %q: %d rows of %d", step.want, len(rows), total)
		}
	}
}
