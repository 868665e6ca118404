package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hawk/internal/procs"
	"hawk/internal/store"
	"hawk/internal/wire"
)

// SequenceStore remembers the highest batch sequence committed per agent.
// *store.Sequences implements it.
type SequenceStore interface {
	Last(agentID string) uint64
	Advance(agentID string, seq uint64) error
}

// Authenticator checks a HELLO's credentials; a non-nil error refuses the
// session with ERROR(CodeAuth) and the error's text.
type Authenticator func(h *wire.Hello, remote net.Addr) error

// Config configures a Server. Zero fields take the defaults noted.
type Config struct {
	Sink      store.Sink    // where samples go; required
	Sequences SequenceStore // exactly-once bookkeeping; nil keeps it in memory only
	Auth      Authenticator // nil accepts every HELLO
	Enrolment *Enrolments   // binds agent ids to the secrets issued at their first HELLO; nil: no binding
	Logger    *slog.Logger
	Registry  prometheus.Registerer // nil: metrics are not registered
	ServerID  string

	MaxConns          int           // open connections at most (default 100000)
	HeartbeatInterval time.Duration // asked of v2 agents in WELCOME (default 2s)
	MissedHeartbeats  int           // a peer silent this many intervals is offline (default 3)
	HandshakeTimeout  time.Duration // from accept to HELLO (default 10s)
	StallTimeout      time.Duration // an incomplete frame older than this is given up (default 2s)
	MaxSeries         int           // series dictionary entries per connection (default 100000)
	MaxDictBytes      int           // label and help bytes the dictionary of one connection keeps (default 64 MiB)
	MaxBatchSamples   int           // samples in one batch (default 200000)
	Window            int           // unacknowledged batches an agent may have in flight (default 64)
	MaxSeqGap         int           // a new batch's sequence at most this far ahead of the stored or last one (default 2^24)
	LivenessInterval  time.Duration // how often hawk_agent_* series are written (default 10s)
	DisableLegacy     bool          // refuse legacy JSON packets

	// TLS, if set, is offered on the agent port: a connection whose first
	// byte is a TLS handshake record (0x16) is served over TLS, any other
	// is plaintext and subject to Plaintext. With ClientAuth set to verify
	// client certificates this is mutual TLS.
	TLS *tls.Config
	// Plaintext says what a plaintext connection may speak when TLS is
	// set (default PlaintextLegacy); without TLS everything is plaintext.
	Plaintext PlaintextPolicy
	// BindClientCert requires a v2 agent to present a verified client
	// certificate whose common name or one of whose SANs (DNS, URI, email)
	// is its agent id.
	BindClientCert bool
	// LegacyAllow lists the networks legacy peers may connect from; nil
	// allows all. Legacy packets carry no credentials.
	LegacyAllow []netip.Prefix

	MaxConnsPerAddr        int           // open connections per source IP address at most (default 20000)
	MaxConnRate            int           // new connections accepted per second, all listeners together (burst: a second's worth); 0: no limit (acceptrate.go)
	MaxAgents              int           // v2 agents the fleet remembers at most (legacy peers: MaxLegacyAgents); a new one beyond is refused (default 250000)
	IdleTimeout            time.Duration // a welcomed peer silent this long is closed (default MissedHeartbeats × HeartbeatInterval)
	FrameTimeout           time.Duration // longest one frame may take to arrive, byte by byte (default 30s)
	MaxSeriesPerAgent      int           // distinct series one agent id may define within two SeriesWindows, across connections (default 50000)
	MaxSeriesTotal         int           // distinct series all agents together may define within two SeriesWindows (default 1000000)
	MaxOpenBatchBytes      int           // memory one connection's unfinished batches may hold (default 8 MiB)
	MaxRefusedSeriesRate   int           // series definitions refused per second, server-wide, before the sessions sending them wait (default 50000)
	MaxOpenBatchBytesTotal int           // memory all connections' unfinished batches may hold (default 256 MiB)
	SeriesWindow           time.Duration // the cardinality guard forgets series not defined for two windows (default 1h)
	MaxLabels              int           // labels per series, and in HELLO, at most (default 64)
	MaxLabelNameLen        int           // bytes of a label or metric name at most (default 256)
	MaxLabelValueLen       int           // bytes of a label value (and of HELLO's text fields) at most (default 4096)
	MaxHelpLen             int           // bytes of a series' HELP text kept; the rest is cut (default 1024)
	MaxFutureSkew          time.Duration // samples further ahead of the server clock are dropped (default 10m)
	MaxSampleAge           time.Duration // sent in WELCOME: the sink stores nothing older (the TSDB's out-of-order window); 0: unknown
	// StampIdentity sets the identity labels of every series an agent
	// sends from its session: agent_id is the authenticated agent id, and
	// job and instance are those of its HELLO unless HonorLabels (as
	// Prometheus' honor_labels keeps a target's own).
	StampIdentity bool
	HonorLabels   bool

	// FleetFile, if set, persists the fleet (see fleetfile.go): read by
	// New, written on change at most every FleetSaveInterval and on Shutdown.
	FleetFile          string
	FleetSaveInterval  time.Duration // default 2s
	MaxLegacyAgents    int           // legacy peers the fleet remembers at most, apart from MaxAgents (default 10000)
	MaxAgentEntryBytes int           // bytes of id, hostname, version and labels one HELLO may keep in the fleet (default 4096)
	MaxFleetIDBytes    int           // bytes of identity (as MaxAgentEntryBytes counts it) all v2 agents keep together before a new id is refused (default 128 MiB; <0: no bound)
	MaxOutagesPerAgent int           // outages kept per agent (default 32)
	// OutageClassifyWait is how long after an agent comes back its spool
	// may take to tell whether it collected while away (default 2m).
	OutageClassifyWait time.Duration

	// AuthFailureDelay holds the answer to a HELLO refused for its
	// credentials (ERROR 3) this long (0: none). MaxAuthFailures such
	// refusals from one source IP address within AuthFailurePenalty get
	// that source's new connections refused at accept (held
	// AuthFailureDelay unread, then closed) for AuthFailurePenalty (0:
	// never; the period defaults to 1m).
	// AuthFailureSources bounds the addresses tracked (default 16384 per
	// generation, two generations). See authpenalty.go.
	AuthFailureDelay   time.Duration
	MaxAuthFailures    int
	AuthFailurePenalty time.Duration
	AuthFailureSources int
	// RefusalLogsPerSecond bounds the WARN lines of refusals per reason
	// and second; the rest are summed up in one line (default 5;
	// negative: none).
	RefusalLogsPerSecond int

	now  func() time.Time                            // clock seam for tests
	wait func(d time.Duration, stop <-chan struct{}) // the auth-failure delay; seam for tests
}

// DefaultMaxFleetIDBytes bounds the identity bytes (id, hostname, version
// and labels, as -max-agent-entry-bytes counts them) all v2 agents keep in
// the fleet together. An agent with 3.6 KB of labels held 43 to 46 KiB of
// RSS (its entry and cached row, its liveness series, the collector's
// headroom: docs/fleet.md): at the default -max-agents of 250,000, such
// agents would come to 11 to 12 GiB. 128 MiB holds 250,000 typical agents
// (identities of 200 to 500 bytes) and about 32,000 of the largest.
const DefaultMaxFleetIDBytes = 128 << 20

func (c *Config) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defInt := func(d *int, v int) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.HeartbeatInterval, 2*time.Second)
	def(&c.HandshakeTimeout, 10*time.Second)
	def(&c.StallTimeout, 2*time.Second)
	def(&c.LivenessInterval, 10*time.Second)
	defInt(&c.MaxConns, 100000)
	defInt(&c.MissedHeartbeats, 3)
	defInt(&c.MaxSeries, 100000)
	defInt(&c.MaxBatchSamples, 200000)
	defInt(&c.Window, 64)
	defInt(&c.MaxSeqGap, 1<<24)
	def(&c.IdleTimeout, c.HeartbeatInterval*time.Duration(c.MissedHeartbeats))
	def(&c.FrameTimeout, 30*time.Second)
	def(&c.SeriesWindow, time.Hour)
	def(&c.MaxFutureSkew, 10*time.Minute)
	defInt(&c.MaxConnsPerAddr, 20000)
	defInt(&c.MaxAgents, 250000)
	defInt(&c.MaxDictBytes, 64<<20)
	defInt(&c.MaxSeriesPerAgent, 50000)
	defInt(&c.MaxSeriesTotal, 1000000)
	defInt(&c.MaxOpenBatchBytes, 8<<20)
	defInt(&c.MaxRefusedSeriesRate, 50000)
	defInt(&c.MaxOpenBatchBytesTotal, 256<<20)
	defInt(&c.MaxLabels, 64)
	defInt(&c.MaxLabelNameLen, 256)
	defInt(&c.MaxLabelValueLen, 4096)
	defInt(&c.MaxHelpLen, 1024)
	def(&c.FleetSaveInterval, 2*time.Second)
	defInt(&c.MaxLegacyAgents, 10000)
	defInt(&c.MaxAgentEntryBytes, 4096)
	if c.MaxFleetIDBytes == 0 {
		c.MaxFleetIDBytes = DefaultMaxFleetIDBytes
	}
	defInt(&c.MaxOutagesPerAgent, 32)
	def(&c.OutageClassifyWait, 2*time.Minute)
	def(&c.AuthFailurePenalty, time.Minute)
	defInt(&c.AuthFailureSources, 16384)
	if c.RefusalLogsPerSecond == 0 {
		c.RefusalLogsPerSecond = 5
	}
	if c.wait == nil {
		c.wait = waitOrStop
	}
	if c.Plaintext == PlaintextDefault {
		c.Plaintext = PlaintextLegacy
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.ServerID == "" {
		c.ServerID = "hawk"
	}
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("server: closed")

// Server accepts agent connections and serves both payload encodings on
// one port. Its methods are safe for concurrent use.
type Server struct {
	cfg            Config
	log            *slog.Logger
	m              *metrics
	fleet          *Fleet
	commits        *committer      // every session's commits go through it
	allSeries      seriesGuard     // bounds the series of all agents together
	refusedDefs    *refusalPacer   // paces the series definitions refused, server-wide
	defining       *definingPlaces // batches that define series take turns
	accepts        acceptPacer     // paces the accept loops: MaxConnRate
	openBatchBytes atomic.Int64    // memory the sessions' unfinished batches hold
	failures       *authFailures
	heldPenalised  atomic.Int64 // penalised connections waiting to be closed
	refusals       *refusalLog

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	sessions  map[*session]struct{}
	perAddr   map[netip.Addr]int // open connections by source address
	draining  atomic.Bool
	sessWG    sync.WaitGroup // one per session goroutine
	loopWG    sync.WaitGroup // the liveness loop
	scratch   []*Agent       // the liveness loop's copy of the fleet list
	stop      chan struct{}  // closed by Shutdown
	stopOnce  sync.Once
}

// New returns a Server; call Serve to start it and Shutdown to stop it.
func New(cfg Config) (*Server, error) {
	if cfg.Sink == nil {
		return nil, errors.New("server: no sink")
	}
	cfg.setDefaults()
	if nofile, ok := openFilesLimit(); ok {
		if n := clampConns(cfg.MaxConns, nofile); n < cfg.MaxConns {
			cfg.Logger.Warn("max connections lowered to fit the open-files limit", "asked", cfg.MaxConns,
				"limit", nofile, "max_connections", n)
			cfg.MaxConns = n
		}
	}
	if cfg.Sequences == nil {
		cfg.Sequences = newMemSequences()
	}
	s := &Server{
		cfg:       cfg,
		log:       cfg.Logger,
		m:         newMetrics(),
		listeners: make(map[net.Listener]struct{}),
		sessions:  make(map[*session]struct{}),
		perAddr:   make(map[netip.Addr]int),
		stop:      make(chan struct{}),
	}
	s.failures = newAuthFailures(cfg.MaxAuthFailures, cfg.AuthFailurePenalty, cfg.AuthFailureSources)
	s.refusals = newRefusalLog(cfg.Logger, max(cfg.RefusalLogsPerSecond, 0), time.Second, cfg.now)
	s.refusedDefs = newRefusalPacer(cfg.MaxRefusedSeriesRate)
	s.defining = newDefiningPlaces(s.m.definingWaits)
	s.accepts = newAcceptPacer(cfg.MaxConnRate)
	s.commits = &committer{sink: cfg.Sink, maxLeaders: procs.CPUs(), now: cfg.now,
		observe: func(d time.Duration) { s.m.commitSeconds.Observe(d.Seconds()) }}
	s.fleet = newFleet(cfg.HeartbeatInterval*time.Duration(cfg.MissedHeartbeats), cfg.MaxAgents, cfg.now)
	s.fleet.maxLegacy, s.fleet.maxEntry, s.fleet.maxOutages = cfg.MaxLegacyAgents, cfg.MaxAgentEntryBytes, cfg.MaxOutagesPerAgent
	s.fleet.maxIDBytes = max(cfg.MaxFleetIDBytes, 0)
	s.fleet.margin = cfg.HeartbeatInterval
	if cfg.FleetFile != "" {
		if err := s.fleet.load(cfg.FleetFile); err != nil {
			return nil, err
		}
	}
	if cfg.Registry != nil {
		if err := s.m.register(cfg.Registry); err != nil {
			return nil, fmt.Errorf("server: register metrics: %w", err)
		}
	}
	s.loopWG.Add(1)
	go s.livenessLoop()
	return s, nil
}

// Fleet returns the registry of agents and legacy peers.
func (s *Server) Fleet() *Fleet { return s.fleet }

// Serve accepts connections on ln until Shutdown, and returns
// ErrServerClosed then. It closes ln when it returns.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.draining.Load() {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
		ln.Close()
	}()
	var backoff time.Duration
	credit := 0 // connections this loop may accept before it paces: acceptrate.go
	for {
		s.paceAccept(&credit)
		c, err := ln.Accept()
		if err != nil {
			if s.draining.Load() {
				return ErrServerClosed
			}
			if retryable(err) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("accept failed; retrying", "err", err, "after", backoff)
				select {
				case <-time.After(backoff):
				case <-s.stop:
				}
				continue
			}
			return fmt.Errorf("server: accept: %w", err)
		}
		backoff = 0
		s.startSession(c)
	}
}

// fdReserve is how many file descriptors the connection limit leaves for
// everything else: the TSDB's blocks, WAL and chunks, HTTP clients, logs.
const fdReserve = 1024

// clampConns fits a connection limit under an open-files limit (Go raises
// the soft limit to the hard one at start-up). Past it, accept fails with
// EMFILE and connections wait unanswered in the backlog, and the storage
// runs out of descriptors too.
func clampConns(maxConns int, nofile uint64) int {
	if nofile <= fdReserve*2 {
		return max(1, min(maxConns, int(nofile/2)))
	}
	return min(maxConns, int(nofile-fdReserve))
}

// retryable reports whether an Accept error is one to wait out (out of
// file descriptors or memory, a connection aborted before it was accepted)
// rather than the end of the listener.
func retryable(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ECONNABORTED, syscall.ENOBUFS, syscall.ENOMEM} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func (s *Server) startSession(c net.Conn) {
	addr := remoteAddr(c)
	if s.penalisedAtAccept(c, addr) { // before any work for the connection
		return
	}
	s.mu.Lock()
	if s.draining.Load() {
		s.mu.Unlock()
		c.Close()
		return
	}
	if len(s.sessions) >= s.cfg.MaxConns {
		s.mu.Unlock()
		s.refuse("max_connections", "connection closed at accept: -max-connections open", "addr", addr)
		c.Close()
		return
	}
	if s.perAddr[addr] >= s.cfg.MaxConnsPerAddr {
		s.mu.Unlock()
		s.refuse("max_connections_per_address", "connection closed at accept: -max-connections-per-address open from its source", "addr", addr)
		c.Close()
		return
	}
	s.perAddr[addr]++
	ss := newSession(s, c)
	ss.addr = addr
	s.sessions[ss] = struct{}{}
	s.sessWG.Add(1)
	s.mu.Unlock()
	s.m.connsOpen.Inc()
	go ss.run()
}

func (s *Server) endSession(ss *session) {
	s.mu.Lock()
	delete(s.sessions, ss)
	if s.perAddr[ss.addr]--; s.perAddr[ss.addr] <= 0 {
		delete(s.perAddr, ss.addr)
	}
	s.mu.Unlock()
	s.m.connsOpen.Dec()
	s.sessWG.Done()
}

// Shutdown stops accepting, tells every v2 agent to go away once what it
// sent is committed and acknowledged, closes legacy connections after
// answering what they sent, and waits for every session to end. If ctx
// ends first, the remaining connections are closed at once and ctx's error
// is returned. The sink is not closed: it belongs to the caller.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.draining.Store(true)
	for ln := range s.listeners {
		ln.Close()
	}
	for ss := range s.sessions {
		ss.drain()
	}
	s.mu.Unlock()
	s.stopOnce.Do(func() { close(s.stop) })

	done := make(chan struct{})
	go func() {
		s.sessWG.Wait()
		s.loopWG.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for ss := range s.sessions {
			ss.conn.Close()
		}
		s.mu.Unlock()
		<-done
		return ctx.Err()
	}
}

// remoteAddr returns the IP address a connection comes from; the zero
// Addr if it has none (a pipe in tests).
func remoteAddr(c net.Conn) netip.Addr {
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// memSequences keeps sequences in memory, for servers with no data
// directory of their own.
type memSequences struct {
	mu   sync.Mutex
	last map[string]uint64
}

func newMemSequences() *memSequences { return &memSequences{last: make(map[string]uint64)} }

func (m *memSequences) Last(id string) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last[id]
}

func (m *memSequences) Advance(id string, seq uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if seq > m.last[id] {
		m.last[id] = seq
	}
	return nil
}
