package server

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/value"

	"hawk/internal/store"
	"hawk/internal/wire"
)

// fleetRows are the catalogue rows of issue #17 that bound the fleet
// (docs/security.md, "Fleet"): entry size, legacy peers, liveness series.
func fleetRows() []catRow {
	return []catRow{
		{"fleet/hello_entry_too_large", func(t *testing.T) {
			k := newCat(t, nil)
			var ls []wire.Label
			for i := range 60 { // each label within the per-label limits, 60 KB in all
				ls = append(ls, wire.Label{Name: "l" + itoa(i), Value: strings.Repeat("v", 1000)})
			}
			c := dial(t, k.addr)
			c.send(wire.AppendHello(nil, &wire.Hello{Version: 2, AgentID: "big", Hostname: "h", Labels: ls}))
			c.expectError(wire.CodeLimit)
			k.want("refused agent_entry_too_large", k.refused("agent_entry_too_large"), 1)
			if rows := k.s.Fleet().Agents(); len(rows) != 0 {
				t.Fatalf("fleet kept %d entries", len(rows))
			}
		}},
		{"fleet/legacy_peers_own_cap", func(t *testing.T) {
			k := newCat(t, func(c *Config) { c.MaxAgents = 2; c.MaxLegacyAgents = 1 })
			legacyFrom := func(src string) net.Conn {
				d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
				c, err := d.Dial("tcp", k.addr)
				if err != nil {
					t.Skipf("no loopback source %s: %v", src, err)
				}
				t.Cleanup(func() { c.Close() })
				c.SetDeadline(time.Now().Add(10 * time.Second))
				return c
			}
			legacyAlive(t, legacyFrom("127.0.0.2"))
			c := legacyFrom("127.0.0.3")
			c.Write(legacyFrame(t, 0, wire.LegacyHeartbeatContent{Version: "1.0", Timestamp: 1})) //nolint:errcheck // refused below
			expectEOF(t, c)
			k.want("refused max_legacy_agents", k.refused("max_legacy_agents"), 1)
			k.v2("a0").alive() // v2 agents keep their whole -max-agents
			k.v2("a1").alive()
		}},
		{"fleet/liveness_follows_new_hostname", func(t *testing.T) {
			k := newCat(t, func(c *Config) { c.LivenessInterval = 20 * time.Millisecond })
			helloAs := func(host string) *client {
				c := dial(t, k.addr)
				c.send(wire.AppendHello(nil, &wire.Hello{Version: 2, AgentID: "a", Hostname: host, AgentVersion: "1"}))
				if _, err := wire.DecodeWelcome(c.recv()); err != nil {
					t.Fatal(err)
				}
				return c
			}
			c := helloAs("old")
			old := `{__name__="hawk_agent_up", agent_id="a", hostname="old", instance="old"}`
			waitSample(t, k.sink, old, isVal(1))
			c.c.Close()
			helloAs("new").alive()
			waitSample(t, k.sink, `{__name__="hawk_agent_up", agent_id="a", hostname="new", instance="new"}`, isVal(1))
			waitSample(t, k.sink, old, func(s store.Sample) bool { return value.IsStaleNaN(s.V) })
			waitSample(t, k.sink, `{__name__="up", instance="old"}`, func(s store.Sample) bool { return value.IsStaleNaN(s.V) })
		}},
		{"fleet/version_churn_bounded", func(t *testing.T) {
			k := newCat(t, func(c *Config) { c.LivenessInterval = 20 * time.Millisecond })
			for i := range 12 { // each new version would be a new set of liveness series
				c := dial(t, k.addr)
				c.send(wire.AppendHello(nil, &wire.Hello{Version: 2, AgentID: "a", Hostname: "h", AgentVersion: "v" + itoa(i)}))
				if _, err := wire.DecodeWelcome(c.recv()); err != nil {
					t.Fatal(err)
				}
				waitFor(t, "the new version's series or a refusal", func() bool {
					for _, s := range k.sink.Series() {
						if strings.Contains(s, `version="v`+itoa(i)+`"`) {
							return true
						}
					}
					return k.errs("liveness_series_limit") > 0
				})
				c.c.Close()
			}
			if k.errs("liveness_series_limit") == 0 {
				t.Fatal("identity churn past -max-series-per-agent not counted")
			}
			n := 0
			for _, s := range k.sink.Series() {
				if strings.HasPrefix(s, `{__name__="hawk_agent_info"`) {
					n++
				}
			}
			if n != 10 {
				t.Fatalf("%d hawk_agent_info series for one agent after 12 versions; the guard allows 10", n)
			}
		}},
		{"fleet/identity_bytes_bounded", func(t *testing.T) {
			// Each test agent keeps 32 bytes of identity (id, host-id, test,
			// job=node, instance=i-id): two fit in 70, a third does not.
			k := newCat(t, func(c *Config) { c.MaxFleetIDBytes = 70 })
			k.v2("a0")
			c1 := k.v2("a1")
			c := dial(t, k.addr)
			c.send(wire.AppendHello(nil, &wire.Hello{Version: wire.ProtocolVersion, AgentID: "a2", Hostname: "host-a2", AgentVersion: "test"}))
			c.expectError(wire.CodeOverload)
			k.want("refused max_fleet_identity_bytes", k.refused("max_fleet_identity_bytes"), 1)
			k.v2("a0") // an id already kept comes back whatever the budget
			c1.c.Close()
			deadline := time.Now().Add(10 * time.Second)
			for err := k.s.Fleet().Forget("a1"); err != nil; err = k.s.Fleet().Forget("a1") {
				if !errors.Is(err, ErrAgentConnected) || time.Now().After(deadline) {
					t.Fatalf("forget a1: %v", err)
				}
				time.Sleep(5 * time.Millisecond) // until a1's session has ended
			}
			k.v2("a2") // a forgotten agent's identity no longer counts
			k.want("refused max_fleet_identity_bytes", k.refused("max_fleet_identity_bytes"), 1)
		}},
		{"fleet/agents_page_bounded", func(t *testing.T) {
			f := newFleet(time.Second, 100000, time.Now)
			for i := range 3000 {
				f.addLocked(&Agent{id: "id-" + itoa(i), hostname: "h-" + itoa(i), protocol: "v2"})
			}
			rows, total := f.AgentsPage(AgentsQuery{Offset: 2990, Limit: 500})
			if total != 3000 || len(rows) != 10 {
				t.Fatalf("page: %d rows of %d", len(rows), total)
			}
			rows, total = f.AgentsPage(AgentsQuery{Match: "h-299", Limit: 5})
			if total != 11 || len(rows) != 5 || rows[0].Hostname != "h-299" {
				t.Fatalf("match: %d rows of %d: %+v", len(rows), total, rows)
			}
		}},
	}
}
