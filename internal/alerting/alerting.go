package alerting

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/notifier"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"
)

// Storage is what rules read and write: the embedded TSDB.
type Storage interface {
	storage.Queryable
	storage.AppendableV2
}

// Defaults of Options.
const (
	DefaultInterval        = 15 * time.Second
	DefaultResendDelay     = time.Minute
	DefaultOutageTolerance = time.Hour
	DefaultForGracePeriod  = 10 * time.Minute
	DefaultQueueCapacity   = 10000
)

// Options configures New.
type Options struct {
	// Files are rule files or glob patterns of them, in Prometheus'
	// rule-file format. A pattern without glob characters must name a
	// file that exists.
	Files []string
	// Interval is the evaluation interval of groups that set none;
	// 0 means DefaultInterval.
	Interval time.Duration
	// Storage is read by the rules and receives recording rules' output
	// and the ALERTS / ALERTS_FOR_STATE series. Required.
	Storage Storage
	// Engine evaluates the rules' expressions. Required.
	Engine promql.QueryEngine
	// Alertmanagers are the URLs of the Alertmanagers every alert is sent
	// to, e.g. http://127.0.0.1:9093 (a path is a prefix before
	// /api/v2/alerts). None means rules are evaluated but no one is told.
	Alertmanagers []string
	// Notifier configures the connections to the Alertmanagers.
	Notifier NotifierOptions
	// ExternalURL is where alert links (generatorURL) point: this
	// server's UI as users reach it.
	ExternalURL *url.URL
	// ResendDelay is how often a firing alert is sent again (Alertmanager
	// deduplicates; this is the retry of a failed send); 0 means
	// DefaultResendDelay.
	ResendDelay time.Duration
	// OutageTolerance is how long this server may have been down for the
	// `for` state of alerts to be restored from ALERTS_FOR_STATE;
	// ForGracePeriod the least time an alert restored as pending waits
	// before firing. 0 means the defaults (Prometheus' own).
	OutageTolerance, ForGracePeriod time.Duration
	// Explainer annotates resolved alerts about agents; nil adds nothing.
	Explainer OutageExplainer
	// Registerer receives the rule manager's, the notifier's and this
	// package's metrics; nil means none.
	Registerer prometheus.Registerer
	// Logger receives evaluation and delivery errors; nil discards them.
	Logger *slog.Logger
}

// Manager evaluates the rules and sends the alerts.
type Manager struct {
	opts     Options
	log      *slog.Logger
	rules    *rules.Manager
	notifier *notifier.Manager
	parser   parser.Parser
	metrics  *metrics

	mu     sync.Mutex // serializes Reload; guards files
	files  []string   // the files last loaded
	cancel context.CancelFunc
	wg     sync.WaitGroup // the goroutines Run started
	run    bool
}

// New parses the rule files and builds the managers; it returns an error
// naming the file, line and problem when a rule file does not parse. It
// starts no goroutine; call Run, then Stop.
func New(opts Options) (*Manager, error) {
	if opts.Storage == nil || opts.Engine == nil {
		return nil, errors.New("alerting: Storage and Engine are required")
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.ResendDelay <= 0 {
		opts.ResendDelay = DefaultResendDelay
	}
	if opts.OutageTolerance <= 0 {
		opts.OutageTolerance = DefaultOutageTolerance
	}
	if opts.ForGracePeriod <= 0 {
		opts.ForGracePeriod = DefaultForGracePeriod
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ExternalURL == nil {
		opts.ExternalURL = &url.URL{Scheme: "http", Host: "localhost:9877"}
	}
	m := &Manager{opts: opts, log: opts.Logger, parser: parser.NewParser(parser.Options{})}
	m.metrics = newMetrics(opts.Registerer)
	var err error
	if m.notifier, err = newNotifier(opts, opts.Logger.With("component", "notifier")); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.rules = rules.NewManager(&rules.ManagerOptions{
		ExternalURL:     opts.ExternalURL,
		QueryFunc:       rules.EngineQueryFunc(opts.Engine, opts.Storage),
		NotifyFunc:      m.notify,
		Context:         ctx,
		AppendableV2:    opts.Storage,
		Queryable:       opts.Storage,
		Logger:          opts.Logger.With("component", "rules"),
		Registerer:      opts.Registerer,
		OutageTolerance: opts.OutageTolerance,
		ForGracePeriod:  opts.ForGracePeriod,
		ResendDelay:     opts.ResendDelay,
		Parser:          m.parser,
	})
	files, err := m.check()
	if err != nil {
		cancel()
		return nil, err
	}
	if err := m.rules.Update(opts.Interval, files, labels.EmptyLabels(), opts.ExternalURL.String(), nil); err != nil {
		m.rules.Stop()
		cancel()
		return nil, err
	}
	m.files = files
	m.metrics.loaded(true, m.count())
	return m, nil
}

// Run starts evaluating the rules and delivering their alerts.
func (m *Manager) Run() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.run {
		return
	}
	m.run = true
	targets := make(chan map[string][]*targetGroup, 1)
	targets <- staticTargets(m.opts.Alertmanagers)
	m.wg.Add(2)
	go func() { defer m.wg.Done(); m.notifier.Run(targets) }()
	go func() { defer m.wg.Done(); m.rules.Run() }()
}

// Stop stops evaluating, sends what the notifier still has queued (within
// the Alertmanager timeout) and returns once every goroutine has exited.
// Firing alerts are not resolved: a process that takes over restores them
// from the TSDB.
func (m *Manager) Stop() {
	m.mu.Lock()
	run := m.run
	m.mu.Unlock()
	if !run {
		// Update started the groups' goroutines, which wait for Run to
		// release them; a group released after Stop returns at once.
		done := make(chan struct{})
		go func() { defer close(done); m.rules.Run() }()
		m.rules.Stop()
		<-done
		m.cancel()
		return
	}
	m.rules.Stop()
	m.cancel()
	m.notifier.Stop()
	m.wg.Wait()
}

// Reload re-reads the rule files. When one does not parse, the rules in
// use stay, and the error (naming file, line and problem) is returned,
// logged and counted.
func (m *Manager) Reload() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	files, err := m.check()
	if err == nil {
		err = m.rules.Update(m.opts.Interval, files, labels.EmptyLabels(), m.opts.ExternalURL.String(), nil)
	}
	if err != nil {
		m.log.Error("rules not reloaded; the previous rules stay in use", "err", err)
		m.metrics.loaded(false, m.count())
		return err
	}
	m.files = files
	m.metrics.loaded(true, m.count())
	m.log.Info("rules reloaded", "files", len(files), "groups", len(m.rules.RuleGroups()), "rules", m.count())
	return nil
}

// RuleGroups returns the groups being evaluated, sorted by file and name.
func (m *Manager) RuleGroups() []*rules.Group { return m.rules.RuleGroups() }

// AlertingRules returns every alerting rule being evaluated.
func (m *Manager) AlertingRules() []*rules.AlertingRule { return m.rules.AlertingRules() }

func (m *Manager) count() int {
	n := 0
	for _, g := range m.rules.RuleGroups() {
		n += len(g.Rules())
	}
	return n
}

// CheckFiles parses the rule files the patterns name, as New does,
// without building anything: an upgrading process checks them before it
// tells the previous one to hand over.
func CheckFiles(patterns []string) error {
	m := &Manager{opts: Options{Files: patterns}, log: slog.New(slog.DiscardHandler), parser: parser.NewParser(parser.Options{})}
	_, err := m.check()
	return err
}

// check expands the patterns and parses every file, returning the files
// or an error naming each file that does not parse, with line and problem.
func (m *Manager) check() ([]string, error) {
	files, err := expand(m.opts.Files)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, f := range files {
		if _, ferrs := rulefmt.ParseFile(f, false, model.UTF8Validation, m.parser, m.log); len(ferrs) > 0 {
			for _, e := range ferrs {
				errs = append(errs, fmt.Errorf("rule file %s: %w", f, e))
			}
		}
	}
	return files, errors.Join(errs...)
}

// expand resolves the patterns into files, sorted, each once. A pattern
// without glob characters must name an existing file; a glob may match
// nothing.
func expand(patterns []string) ([]string, error) {
	seen := map[string]bool{}
	var files []string
	for _, p := range patterns {
		if !strings.ContainsAny(p, "*?[") {
			if _, err := os.Stat(p); err != nil {
				return nil, fmt.Errorf("rule file: %w", err)
			}
		}
		matches, err := filepath.Glob(p)
		if err != nil {
			return nil, fmt.Errorf("rule file pattern %q: %w", p, err)
		}
		for _, f := range matches {
			if !seen[f] {
				seen[f] = true
				files = append(files, f)
			}
		}
	}
	sort.Strings(files)
	return files, nil
}
