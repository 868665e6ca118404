package server

import (
	"encoding/json"
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
