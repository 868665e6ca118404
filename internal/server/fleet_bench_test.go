package server

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"hawk/internal/wire"
)

// BenchmarkAgents100k measures /api/v1/agents' work over a fleet of
// 100,000 agents: one default page (500 rows, what the fleet page asks)
// beside the whole list (what the endpoint served before paging), each
// sorted and encoded as JSON: from the cached rows, as the endpoint does
// (AgentsPageJSON), and, as "-reflect", by json.Marshal of []AgentStatus
// (as it did before rows were cached). bytes-resp reports the response size.
// The order is sorted before (BenchmarkAgents100kSort: once per change of the fleet).
//
//	go test -run '^$' -bench Agents100k -benchmem ./internal/server/
func BenchmarkAgents100k(b *testing.B) {
	f := newFleet(time.Second, 200000, time.Now)
	f.maxEntry = 4096
	now := time.Now()
	for i := range 100000 {
		a := &Agent{id: "agent-" + itoa(i), hostname: "host-" + itoa(i), instance: "host-" + itoa(i), job: "node",
			version: "0.1.0", protocol: "v2", remote: "10.0.0.1:40000",
			labels: []wire.Label{{Name: "job", Value: "node"}, {Name: "dc", Value: "a"}}}
		a.row = newAgentRow(a.identityOf(), a.labels, f.maxEntry)
		a.seen(now)
		f.addLocked(a)
	}
	f.sortedOrder() // kept until the fleet changes: what polls of a fleet that does not change cost
	for _, c := range []struct {
		name    string
		limit   int
		reflect bool
	}{{"page500", 500, false}, {"page500-reflect", 500, true}, {"all", 0, false}, {"all-reflect", 0, true}} {
		b.Run(c.name, func(b *testing.B) {
			var n int
			var buf []byte
			for b.Loop() {
				var err error
				if c.reflect {
					rows, _ := f.AgentsPage(AgentsQuery{Limit: c.limit})
					buf, err = json.Marshal(rows)
				} else {
					buf, _, err = f.AgentsPageJSON(nil, AgentsQuery{Limit: c.limit})
				}
				if err != nil {
					b.Fatal(err)
				}
				n = len(buf)
			}
			b.ReportMetric(float64(n), "bytes-resp")
		})
	}
}

// BenchmarkAgents100kSort measures sorting the fleet's order, which a page
// does when an agent came, went or changed its hostname since the last.
func BenchmarkAgents100kSort(b *testing.B) {
	f := newFleet(time.Second, 200000, time.Now)
	for i := range 100000 {
		f.addLocked(&Agent{id: "agent-" + itoa(i), hostname: "host-" + itoa((i*7919)%100000)})
	}
	for b.Loop() {
		f.mu.Lock()
		f.reorderLocked()
		f.mu.Unlock()
		f.sortedOrder()
	}
}

// BenchmarkFleetFileUnderLock measures what a save of the fleet file holds
// the fleet's lock for: the copy of its entries (now) against the encode
// of the whole image (what it held before the copy), for 6,000 agents
// with 3.6 KB identities (huge-hello's fleet) and 100,000 small ones.
//
//	go test -run '^$' -bench FleetFileUnderLock -benchmem ./internal/server/
func BenchmarkFleetFileUnderLock(b *testing.B) {
	for _, c := range []struct {
		name                   string
		agents, labels, valLen int
	}{{"agents=6000-identity=3.6KB", 6000, 24, 140}, {"agents=100000-identity=small", 100000, 2, 8}} {
		f := newFleet(time.Second, 200000, time.Now)
		now := time.Now()
		val := strings.Repeat("v", c.valLen)
		for i := range c.agents {
			ls := make([]wire.Label, c.labels)
			for j := range ls {
				ls[j] = wire.Label{Name: "label_" + itoa(j), Value: val}
			}
			a := &Agent{id: "agent-" + itoa(i), hostname: "host-" + itoa(i), instance: "host-" + itoa(i), job: "node",
				version: "0.1.0", protocol: "v2", labels: ls,
				outages: []Outage{{Start: now.Add(-time.Hour), End: now.Add(-time.Minute), Cause: CauseNetwork}}}
			a.seen(now)
			f.addLocked(a)
		}
		b.Run(c.name+"/copy", func(b *testing.B) {
			for b.Loop() {
				f.mu.Lock()
				es := f.fileEntriesLocked()
				f.mu.Unlock()
				b.ReportMetric(float64(len(es)), "entries")
			}
		})
		b.Run(c.name+"/encode", func(b *testing.B) {
			for b.Loop() {
				f.mu.Lock()
				img := encodeFleet(f.fileEntriesLocked())
				f.mu.Unlock()
				b.SetBytes(int64(len(img)))
			}
		})
	}
}
