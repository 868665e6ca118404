package daemon

import (
	"path/filepath"
	"time"

	"hawk/internal/api"
	"hawk/internal/options"
	"hawk/internal/server"
)

// Fleet configures the fleet: its file in -data, its bounds, and how
// outages are explained.
type Fleet struct {
	SaveInterval       time.Duration
	MaxLegacyAgents    int
	MaxAgentEntryBytes int
	MaxFleetIDBytes    int
	MaxOutagesPerAgent int
	OutageClassifyWait time.Duration
	AgentsPageLimit    int
	AgentsBytesRate    int
}

func (f *Fleet) declare(s *options.Set) {
	s.Duration(&f.SaveInterval, "fleet-save-interval", 2*time.Second, "how often a changed fleet is written to <data>/hawk-fleet at most (also written on shutdown)")
	s.Int(&f.MaxLegacyAgents, "max-legacy-agents", 10000, "legacy peers (no credentials) the server tracks at most, apart from -max-agents; a new one beyond is refused")
	s.Int(&f.MaxAgentEntryBytes, "max-agent-entry-bytes", 4096, "bytes of agent id, hostname, version and labels one HELLO may keep in the fleet; a larger HELLO is refused")
	s.Int(&f.MaxFleetIDBytes, "max-fleet-identity-bytes", server.DefaultMaxFleetIDBytes, "bytes of agent id, hostname, version and labels all agents keep in the fleet together; a new agent id beyond is refused (0: no bound)")
	s.Int(&f.MaxOutagesPerAgent, "max-outages-per-agent", 32, "outages remembered per agent (the oldest are dropped)")
	s.Duration(&f.OutageClassifyWait, "outage-classify-wait", 2*time.Minute, "how long after an agent returns its spool may take to show it collected while away")
	s.Int(&f.AgentsPageLimit, "agents-page-limit", 500, "rows /api/v1/agents returns when the request names no limit (and the most it may ask: 10 times this)")
	s.Int(&f.AgentsBytesRate, "max-agents-page-bytes-rate", api.DefaultAgentsBytesRate, "bytes all /api/v1/agents answers hold per second; a request waits, within -query-timeout, for the answers before it to be paid for (0: no bound)")
}

// apply sets the fleet's server options; the file lives in data.
func (f *Fleet) apply(c *server.Config, data string) {
	c.FleetFile = filepath.Join(data, "hawk-fleet")
	c.FleetSaveInterval, c.MaxLegacyAgents, c.MaxAgentEntryBytes = f.SaveInterval, f.MaxLegacyAgents, f.MaxAgentEntryBytes
	c.MaxOutagesPerAgent, c.OutageClassifyWait = f.MaxOutagesPerAgent, f.OutageClassifyWait
	c.MaxFleetIDBytes = unbounded(f.MaxFleetIDBytes)
}
