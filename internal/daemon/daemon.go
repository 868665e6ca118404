// Package daemon assembles hawk-server: the embedded TSDB, the collector
// that agents connect to, and the HTTP side (query API, UI, /metrics). The
// main package only parses flags and handles signals.
package daemon

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/storage"

	"hawk/internal/agent"
	"hawk/internal/alerting"
	"hawk/internal/api"
	"hawk/internal/server"
	"hawk/internal/store"
	"hawk/internal/web"
)

// Version is hawk's version, set at build time with -ldflags.
var Version = "0.1.0-dev"

// Listeners are sockets handed to Start, e.g. inherited across an upgrade;
// a nil one is opened from the configured address.
type Listeners struct {
	Agents net.Listener
	HTTP   net.Listener
}

// Daemon is a running hawk-server.
type Daemon struct {
	cfg   Config
	log   *slog.Logger
	db    *store.TSDB  // the embedded TSDB, nil in remote-only mode
	sinks []store.Sink // every sink opened, the TSDB first
	seqs  *store.Sequences
	srv   *server.Server
	api   *api.API
	rules *alerting.Manager // nil without -rule-file and -alertmanager
	// explainer annotates resolved alerts with agents' outages: the
	// fleet's, through fleetOutages.
	explainer alerting.OutageExplainer
	http      *http.Server
	agents    net.Listener
	web       net.Listener
	errc      chan error // Serve errors of the two listeners
	conns     *connTracker

	demoStop context.CancelFunc // stops the -demo agent
	demoDone chan error         // its Run result
}

// Start opens the storage and starts serving agents and HTTP.
func Start(cfg Config, ls Listeners, log *slog.Logger) (*Daemon, error) {
	d := &Daemon{cfg: cfg, log: log, errc: make(chan error, 2)}
	if err := d.start(ls); err != nil {
		d.abort()
		return nil, err
	}
	return d, nil
}

func (d *Daemon) start(ls Listeners) (err error) {
	cfg, log := d.cfg, d.log
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	sink, err := d.openSinks(reg)
	if err != nil {
		return err
	}
	if d.seqs, err = store.OpenSequences(filepath.Join(cfg.Data, "hawk-sequences")); err != nil {
		return err
	}
	scfg := server.Config{
		Sink: sink, Sequences: d.seqs, Logger: log.With("component", "server"), Registry: reg,
		ServerID: cfg.ServerID, MaxConns: cfg.MaxConns, HeartbeatInterval: time.Duration(cfg.HeartbeatInterval),
		MissedHeartbeats: cfg.MissedHeartbeats, MaxSeries: cfg.MaxSeries, MaxBatchSamples: cfg.MaxBatchSamples,
		LivenessInterval: time.Duration(cfg.LivenessInterval), DisableLegacy: !cfg.Legacy,
	}
	if d.db != nil && cfg.OutOfOrderWindow > 0 {
		// The TSDB refuses samples further behind its newest than this:
		// agents then drop them rather than have them acknowledged and lost.
		scfg.MaxSampleAge = time.Duration(cfg.OutOfOrderWindow)
	}
	cfg.Fleet.apply(&scfg, cfg.Data)
	if err = cfg.Security.apply(&scfg); err != nil {
		return err
	}
	cfg.Limits.apply(&scfg)
	if scfg.Enrolment, err = cfg.Enrolment.open(cfg.Data, cfg.Security.MaxAgents); err != nil {
		return err
	}
	httpTLS, err := cfg.Security.httpTLS()
	if err != nil {
		return err
	}
	if d.srv, err = server.New(scfg); err != nil {
		return err
	}
	apiOpts := api.Options{
		Queryable: storage.QueryableFunc(func(int64, int64) (storage.Querier, error) { return storage.NoopQuerier(), nil }),
		Fleet:     fleet{d.srv.Fleet()}, AgentsLimit: cfg.Fleet.AgentsPageLimit, AgentsBytesRate: unbounded(cfg.Fleet.AgentsBytesRate), MaxSamples: cfg.QueryMaxSamples, Timeout: time.Duration(cfg.QueryTimeout),
		MaxQueryLength: cfg.Limits.MaxQueryLength, MaxQueryDepth: cfg.Limits.MaxQueryDepth, MaxLookupResults: cfg.Limits.LookupResults, SeriesLookupRate: unbounded(cfg.Limits.SeriesLookups), LowPriority: cfg.Limits.LowPriority, BuildInfo: buildInfo(), Retention: model.Duration(cfg.Retention).String(), Registerer: reg, Logger: log.With("component", "api"),
	}
	if d.db != nil {
		apiOpts.Queryable, apiOpts.Metadata = d.db.Storage(), d.db
		apiOpts.Storage = storageStatus(d.db)
	}
	if apiOpts.QueryTracker, err = cfg.Limits.queryTracker(cfg.Data, log.With("component", "query-tracker")); err != nil {
		return err
	}
	d.api = api.New(apiOpts)
	if d.agents, err = listen(ls.Agents, cfg.Listen); err != nil {
		return err
	}
	if d.web, err = listen(ls.HTTP, cfg.HTTP); err != nil {
		return err
	}
	d.explainer = fleetOutages{d.srv.Fleet()}
	if err = d.openRules(reg); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", d.api.Handler())
	mux.Handle("DELETE /api/v1/agents/{id}/enrolment", forgetHandler(scfg.Enrolment, cfg.Security.HTTPAuthTokenFile != "" || cfg.Security.HTTPBasicAuthUsersFile != ""))
	mux.Handle("/-/reload", d.api.ReloadHandler())
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.Handle("/", web.Handler())
	handler, err := cfg.Security.httpHandler(mux, reg)
	if err != nil {
		return err
	}
	d.conns = newConnTracker()
	d.http = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ConnState: d.conns.connState,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn), MaxHeaderBytes: 1 << 20}
	cfg.Limits.applyHTTP(d.http)
	var web net.Listener
	if web, err = newConnLimit(d.web, cfg.Limits.HTTPMaxConns, reg); err != nil {
		return err
	}
	if httpTLS != nil {
		web = tls.NewListener(web, httpTLS)
	}
	go func() { d.errc <- d.srv.Serve(d.agents) }()
	go func() { d.errc <- d.http.Serve(d.conns.listener(web)) }()
	if d.rules != nil {
		d.rules.Run()
	}
	if cfg.Demo {
		if err = d.startDemo(); err != nil {
			return err
		}
	}
	log.Info("hawk-server started", "version", Version, "agents", d.agents.Addr().String(),
		"http", d.web.Addr().String(), "data", cfg.Data, "tls", scfg.TLS != nil, "mtls", scfg.BindClientCert || cfg.Security.TLSClientCAFile != "",
		"agent_auth", scfg.Auth != nil, "http_tls", httpTLS != nil)
	scheme := "http"
	if httpTLS != nil {
		scheme = "https"
	}
	base := scheme + "://" + localAddr(d.web.Addr())
	log.Info("UI at "+base+"/ · query API at "+base+"/api/v1/ · self-metrics at "+base+"/metrics", "agents", localAddr(d.agents.Addr()))
	return nil
}

// openSinks opens the embedded TSDB (unless -storage.tsdb=false) and the
// remote-write sinks, and returns the sink sessions commit to: one of them,
// or a fan-out that succeeds only when all do.
func (d *Daemon) openSinks(reg prometheus.Registerer) (store.Sink, error) {
	cfg := d.cfg
	if !cfg.LocalTSDB && len(cfg.RemoteWrite.URLs) == 0 {
		return nil, errors.New("-storage.tsdb=false needs at least one -remote-write")
	}
	if err := os.MkdirAll(cfg.Data, 0o755); err != nil {
		return nil, err
	}
	if cfg.LocalTSDB {
		var err error
		if d.db, err = store.OpenTSDB(store.TSDBOptions{
			Dir: cfg.Data, Retention: time.Duration(cfg.Retention), OutOfOrderWindow: time.Duration(cfg.OutOfOrderWindow),
			MaxMetadataEntries: cfg.Limits.MaxMetadata, Registerer: reg, Logger: d.log.With("component", "tsdb"),
		}); err != nil {
			return nil, err
		}
		d.sinks = append(d.sinks, d.db)
	}
	remotes, err := cfg.RemoteWrite.openRemotes(len(d.sinks), reg, d.log)
	if err != nil {
		return nil, err
	}
	d.sinks = append(d.sinks, remotes...)
	return store.Fanout(d.sinks...)
}

// AgentAddr and HTTPAddr return the addresses being served.
func (d *Daemon) AgentAddr() net.Addr { return d.agents.Addr() }

// HTTPAddr returns the address of the query API and UI.
func (d *Daemon) HTTPAddr() net.Addr { return d.web.Addr() }

// Err returns a channel that yields the first error that stops a listener.
func (d *Daemon) Err() <-chan error { return d.errc }

// Shutdown drains agents (GOAWAY once what they sent is committed), stops
// HTTP and closes the storage.
func (d *Daemon) Shutdown(ctx context.Context) error {
	start := time.Now()
	var err error
	if d.demoStop != nil {
		d.demoStop()
		err = <-d.demoDone
	}
	err = errors.Join(err, d.srv.Shutdown(ctx))
	d.api.Drain() // queries waiting for a slot are answered now, not after the HTTP grace
	hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = errors.Join(err, d.http.Shutdown(hctx), d.conns.wait(hctx), d.closeAll())
	if err != nil {
		// Something was not flushed (sequences, TSDB head, WAL): say so
		// at ERROR and exit non-zero, so a supervisor and the operator see it.
		d.log.Error("hawk-server stopped without flushing everything", "drain", time.Since(start).Round(time.Millisecond), "err", err)
		return err
	}
	d.log.Info("hawk-server stopped", "drain", time.Since(start).Round(time.Millisecond))
	return nil
}

func (d *Daemon) closeAll() error {
	var errs []error
	if d.rules != nil {
		d.rules.Stop() // before the storage it reads and writes closes
	}
	if d.api != nil {
		errs = append(errs, d.api.Close())
	}
	if d.seqs != nil {
		errs = append(errs, d.seqs.Close())
	}
	errs = append(errs, closeSinks(d.sinks))
	return errors.Join(errs...)
}

// startDemo runs a hawk-agent for this host inside the server, sending to
// the server's own agent port.
func (d *Daemon) startDemo() error {
	addr := localAddr(d.agents.Addr())
	acfg := agent.Config{
		Servers: []string{addr}, Interval: time.Duration(d.cfg.DemoInterval),
		SpoolDir: filepath.Join(d.cfg.Data, "demo-agent"), Version: Version,
		Logger: d.log.With("component", "demo-agent"),
	}
	if err := d.cfg.Security.demoAgent(&acfg); err != nil {
		return fmt.Errorf("demo agent: %w", err)
	}
	a, err := agent.New(acfg)
	if err != nil {
		return fmt.Errorf("demo agent: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d.demoStop, d.demoDone = cancel, make(chan error, 1)
	go func() { d.demoDone <- a.Run(ctx) }()
	return nil
}

// abort undoes a Start that failed half way.
func (d *Daemon) abort() {
	if d.demoStop != nil {
		d.demoStop()
		<-d.demoDone
	}
	if d.srv != nil {
		d.srv.Shutdown(context.Background()) //nolint:errcheck // nothing was served yet
	}
	for _, l := range []net.Listener{d.agents, d.web} {
		if l != nil {
			l.Close()
		}
	}
	d.closeAll() //nolint:errcheck // the Start error is the one to report
}

// localAddr names a listening address as a local client would dial it: a
// wildcard host becomes 127.0.0.1.
func localAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func listen(l net.Listener, addr string) (net.Listener, error) {
	if l != nil {
		return l, nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	return l, nil
}

// fleet adapts the server's fleet to the API.
type fleet struct{ f *server.Fleet }

func (f fleet) Agents(dst []byte, q api.AgentsQuery) ([]byte, int, error) {
	return f.f.AgentsPageJSON(dst, server.AgentsQuery{Match: q.Match, Down: q.Down, Offset: q.Offset, Limit: q.Limit})
}

func (f fleet) Forget(id string) error {
	switch err := f.f.Forget(id); {
	case errors.Is(err, server.ErrUnknownAgent):
		return api.ErrUnknownAgent
	case errors.Is(err, server.ErrAgentConnected):
		return api.ErrAgentConnected
	default:
		return err
	}
}

func (f fleet) Outages(id string) (any, bool) { return f.f.Outages(id) }

// storageStatus adapts the TSDB's state to the API's storage status.
func storageStatus(db *store.TSDB) func() api.StorageStatus {
	return func() api.StorageStatus {
		st := db.Status()
		out := api.StorageStatus{Accepting: st.Accepting, Fault: st.Fault, WAL: api.WALStatus{
			SegmentsChecked: st.WAL.Segments, TornTails: st.WAL.TornTails, DamagedSegments: st.WAL.Damaged,
			KeptRecords: st.WAL.KeptRecords, LostRecords: st.WAL.LostRecords, DamagedPages: st.WAL.DamagedPages}}
		if !st.Accepting && !st.FaultSince.IsZero() {
			since := st.FaultSince.UTC()
			out.FaultSince = &since
		}
		if len(st.WAL.Damaged) > 0 {
			out.WAL.DamagedDir = st.DamagedDir
		}
		return out
	}
}

func buildInfo() api.BuildInfo {
	bi := api.BuildInfo{Version: Version, Branch: "main"}
	if info, ok := debug.ReadBuildInfo(); ok {
		bi.GoVersion = info.GoVersion
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				bi.Revision = s.Value
			}
		}
	}
	return bi
}
