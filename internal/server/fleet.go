package server

import (
	"errors"
	"math"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"hawk/internal/wire"
)

// Fleet is the registry of agents and legacy peers: who they are, when they
// were last heard from, their clocks, whether they are judged up, and the
// outages they had. Every agent id it ever welcomed stays until an operator
// forgets it (Forget); with a fleet file it survives restarts and upgrades.
// Safe for concurrent use.
type Fleet struct {
	offlineAfter time.Duration
	margin       time.Duration // how far inside a silent period a sample must lie to prove the host alive
	now          func() time.Time
	max          int // v2 agents at most; a new one beyond is refused
	maxLegacy    int // legacy peers at most, apart from max
	maxEntry     int // bytes of identity (id, hostname, version, labels) one entry may hold
	maxIDBytes   int // bytes of identity all v2 entries may hold together before a new id is refused; 0: no bound
	maxOutages   int // outages kept per agent

	mu      sync.Mutex
	agents  map[string]*Agent // by agent id; legacy peers by "legacy:<ip>"
	list    []*Agent          // the same entries, for the liveness loop's scans
	legacyN int               // legacy entries in agents
	idBytes int               // identity bytes of the v2 entries (Agent.idBytes summed)
	order   []*Agent          // list sorted by hostname then id, for pages; nil when out of date; replaced, never changed in place
	orderV  uint64            // changes of list or of a hostname: an order sorted at another is out of date
	dirty   bool              // the fleet file is out of date
	gone    []*Agent          // forgotten entries whose series the loop must mark stale
	wake    chan struct{}     // tells the liveness loop that an agent attached or left (capacity 1)
}

// Agent is one agent or legacy peer. Identity fields are set under the
// fleet's lock; the counters are atomic, written by its session.
type Agent struct {
	// Under Fleet.mu.
	id, hostname, version, protocol, remote string
	job, instance                           string
	labels                                  []wire.Label
	idBytes                                 int      // identityBytes as counted in Fleet.idBytes
	bootTime                                int64    // from HELLO, Unix seconds; 0 unknown
	session                                 *session // the current connection, nil if none
	conns                                   int      // open connections (legacy peers may have several)
	since                                   time.Time
	closedAt                                time.Time // the agent's last connection was closed by it (not drained); zero while connected
	judgedUp                                bool      // what up last said
	judged                                  bool      // up was written at least once (this process or, loaded, a previous one)
	silentSince                             time.Time // last heard before it was judged offline
	outages                                 []Outage  // oldest first, at most maxOutages
	outageCounts                            [nCauses]uint64
	pending                                 *pendingOutage // the outage being classified, since the agent came back
	row                                     *agentRow      // the identity above encoded for /api/v1/agents; nil: encode per request

	lastSeen  atomic.Int64 // Unix ns of the last bytes read
	offset    atomic.Int64 // agent clock minus server clock, ns
	rtt       atomic.Int64 // ns
	samples   atomic.Uint64
	classify  atomic.Bool // pending != nil: commits look at sample times
	guard     seriesGuard // distinct series the agent defined lately, across connections
	liveGuard seriesGuard // distinct liveness series lately: bounds identity churn

	// Owned by the liveness loop.
	rateSamples   uint64
	rateAt        time.Time
	rate          atomic.Uint64   // samples per second, float64 bits
	live          *liveSet        // the hawk_agent_* and up series as last written
	countsWritten [nCauses]uint64 // outage counts last written
}

func newFleet(offlineAfter time.Duration, max int, now func() time.Time) *Fleet {
	return &Fleet{offlineAfter: offlineAfter, margin: offlineAfter / 3, max: max, maxLegacy: max, maxEntry: 1 << 30,
		maxOutages: 32, now: now, agents: make(map[string]*Agent), wake: make(chan struct{}, 1)}
}

func (a *Agent) seen(t time.Time)        { a.lastSeen.Store(t.UnixNano()) }
func (a *Agent) clock(offset, rtt int64) { a.offset.Store(offset); a.rtt.Store(rtt) }

// Errors of attach: the fleet refuses an agent it has no room for, and a
// HELLO whose identity is larger than an entry may hold.
var (
	errFleetFull      = errors.New("server: too many agents")
	errLegacyFull     = errors.New("server: too many legacy peers")
	errEntryTooLarge  = errors.New("server: agent identity too large")
	errFleetBytes     = errors.New("server: the agents' identities fill the fleet")
	errUnknownAgent   = errors.New("server: no such agent")
	errAgentConnected = errors.New("server: the agent is connected; stop it before forgetting it")
)

// entrySize is the bytes of identity a HELLO would keep in the fleet.
func entrySize(h *wire.Hello) int {
	return identitySize(h.AgentID, h.Hostname, h.AgentVersion, h.Labels)
}

// identitySize is the bytes of an identity's id, hostname, version and
// labels: what -max-agent-entry-bytes and -max-fleet-identity-bytes count.
func identitySize(id, hostname, version string, labels []wire.Label) int {
	n := len(id) + len(hostname) + len(version)
	for _, l := range labels {
		n += len(l.Name) + len(l.Value)
	}
	return n
}

func (f *Fleet) poke() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// identityBytes is entrySize of the identity a keeps; a legacy entry's
// (its address) is not counted.
func (a *Agent) identityBytes() int {
	if a.protocol == "legacy" {
		return 0
	}
	return identitySize(a.id, a.hostname, a.version, a.labels)
}

// recountLocked brings f.idBytes up to date with a's identity.
func (f *Fleet) recountLocked(a *Agent) {
	n := a.identityBytes()
	f.idBytes += n - a.idBytes
	a.idBytes = n
}

// addLocked inserts a new entry.
func (f *Fleet) addLocked(a *Agent) {
	f.agents[a.id] = a
	f.list = append(f.list, a)
	if a.protocol == "legacy" {
		f.legacyN++
	}
	f.recountLocked(a)
	f.dirty = true
	f.reorderLocked()
}

// reorderLocked marks the pages' order out of date.
func (f *Fleet) reorderLocked() {
	f.order = nil
	f.orderV++
}

// attach registers the v2 session ss of the agent that sent h and returns
// the agent and the session it replaces, if that one is still open. A new
// agent id is refused with errFleetFull when the fleet is full; a HELLO
// whose identity exceeds the entry size with errEntryTooLarge.
func (f *Fleet) attach(h *wire.Hello, ss *session, now time.Time) (a *Agent, prev *session, err error) {
	if entrySize(h) > f.maxEntry {
		return nil, nil, errEntryTooLarge
	}
	job, instance := "", h.Hostname
	for _, l := range h.Labels {
		switch l.Name {
		case "job":
			job = l.Value
		case "instance":
			instance = l.Value
		}
	}
	id := AgentIdentity{AgentID: h.AgentID, Hostname: h.Hostname, Instance: instance, Job: job, Version: h.AgentVersion,
		Protocol: "v2", RemoteAddr: ss.remote}
	row := newAgentRow(id, h.Labels, f.maxEntry) // before the lock: encoding is the costly part
	f.mu.Lock()
	defer f.mu.Unlock()
	a = f.agents[h.AgentID]
	if a == nil {
		if len(f.agents)-f.legacyN >= f.max {
			return nil, nil, errFleetFull
		}
		if f.maxIDBytes > 0 && f.idBytes+entrySize(h) > f.maxIDBytes {
			return nil, nil, errFleetBytes
		}
		a = &Agent{id: h.AgentID, protocol: "v2"}
		f.addLocked(a)
	}
	if a.hostname != h.Hostname || a.version != h.AgentVersion || a.job != job || a.instance != instance ||
		!sameLabels(a.labels, h.Labels) {
		f.dirty = true
	}
	if a.hostname != h.Hostname {
		f.reorderLocked()
	}
	a.hostname, a.version, a.protocol, a.remote = h.Hostname, h.AgentVersion, "v2", ss.remote
	a.labels = cloneLabels(h.Labels)
	a.job, a.instance = job, instance
	f.recountLocked(a) // an id already known is not refused for its identity growing, within maxEntry
	f.setRowLocked(a, id, h.Labels, row)
	if !a.judgedUp && a.judged && !a.silentSince.IsZero() {
		a.pending = &pendingOutage{start: a.silentSince, end: now, peerClosed: !a.closedAt.IsZero(),
			reboot: h.BootTime != 0 && a.bootTime != 0 && h.BootTime != a.bootTime}
		a.silentSince = time.Time{}
		if a.pending.reboot {
			f.finishOutageLocked(a, now)
		} else {
			a.classify.Store(true)
		}
	}
	if h.BootTime != 0 && h.BootTime != a.bootTime {
		a.bootTime = h.BootTime
		f.dirty = true
	}
	prev, a.session = a.session, ss
	a.conns++
	a.since = now
	a.closedAt = time.Time{}
	a.seen(now)
	f.poke()
	return a, prev, nil
}

// setRowLocked gives a the row encoded before the lock for identity id and
// labels, unless a's identity is another (a legacy entry loaded from a
// fleet file with labels): then a's own, encoded here.
func (f *Fleet) setRowLocked(a *Agent, id AgentIdentity, labels []wire.Label, row *agentRow) {
	if a.identityOf() != id || !sameLabels(a.labels, labels) {
		row = newAgentRow(a.identityOf(), a.labels, f.maxEntry)
	}
	a.row = row
}

// attachLegacy registers a legacy connection, keyed by the peer's address.
// Legacy peers carry no credentials, so they have their own, smaller cap:
// they cannot fill the fleet and lock out v2 agents.
func (f *Fleet) attachLegacy(remote net.Addr, now time.Time) (*Agent, error) {
	host := remote.String()
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	id := "legacy:" + host
	rid := AgentIdentity{AgentID: id, Hostname: host, Instance: host, Job: "legacy", Protocol: "legacy", RemoteAddr: remote.String()}
	row := newAgentRow(rid, nil, f.maxEntry)
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.agents[id]
	if a == nil {
		if f.legacyN >= f.maxLegacy {
			return nil, errLegacyFull
		}
		a = &Agent{id: id, hostname: host, protocol: "legacy", job: "legacy", instance: host}
		f.addLocked(a)
	}
	a.remote = rid.RemoteAddr
	f.setRowLocked(a, rid, nil, row)
	a.conns++
	if a.conns == 1 {
		a.since = now
		if !a.judgedUp && a.judged && !a.silentSince.IsZero() {
			a.pending = &pendingOutage{start: a.silentSince, end: now}
			a.silentSince = time.Time{}
			f.finishOutageLocked(a, now)
		}
	}
	a.closedAt = time.Time{}
	a.seen(now)
	f.poke()
	return a, nil
}

// detach records that session ss of a ended. A v2 agent whose connection
// the agent itself closed (its process exited or was killed: the kernel
// sends FIN) is offline at once, unless the server is draining or a newer
// connection of the agent replaced this one.
func (f *Fleet) detach(a *Agent, ss *session, peerClosed bool, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a.conns--
	if a.session == ss {
		a.session = nil
		if peerClosed && a.conns == 0 && a.protocol == "v2" {
			a.closedAt = now
			f.dirty = true
			f.poke()
		}
	}
}

// Forget removes an agent the operator no longer wants listed. A
// connected agent is not forgotten (it would be back at once).
func (f *Fleet) Forget(id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.agents[id]
	if a == nil {
		return errUnknownAgent
	}
	if a.conns > 0 {
		return errAgentConnected
	}
	delete(f.agents, id)
	for i, b := range f.list {
		if b == a {
			f.list[i] = f.list[len(f.list)-1]
			f.list[len(f.list)-1] = nil
			f.list = f.list[:len(f.list)-1]
			break
		}
	}
	if a.protocol == "legacy" {
		f.legacyN--
	}
	f.idBytes -= a.idBytes
	a.idBytes = 0
	a.classify.Store(false)
	f.reorderLocked()
	f.gone = append(f.gone, a)
	f.dirty = true
	f.poke()
	return nil
}

// ErrUnknownAgent and ErrAgentConnected are Forget's errors, for callers
// that map them to HTTP statuses.
var (
	ErrUnknownAgent   = errUnknownAgent
	ErrAgentConnected = errAgentConnected
)

// AgentStatus is one row of the fleet, as /api/v1/agents serves it.
type AgentStatus struct {
	AgentIdentity
	Up               bool              `json:"up"`
	Connected        bool              `json:"connected"`
	ConnectedSince   time.Time         `json:"connected_since"`
	LastSeen         time.Time         `json:"last_seen"`
	ClockOffset      float64           `json:"clock_offset_seconds"`
	RTT              float64           `json:"rtt_seconds"`
	SamplesPerSecond float64           `json:"samples_per_second"`
	SamplesTotal     uint64            `json:"samples_total"`
	Labels           map[string]string `json:"labels,omitempty"`
	BootTime         int64             `json:"boot_time,omitempty"`
	LastOutage       *OutageJSON       `json:"last_outage,omitempty"`
}

// Agents returns the whole fleet sorted by hostname, then id.
func (f *Fleet) Agents() []AgentStatus {
	out, _ := f.AgentsPage(AgentsQuery{})
	return out
}

// AgentsQuery selects a page of the fleet.
type AgentsQuery struct {
	Match  string // substring of the id, hostname, instance or job; case-insensitive; "" matches all
	Down   bool   // only agents judged offline
	Offset int    // rows to skip
	Limit  int    // rows at most; <= 0 means all
}

// AgentsPage returns the rows q selects, sorted by hostname then id, and
// how many rows match in all.
func (f *Fleet) AgentsPage(q AgentsQuery) (rows []AgentStatus, total int) {
	now := f.now()
	page, total := f.pageOf(q, now)
	rows = make([]AgentStatus, 0, len(page))
	f.mu.Lock()
	for _, a := range page {
		rows = append(rows, f.statusLocked(a, now))
	}
	f.mu.Unlock()
	return rows, total
}

// AgentsPageJSON appends to dst the rows q selects as a JSON array, the
// bytes json.Marshal makes of AgentsPage's rows, and returns how many rows
// match in all. Each row is its agent's encoded identity (agentRow) with
// the live members appended; the lock is held only to copy them.
func (f *Fleet) AgentsPageJSON(dst []byte, q AgentsQuery) (out []byte, total int, err error) {
	now := f.now()
	page, total := f.pageOf(q, now)
	snaps := make([]rowSnapshot, len(page))
	size := 2
	f.mu.Lock()
	for i, a := range page {
		snaps[i] = f.snapshotLocked(a, now)
		if snaps[i].row != nil {
			size += len(snaps[i].row.b)
		}
		size += 256 // the live members
	}
	f.mu.Unlock()
	out = slices.Grow(dst, size)
	out = append(out, '[')
	for i := range snaps {
		if i > 0 {
			out = append(out, ',')
		}
		if out, err = appendRow(out, &snaps[i]); err != nil {
			return dst, 0, err
		}
	}
	return append(out, ']'), total, nil
}

// pageOf returns the entries of the page q selects, sorted by hostname then
// id, and how many match in all. The order is sorted without the lock
// and kept until an entry comes, goes or changes its hostname; a page
// scans it under the lock (without the lock's copy, when it changed during the sort).
func (f *Fleet) pageOf(q AgentsQuery, now time.Time) (page []*Agent, total int) {
	order := f.sortedOrder()
	match := strings.ToLower(q.Match)
	lo := max(q.Offset, 0)
	hi := math.MaxInt
	if q.Limit > 0 && lo <= math.MaxInt-q.Limit {
		hi = lo + q.Limit
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if match == "" && !q.Down {
		total = len(order)
		return slices.Clone(order[min(lo, total):min(hi, total)]), total
	}
	for _, a := range order {
		if match != "" && !strings.Contains(strings.ToLower(a.id), match) &&
			!strings.Contains(strings.ToLower(a.hostname), match) &&
			!strings.Contains(strings.ToLower(a.instance), match) && !strings.Contains(strings.ToLower(a.job), match) {
			continue
		}
		if q.Down && f.onlineLocked(a, now) {
			continue
		}
		if total >= lo && total < hi {
			page = append(page, a)
		}
		total++
	}
	return page, total
}

// sortedOrder returns the fleet sorted by hostname then id: the kept order,
// or one sorted now, outside the lock.
func (f *Fleet) sortedOrder() []*Agent {
	f.mu.Lock()
	if f.order != nil {
		defer f.mu.Unlock()
		return f.order
	}
	v := f.orderV
	type key struct {
		hostname, id string
		a            *Agent
	}
	keys := make([]key, len(f.list))
	for i, a := range f.list {
		keys[i] = key{a.hostname, a.id, a}
	}
	f.mu.Unlock()
	slices.SortFunc(keys, func(x, y key) int {
		if c := strings.Compare(x.hostname, y.hostname); c != 0 {
			return c
		}
		return strings.Compare(x.id, y.id)
	})
	order := make([]*Agent, len(keys))
	for i, k := range keys {
		order[i] = k.a
	}
	f.mu.Lock()
	if f.orderV == v {
		f.order = order
	}
	f.mu.Unlock()
	return order
}

// onlineLocked judges an agent: heard from within offlineAfter, and its
// connection not closed by it.
func (f *Fleet) onlineLocked(a *Agent, now time.Time) bool {
	if !a.closedAt.IsZero() {
		return false
	}
	return now.Sub(time.Unix(0, a.lastSeen.Load())) <= f.offlineAfter
}

func (f *Fleet) statusLocked(a *Agent, now time.Time) AgentStatus {
	last := time.Unix(0, a.lastSeen.Load())
	st := AgentStatus{
		AgentIdentity: a.identityOf(), Connected: a.conns > 0,
		Up:             f.onlineLocked(a, now),
		ConnectedSince: a.since.UTC(), LastSeen: last.UTC(),
		ClockOffset:      float64(a.offset.Load()) / 1e9,
		RTT:              float64(a.rtt.Load()) / 1e9,
		SamplesPerSecond: floatFromBits(a.rate.Load()),
		SamplesTotal:     a.samples.Load(),
		BootTime:         a.bootTime,
	}
	if len(a.labels) > 0 {
		st.Labels = make(map[string]string, len(a.labels))
		for _, l := range a.labels {
			st.Labels[l.Name] = l.Value
		}
	}
	if n := len(a.outages); n > 0 {
		o := a.outages[n-1].json()
		st.LastOutage = &o
	}
	return st
}

// liveSample is one agent's state as the liveness loop writes it.
type liveSample struct {
	st       AgentStatus
	counts   [nCauses]uint64
	outageAt time.Time // end of the newest outage, for its counter samples
}

func sameLabels(a, b []wire.Label) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func cloneLabels(ls []wire.Label) []wire.Label {
	if len(ls) == 0 {
		return nil
	}
	out := make([]wire.Label, len(ls))
	for i, l := range ls {
		out[i] = wire.Label{Name: strings.Clone(l.Name), Value: strings.Clone(l.Value)}
	}
	return out
}
