package daemon

import (
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/promql"

	"hawk/internal/api"
	"hawk/internal/options"
	"hawk/internal/server"
	"hawk/internal/store"
)

// Limits holds the resource bounds of issue 17: what one peer or one
// request may make the server hold or do (docs/security.md, section 4).
// Their defaults protect a collector of 2 cores and 4 GiB.
type Limits struct {
	MaxSeqGap       int
	HonorLabels     bool
	MaxQueryLength  int
	MaxQueryDepth   int
	MaxConcurrency  int
	HTTPIdleTimeout time.Duration
	HTTPReadTimeout time.Duration
	HTTPMaxConns    int
	MaxSeries       int
	RefusedSeries   int
	OpenBatchBytes  int
	OpenBatchTotal  int
	LookupResults   int
	SeriesLookups   int
	MaxHelpLen      int
	MaxMetadata     int
	LowPriority     bool
}

func (l *Limits) declare(s *options.Set) {
	s.Bool(&l.HonorLabels, "honor-labels", false, "keep the job and instance labels agents put on their series; false sets them from the agent's HELLO (agent_id is always set from the session)")
	s.Int(&l.MaxSeqGap, "max-sequence-gap", 1<<24, "a new batch's sequence may be at most this far ahead of the agent's stored one; further is refused (ERROR 4)")
	s.Int(&l.MaxSeries, "max-series", 1000000, "distinct series all agents together may define per hour; a new series beyond is dropped and counted")
	s.Int(&l.RefusedSeries, "max-refused-series-rate", 50000, "series definitions the server refuses per second, all agents together, before the connections sending them wait to be acknowledged")
	s.Int(&l.OpenBatchBytes, "max-open-batch-bytes", 8<<20, "memory one agent connection's unfinished batches may hold; beyond, ERROR 4")
	s.Int(&l.OpenBatchTotal, "max-open-batch-bytes-total", 256<<20, "memory all connections' unfinished batches may hold; beyond, the batch is refused with ERROR 8 and resent later")
	s.Int(&l.MaxHelpLen, "max-help-length", 1024, "bytes of a series' HELP text kept; the rest is cut and counted")
	s.Int(&l.MaxMetadata, "max-metadata-entries", store.DefaultMaxMetadataEntries, "metric families whose HELP, TYPE and UNIT are kept for /api/v1/metadata; a new family beyond is stored without and counted")
	s.Int(&l.MaxQueryLength, "query.max-length", api.DefaultMaxQueryLength, "bytes of a PromQL expression at most, checked before parsing (parsing can take time quadratic in the length)")
	s.Int(&l.MaxQueryDepth, "query.max-depth", api.DefaultMaxQueryDepth, "levels a PromQL expression's syntax tree may nest (parentheses count), checked after parsing and before evaluation (the engine's work grows with the square of the depth)")
	s.Int(&l.MaxConcurrency, "query.max-concurrency", 0, "PromQL queries and series, label and metadata lookups evaluated at once; the others wait within -query-timeout (503 past it). 0: half of the CPUs, at least 1, so queries never take every core from ingest")
	s.Bool(&l.LowPriority, "query.low-priority", true, "run PromQL parses and evaluations, series, label and metadata lookups and /api/v1/agents pages on threads the kernel runs only on a core the agents' work leaves idle (Linux SCHED_IDLE), so that a costly query does not delay acknowledgements; false runs them at the server's priority")
	s.Int(&l.LookupResults, "query.max-lookup-results", api.DefaultMaxLookupResults, "series, label names, label values or metadata entries one /api/v1/series, /labels, /label/*/values or /metadata answer holds at most (truncated with a warning)")
	s.Int(&l.SeriesLookups, "query.max-series-lookup-rate", api.DefaultSeriesLookupRate, "series all /api/v1/series answers hold per second; a request waits, within -query-timeout, for the answers before it to be paid for (0: no bound)")
	s.Duration(&l.HTTPIdleTimeout, "http.idle-timeout", 30*time.Second, "an HTTP connection idle this long between requests is closed")
	s.Duration(&l.HTTPReadTimeout, "http.read-timeout", time.Minute, "longest the HTTP server waits for a request's headers and body")
	s.Int(&l.HTTPMaxConns, "http.max-connections", 1024, "HTTP connections open at once; further ones wait to be accepted")
}

// unbounded turns a bound flag whose 0 means no bound into the value of an
// option whose 0 means its default: -1 (api.Options.SeriesLookupRate and
// AgentsBytesRate, server.Config.MaxFleetIDBytes).
func unbounded(flag int) int {
	if flag <= 0 {
		return -1
	}
	return flag
}

// apply sets the agent-side limits of a server.Config.
func (l *Limits) apply(c *server.Config) {
	c.MaxSeqGap, c.MaxSeriesTotal = l.MaxSeqGap, l.MaxSeries
	c.MaxOpenBatchBytes, c.MaxOpenBatchBytesTotal = l.OpenBatchBytes, l.OpenBatchTotal
	c.MaxHelpLen, c.MaxRefusedSeriesRate = l.MaxHelpLen, l.RefusedSeries
	c.StampIdentity, c.HonorLabels = true, l.HonorLabels
}

// queryTracker opens the queue of -query.max-concurrency slots, kept in
// dir/queries.active as Prometheus does: the queries running when the
// process dies are logged at the next start.
func (l *Limits) queryTracker(dir string, log *slog.Logger) (*promql.ActiveQueryTracker, error) {
	n := l.MaxConcurrency
	if n <= 0 {
		n = api.DefaultMaxConcurrency()
	}
	return promql.NewActiveQueryTracker(dir, n, log)
}

// applyHTTP sets the HTTP server's timeouts.
func (l *Limits) applyHTTP(s *http.Server) {
	s.IdleTimeout, s.ReadTimeout = l.HTTPIdleTimeout, l.HTTPReadTimeout
}

// connLimit bounds the connections a listener has open: Accept waits for
// one to close once max are open (as netutil.LimitListener), so a flood of
// HTTP connections cannot take the descriptors the agent port and the
// TSDB need. Each wait is counted.
type connLimit struct {
	net.Listener
	slots  chan struct{}
	waited prometheus.Counter
}

func newConnLimit(ln net.Listener, max int, reg prometheus.Registerer) (*connLimit, error) {
	l := &connLimit{Listener: ln, slots: make(chan struct{}, max), waited: prometheus.NewCounter(prometheus.CounterOpts{
		Name: "hawk_server_http_connections_limited_total",
		Help: "Times the HTTP listener had -http.max-connections open and waited for one to close before accepting.",
	})}
	return l, reg.Register(l.waited)
}

func (l *connLimit) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	default:
		l.waited.Inc()
		l.slots <- struct{}{}
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitedConn{Conn: c, release: func() { <-l.slots }}, nil
}

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
