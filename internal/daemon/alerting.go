package daemon

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/promql"

	"hawk/internal/alerting"
	"hawk/internal/options"
	"hawk/internal/options/httpopt"
	"hawk/internal/server"
	"hawk/internal/store"
)

// Alerting configures rule evaluation and delivery to Alertmanager.
type Alerting struct {
	RuleFiles          []string
	EvaluationInterval time.Duration
	ResendDelay        time.Duration
	OutageTolerance    time.Duration
	ForGracePeriod     time.Duration
	Alertmanagers      []string
	Client             *httpopt.Client // headers, auth, TLS
	Timeout            time.Duration
	QueueCapacity      int
	ExternalURL        string
}

func (a *Alerting) declare(s *options.Set) {
	s.Strings(&a.RuleFiles, "rule-file", "Prometheus rule file of recording and alerting rules (repeatable, globs allowed); re-read on SIGHUP and POST /-/reload")
	s.Duration(&a.EvaluationInterval, "rule.evaluation-interval", 15*time.Second, "how often rule groups that set no interval are evaluated")
	s.Duration(&a.ResendDelay, "rule.resend-delay", time.Minute, "how often a firing alert is sent again to Alertmanager (the retry of a failed send)")
	s.Duration(&a.OutageTolerance, "rule.outage-tolerance", time.Hour, "longest downtime of this server after which alerts' `for` state is still restored")
	s.Duration(&a.ForGracePeriod, "rule.for-grace-period", 10*time.Minute, "least time a restored pending alert waits before it fires")
	s.Strings(&a.Alertmanagers, "alertmanager", "Alertmanager URL that alerts are sent to over its v2 API (repeatable), e.g. http://127.0.0.1:9093")
	a.Client = httpopt.Declare(s, "alertmanager", "Alertmanagers")
	s.Duration(&a.Timeout, "alertmanager.timeout", 10*time.Second, "longest one send to an Alertmanager may take")
	s.Int(&a.QueueCapacity, "alertmanager.queue-capacity", alerting.DefaultQueueCapacity, "alerts queued per Alertmanager at most while it is unreachable; beyond, the oldest are dropped (prometheus_notifications_dropped_total)")
	s.String(&a.ExternalURL, "web.external-url", "", "URL users reach this server's UI at, for alert links (default http://<hostname>:<http port>)")
}

// enabled says whether rules are evaluated at all.
func (a *Alerting) enabled() bool { return len(a.RuleFiles) > 0 || len(a.Alertmanagers) > 0 }

// open builds the rule manager over the embedded TSDB; nil when no rule
// file and no Alertmanager is configured.
func (a *Alerting) open(db *store.TSDB, engine promql.QueryEngine, httpAddr string, ex alerting.OutageExplainer,
	reg prometheus.Registerer, log *slog.Logger) (*alerting.Manager, error) {
	if !a.enabled() {
		return nil, nil
	}
	if db == nil {
		return nil, errors.New("-rule-file and -alertmanager need the embedded TSDB (-storage.tsdb)")
	}
	client, err := a.Client.Config()
	if err != nil {
		return nil, fmt.Errorf("-alertmanager: %w", err)
	}
	ext := a.ExternalURL
	if ext == "" {
		ext = "http://" + httpAddr
	}
	u, err := url.Parse(ext)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("-web.external-url %q: want an absolute URL", ext)
	}
	opts := alerting.Options{
		Files: a.RuleFiles, Interval: a.EvaluationInterval, Storage: db.DB(), Engine: engine,
		Alertmanagers: a.Alertmanagers, ExternalURL: u, ResendDelay: a.ResendDelay,
		OutageTolerance: a.OutageTolerance, ForGracePeriod: a.ForGracePeriod, Explainer: ex,
		Notifier:   alerting.NotifierOptions{Client: client, Timeout: a.Timeout, QueueCapacity: a.QueueCapacity},
		Registerer: reg, Logger: log,
	}
	return alerting.New(opts)
}

// openRules builds rule evaluation and hands it to the API; Start runs it
// once serving, closeAll stops it before the storage closes.
func (d *Daemon) openRules(reg prometheus.Registerer) error {
	m, err := d.cfg.Alerting.open(d.db, d.api.Engine(), localAddr(d.web.Addr()), d.explainer, reg, d.log.With("component", "alerting"))
	if err != nil || m == nil {
		return err
	}
	d.rules = m
	d.api.SetRules(m)
	return nil
}

// fleetOutages gives the alerting package the fleet's record of why an
// agent was silent, for resolved alerts' annotations.
type fleetOutages struct{ f *server.Fleet }

func (o fleetOutages) LastOutage(agentID string) (alerting.Outage, bool) {
	x, ok := o.f.LastOutage(agentID)
	return alerting.Outage{Start: x.Start, End: x.End, Cause: x.Cause}, ok
}
