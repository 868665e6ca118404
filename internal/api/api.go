package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"

	"hawk/internal/procs"
)

// Defaults of Options.
const (
	DefaultMaxSamples    = 50_000_000
	DefaultTimeout       = 2 * time.Minute
	DefaultLookbackDelta = 5 * time.Minute
)

// MetadataSource returns metadata per metric family name, all of it when
// metric is empty. *store.TSDB implements it.
type MetadataSource interface {
	Metadata(metric string) map[string]metadata.Metadata
}

// BuildInfo is the body of /api/v1/status/buildinfo.
type BuildInfo struct {
	Version   string `json:"version"`
	Revision  string `json:"revision"`
	Branch    string `json:"branch"`
	BuildUser string `json:"buildUser"`
	BuildDate string `json:"buildDate"`
	GoVersion string `json:"goVersion"`
}

// Options configures New. Queryable is required; the rest have defaults.
type Options struct {
	// Queryable is the storage queries read, e.g. store.TSDB.Storage().
	Queryable storage.Queryable
	// Metadata feeds /api/v1/metadata; nil answers an empty object.
	Metadata MetadataSource
	// Fleet feeds /api/v1/agents; nil answers an empty list.
	Fleet Fleet
	// Storage feeds /api/v1/status/storage; nil answers a storage that
	// accepts samples and found no damage.
	Storage func() StorageStatus
	// AgentsLimit is /api/v1/agents' page size without ?limit=; 0 means
	// DefaultAgentsLimit.
	AgentsLimit int
	// MaxSamples bounds the samples one query may load; 0 means
	// DefaultMaxSamples.
	MaxSamples int
	// Timeout bounds one query, its parse included; 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxQueryLength bounds a query's bytes, checked before parsing; 0
	// means DefaultMaxQueryLength.
	MaxQueryLength int
	// MaxQueryDepth bounds the levels of a query's syntax tree, checked
	// after parsing and before evaluation; 0 means DefaultMaxQueryDepth.
	MaxQueryDepth int
	// MaxLookupResults bounds what /series, /labels, /label/*/values and
	// /metadata return (truncated with a warning); 0 means
	// DefaultMaxLookupResults.
	MaxLookupResults int
	// SeriesLookupRate bounds the series all /api/v1/series answers hold
	// per second (answerPace); 0 means DefaultSeriesLookupRate, a negative
	// value no bound.
	SeriesLookupRate int
	// AgentsBytesRate bounds the bytes all /api/v1/agents answers hold per
	// second (answerPace); 0 means DefaultAgentsBytesRate, a negative value
	// no bound.
	AgentsBytesRate int
	// LowPriority runs PromQL parses and evaluations and the lookups of
	// inSlot at the lowest scheduling priority the system offers one
	// thread (procs.Background), so that the agents' work takes a core
	// from them the moment it needs one. hawk-server sets it from
	// -query.low-priority.
	LowPriority bool
	// QueryTracker bounds the PromQL queries and the series, label and
	// metadata lookups that evaluate at once; the others wait for a slot
	// within their timeout. hawk-server gives it a
	// promql.NewActiveQueryTracker of -query.max-concurrency slots. The
	// API closes it. nil means no bound.
	QueryTracker promql.QueryTracker
	// LookbackDelta is how far back an instant selector looks; 0 means
	// DefaultLookbackDelta.
	LookbackDelta time.Duration
	// BuildInfo is served as is; an empty Version becomes "hawk".
	BuildInfo BuildInfo
	// Retention is reported in runtimeinfo, e.g. "15d".
	Retention string
	// Registerer receives the PromQL engine's metrics; nil means none.
	Registerer prometheus.Registerer
	// Logger receives encoding and write errors; nil discards them.
	Logger *slog.Logger
	// Now is the clock for default query times; nil means time.Now.
	Now func() time.Time
}

// API is the query API. Its handler is safe for concurrent use.
type API struct {
	opts   Options        // with defaults filled in
	engine *promql.Engine // shared by all queries
	// rulesEngine evaluates the rules: the same options, but outside the
	// query queue (see Engine).
	rulesEngine *promql.Engine
	parser      parser.Parser  // for match[] selectors
	start       time.Time      // reported as startTime in runtimeinfo
	mux         *http.ServeMux // routes /api/v1/*
	limits      *limits
	slots       *slots // the engine's query tracker; nil without Options.QueryTracker
	seriesPace  *answerPace
	agentsPace  *answerPace

	rulesMu sync.Mutex
	rules   Rules // rule evaluation, nil until SetRules
}

// New builds the API and its PromQL engine. It starts no goroutine.
func New(opts Options) *API {
	if opts.MaxSamples <= 0 {
		opts.MaxSamples = DefaultMaxSamples
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxQueryLength <= 0 {
		opts.MaxQueryLength = DefaultMaxQueryLength
	}
	if opts.MaxQueryDepth <= 0 {
		opts.MaxQueryDepth = DefaultMaxQueryDepth
	}
	if opts.MaxLookupResults <= 0 {
		opts.MaxLookupResults = DefaultMaxLookupResults
	}
	if opts.SeriesLookupRate == 0 {
		opts.SeriesLookupRate = DefaultSeriesLookupRate
	}
	if opts.AgentsBytesRate == 0 {
		opts.AgentsBytesRate = DefaultAgentsBytesRate
	}
	if opts.LookbackDelta <= 0 {
		opts.LookbackDelta = DefaultLookbackDelta
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.AgentsLimit <= 0 {
		opts.AgentsLimit = DefaultAgentsLimit
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.BuildInfo.Version == "" {
		opts.BuildInfo.Version = "hawk"
	}
	p := parser.NewParser(parser.Options{})
	var (
		sl      *slots
		tracker promql.QueryTracker // stays a nil interface without one
	)
	if opts.QueryTracker != nil {
		sl = newSlots(opts.QueryTracker, opts.Registerer)
		tracker = sl
	}
	eo := promql.EngineOpts{
		Logger:               opts.Logger,
		Reg:                  opts.Registerer,
		MaxSamples:           opts.MaxSamples,
		Timeout:              opts.Timeout,
		ActiveQueryTracker:   tracker,
		LookbackDelta:        opts.LookbackDelta,
		EnableAtModifier:     true,
		EnableNegativeOffset: true,
		Parser:               p,
	}
	ro := eo
	ro.ActiveQueryTracker, ro.Reg = nil, nil // its metrics would clash with the first engine's
	a := &API{
		opts:        opts,
		engine:      promql.NewEngine(eo),
		rulesEngine: promql.NewEngine(ro),
		parser:      p,
		start:       opts.Now(),
		mux:         http.NewServeMux(),
		limits:      newLimits(opts.Registerer, procs.CPUs()),
		slots:       sl,
	}
	a.seriesPace = newAnswerPace(opts.SeriesLookupRate, opts.MaxLookupResults, opts.Timeout, a.limits.refused, opts.Registerer, paceOpts{
		flag: "query.max-series-lookup-rate", reason: "lookup_rate", cost: seriesCost,
		wait: prometheus.CounterOpts{Name: "hawk_api_series_lookup_wait_seconds_total",
			Help: "Time /api/v1/series requests waited for the answers before them to be paid for (-query.max-series-lookup-rate)."},
	})
	a.agentsPace = newAnswerPace(opts.AgentsBytesRate, 0, opts.Timeout, a.limits.refused, opts.Registerer, paceOpts{
		flag: "max-agents-page-bytes-rate", reason: "agents_rate", cost: bytesCost,
		wait: prometheus.CounterOpts{Name: "hawk_api_agents_wait_seconds_total",
			Help: "Time /api/v1/agents requests waited for the answers before them to be paid for (-max-agents-page-bytes-rate)."},
	})
	a.routes()
	return a
}

// Handler returns the handler of every /api/v1 endpoint.
func (a *API) Handler() http.Handler { return a.mux }

// Close releases the engines and the query tracker.
func (a *API) Close() error { return errors.Join(a.rulesEngine.Close(), a.engine.Close()) }

func (a *API) routes() {
	for path, f := range map[string]apiFunc{
		"/api/v1/query":               a.query,
		"/api/v1/query_range":         a.queryRange,
		"/api/v1/series":              a.seriesPace.paced(a.inSlot(a.series)),
		"/api/v1/labels":              a.inSlot(a.labelNames),
		"/api/v1/label/{name}/values": a.inSlot(a.labelValues),
		"/api/v1/metadata":            a.inSlot(a.metadata),
		"/api/v1/status/buildinfo":    a.buildInfo,
		"/api/v1/status/runtimeinfo":  a.runtimeInfo,
		"/api/v1/status/config":       a.config,
		"/api/v1/status/flags":        a.flags,
		"/api/v1/status/storage":      a.storageStatus,
		"/api/v1/agents":              a.agentsPace.paced(a.inSlot(a.agents)),
	} {
		h := a.wrap(f)
		a.mux.Handle("GET "+path, h)
		a.mux.Handle("POST "+path, h)
	}
	a.mux.Handle("DELETE /api/v1/agents/{id}", a.wrap(a.forget))
	a.mux.Handle("POST /api/v1/agents/{id}/forget", a.wrap(a.forget))
	a.mux.Handle("GET /api/v1/agents/{id}/outages", a.wrap(a.outages))
	a.mux.Handle("POST /api/v1/agents/{id}/outages", a.wrap(a.outages))
	a.ruleRoutes()
}

// apiFunc is one endpoint: it returns its data or an error, the query's
// annotations, and a finalizer to run after the response is written (the
// result may reference memory of the query or querier until then).
type apiFunc func(r *http.Request) result

type result struct {
	data      any
	raw       []byte // data already encoded as JSON, used instead of data: spliced into the envelope as is
	err       *apiError
	warnings  annotations.Annotations
	finalizer func()
	encoded   func() // called once the response is encoded, before it is written
	total     *int   // rows matching in all, when data is one page of them (X-Total-Count)
	entries   int    // entries of a lookup's answer, for its answerPace
}

// response is Prometheus' response envelope.
type response struct {
	Status    string   `json:"status"`
	Data      any      `json:"data,omitempty"`
	ErrorType string   `json:"errorType,omitempty"`
	Error     string   `json:"error,omitempty"`
	Warnings  []string `json:"warnings,omitempty"`
	Infos     []string `json:"infos,omitempty"`

	raw []byte // Data already encoded (not nil: Data is unused)
}

func (a *API) wrap(f apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res := f(r)
		if res.finalizer != nil {
			defer res.finalizer()
		}
		if res.err != nil {
			if res.encoded != nil {
				res.encoded()
			}
			a.respondError(w, res.err, res.data)
			return
		}
		if res.total != nil {
			w.Header().Set("X-Total-Count", strconv.Itoa(*res.total))
		}
		warn, info := res.warnings.AsStrings(r.FormValue("query"), 10, 10)
		a.write(w, http.StatusOK, &response{Status: "success", Data: res.data, raw: res.raw, Warnings: warn, Infos: info}, res.encoded)
	})
}

// encodeResponse is json.Marshal of resp in pieces to write one after the
// other: resp.raw, when set, is its data, copied as is, neither decoded nor
// re-validated (encoding/json would re-scan a RawMessage) nor copied into
// one buffer with the rest. Data is the member after status.
func encodeResponse(resp *response) ([][]byte, error) {
	if resp.raw == nil {
		b, err := json.Marshal(resp)
		return [][]byte{b}, err
	}
	r := *resp
	r.Data = nil
	rest, err := json.Marshal(&r) // {"status":"…"[,"errorType":…]…}
	if err != nil {
		return nil, err
	}
	status, err := json.Marshal(r.Status)
	if err != nil {
		return nil, err
	}
	head := len(`{"status":`) + len(status)
	return [][]byte{append(rest[:head:head], `,"data":`...), resp.raw, rest[head:]}, nil
}

func (a *API) respondError(w http.ResponseWriter, e *apiError, data any) {
	a.write(w, e.typ.code, &response{Status: "error", ErrorType: e.typ.name, Error: e.err.Error(), Data: data}, nil)
}

// writeChunk is the most of an answer written by one write(2). Answers
// are written outside the slots of -query.max-concurrency, and a
// goroutine holds its processor through a write: a fleet page of 1.8 MB
// written at once kept one for up to 2.4 ms, 256 KiB up to 1.3 ms, and
// with two such writes an agent's session, ready to run, waited for both
// (issue 17, huge-hello). Between chunks the writer yields.
const writeChunk = 64 << 10

// write encodes resp, calls encoded (if not nil), and sends it, its
// length in Content-Length, in chunks of at most writeChunk bytes.
func (a *API) write(w http.ResponseWriter, code int, resp *response, encoded func()) {
	body, err := encodeResponse(resp)
	if encoded != nil {
		encoded()
	}
	if err != nil {
		a.opts.Logger.Error("api: encode response", "err", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	n := 0
	for _, b := range body {
		n += len(b)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(n))
	w.WriteHeader(code)
	for _, b := range body {
		for len(b) > 0 {
			c := b[:min(len(b), writeChunk)]
			if _, err := w.Write(c); err != nil {
				a.opts.Logger.Debug("api: write response", "err", err)
				return
			}
			if b = b[len(c):]; len(b) > 0 {
				runtime.Gosched()
			}
		}
	}
}
