package server

import (
	"errors"
	"net"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"hawk/internal/store"
	"hawk/internal/wire"
)

// Fleet is the registry of agents and legacy peers: who they are, when they
// were last heard from, their clocks. Safe for concurrent use.
type Fleet struct {
	offlineAfter time.Duration
	now          func() time.Time
	max          int // entries at most; a new agent beyond it is refused

	mu     sync.Mutex
	agents map[string]*Agent // by agent id; legacy peers by "legacy:<ip>"
}

// Agent is one agent or legacy peer. Identity fields are set under the
// fleet's lock; the counters are atomic, written by its session.
type Agent struct {
	// Under Fleet.mu.
	id, hostname, version, protocol, remote string
	job, instance                           string
	labels                                  []wire.Label
	session                                 *session // the current connection, nil if none
	conns                                   int      // open connections (legacy peers may have several)
	since                                   time.Time

	lastSeen atomic.Int64  // Unix ns of the last bytes read
	offset   atomic.Int64  // agent clock minus server clock, ns
	rtt      atomic.Int64  // ns
	samples  atomic.Uint64 // samples stored
	guard    seriesGuard   // distinct series the agent defined lately, across connections

	// Owned by the liveness loop.
	rateSamples uint64
	rateAt      time.Time
	rate        atomic.Uint64 // samples per second, float64 bits
	liveSeries  []store.Series
}

func newFleet(offlineAfter time.Duration, max int, now func() time.Time) *Fleet {
	return &Fleet{offlineAfter: offlineAfter, max: max, now: now, agents: make(map[string]*Agent)}
}

func (a *Agent) seen(t time.Time)        { a.lastSeen.Store(t.UnixNano()) }
func (a *Agent) clock(offset, rtt int64) { a.offset.Store(offset); a.rtt.Store(rtt) }

// errFleetFull refuses an agent the fleet has no room for.
var errFleetFull = errors.New("server: too many agents")

// attach registers the v2 session ss of the agent that sent h and returns
// the agent and the session it replaces, if that one is still open. A new
// agent id is refused with errFleetFull when the fleet is full.
func (f *Fleet) attach(h *wire.Hello, ss *session, now time.Time) (a *Agent, prev *session, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a = f.agents[h.AgentID]
	if a == nil {
		if len(f.agents) >= f.max {
			return nil, nil, errFleetFull
		}
		a = &Agent{id: h.AgentID}
		f.agents[h.AgentID] = a
	}
	a.hostname, a.version, a.protocol, a.remote = h.Hostname, h.AgentVersion, "v2", ss.remote
	a.labels = h.Labels
	a.job, a.instance = "", h.Hostname
	for _, l := range h.Labels {
		switch l.Name {
		case "job":
			a.job = l.Value
		case "instance":
			a.instance = l.Value
		}
	}
	prev, a.session = a.session, ss
	a.conns++
	a.since = now
	a.seen(now)
	return a, prev, nil
}

// attachLegacy registers a legacy connection, keyed by the peer's address.
func (f *Fleet) attachLegacy(remote net.Addr, now time.Time) (*Agent, error) {
	host := remote.String()
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	id := "legacy:" + host
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.agents[id]
	if a == nil {
		if len(f.agents) >= f.max {
			return nil, errFleetFull
		}
		a = &Agent{id: id, hostname: host, protocol: "legacy", job: "legacy", instance: host}
		f.agents[id] = a
	}
	a.remote = remote.String()
	a.conns++
	if a.conns == 1 {
		a.since = now
	}
	a.seen(now)
	return a, nil
}

// detach records that session ss of a ended.
func (f *Fleet) detach(a *Agent, ss *session) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a.conns--
	if a.session == ss {
		a.session = nil
	}
}

// AgentStatus is one row of the fleet, as /api/v1/agents serves it.
type AgentStatus struct {
	AgentID          string            `json:"agent_id"`
	Hostname         string            `json:"hostname"`
	Instance         string            `json:"instance"`
	Job              string            `json:"job,omitempty"`
	Version          string            `json:"version,omitempty"`
	Protocol         string            `json:"protocol"`
	RemoteAddr       string            `json:"remote_addr"`
	Up               bool              `json:"up"`
	Connected        bool              `json:"connected"`
	ConnectedSince   time.Time         `json:"connected_since"`
	LastSeen         time.Time         `json:"last_seen"`
	ClockOffset      float64           `json:"clock_offset_seconds"`
	RTT              float64           `json:"rtt_seconds"`
	SamplesPerSecond float64           `json:"samples_per_second"`
	SamplesTotal     uint64            `json:"samples_total"`
	Labels           map[string]string `json:"labels,omitempty"`
}

// Agents returns the fleet sorted by hostname, then id.
func (f *Fleet) Agents() []AgentStatus {
	now := f.now()
	f.mu.Lock()
	out := make([]AgentStatus, 0, len(f.agents))
	for _, a := range f.agents {
		out = append(out, f.statusLocked(a, now))
	}
	f.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Hostname != out[j].Hostname {
			return out[i].Hostname < out[j].Hostname
		}
		return out[i].AgentID < out[j].AgentID
	})
	return out
}

func (f *Fleet) statusLocked(a *Agent, now time.Time) AgentStatus {
	last := time.Unix(0, a.lastSeen.Load())
	st := AgentStatus{
		AgentID: a.id, Hostname: a.hostname, Instance: a.instance, Job: a.job, Version: a.version,
		Protocol: a.protocol, RemoteAddr: a.remote, Connected: a.conns > 0,
		Up:             now.Sub(last) <= f.offlineAfter,
		ConnectedSince: a.since.UTC(), LastSeen: last.UTC(),
		ClockOffset:      float64(a.offset.Load()) / 1e9,
		RTT:              float64(a.rtt.Load()) / 1e9,
		SamplesPerSecond: floatFromBits(a.rate.Load()),
		SamplesTotal:     a.samples.Load(),
	}
	if len(a.labels) > 0 {
		st.Labels = make(map[string]string, len(a.labels))
		for _, l := range a.labels {
			st.Labels[l.Name] = l.Value
		}
	}
	return st
}

// livenessSeries returns the agent's hawk_agent_* series, built once.
func (a *Agent) livenessSeries(st *AgentStatus) []store.Series {
	if a.liveSeries != nil && a.liveSeries[3].Labels.Get("version") == st.Version &&
		a.liveSeries[3].Labels.Get("protocol") == st.Protocol {
		return a.liveSeries
	}
	base := []string{"agent_id", st.AgentID, "hostname", st.Hostname, "instance", st.Instance, "job", st.Job}
	mk := func(name string, extra ...string) store.Series {
		return store.Series{Labels: labels.FromStrings(append(append([]string{model.MetricNameLabel, name}, base...), extra...)...)}
	}
	a.liveSeries = []store.Series{
		mk("hawk_agent_up"),
		mk("hawk_agent_last_seen_timestamp_seconds"),
		mk("hawk_agent_clock_offset_seconds"),
		// No remote address here: each reconnect comes from a new port and
		// would make a new series; /api/v1/agents shows the address.
		mk("hawk_agent_info", "version", st.Version, "protocol", st.Protocol),
	}
	return a.liveSeries
}
