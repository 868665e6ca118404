package alerting

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery/targetgroup"
	"github.com/prometheus/prometheus/notifier"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/util/strutil"
)

// NotifierOptions configures delivery to the Alertmanagers.
type NotifierOptions struct {
	// Client carries auth, headers and TLS for every Alertmanager.
	Client promconfig.HTTPClientConfig
	// Timeout bounds one send; 0 means Prometheus' default (10s).
	Timeout time.Duration
	// QueueCapacity bounds the alerts waiting to be sent per
	// Alertmanager; beyond it the oldest are dropped and counted in
	// prometheus_notifications_dropped_total. 0 means
	// DefaultQueueCapacity.
	QueueCapacity int
}

type targetGroup = targetgroup.Group

// newNotifier builds the notifier with one Alertmanager configuration per
// URL (scheme and path prefix from the URL, the host as its one target).
func newNotifier(opts Options, log *slog.Logger) (*notifier.Manager, error) {
	no := opts.Notifier
	if no.QueueCapacity <= 0 {
		no.QueueCapacity = DefaultQueueCapacity
	}
	n := notifier.NewManager(&notifier.Options{QueueCapacity: no.QueueCapacity, DrainOnShutdown: true, Registerer: opts.Registerer},
		model.UTF8Validation, log)
	cfg := &config.Config{}
	for _, raw := range opts.Alertmanagers {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("-alertmanager %q: want http(s)://host:port[/prefix]", raw)
		}
		am := config.DefaultAlertmanagerConfig
		am.Scheme, am.PathPrefix, am.HTTPClientConfig = u.Scheme, strings.TrimSuffix(u.Path, "/"), no.Client
		if no.Timeout > 0 {
			am.Timeout = model.Duration(no.Timeout)
		}
		if err := am.HTTPClientConfig.Validate(); err != nil {
			return nil, fmt.Errorf("-alertmanager %q: %w", raw, err)
		}
		cfg.AlertingConfig.AlertmanagerConfigs = append(cfg.AlertingConfig.AlertmanagerConfigs, &am)
	}
	if err := n.ApplyConfig(cfg); err != nil {
		return nil, fmt.Errorf("-alertmanager: %w", err)
	}
	return n, nil
}

// staticTargets is the one target-group update the notifier gets: each
// Alertmanager configuration's host.
func staticTargets(urls []string) map[string][]*targetGroup {
	tgs := make(map[string][]*targetGroup, len(urls))
	for i, raw := range urls {
		u, _ := url.Parse(raw) // validated by newNotifier
		tgs[fmt.Sprintf("config-%d", i)] = []*targetGroup{{
			Source:  raw,
			Targets: []model.LabelSet{{model.AddressLabel: model.LabelValue(u.Host)}},
		}}
	}
	return tgs
}

// notify is the rules manager's NotifyFunc: rules.SendAlerts' conversion,
// with resolved alerts about agents explained by their last outage.
func (m *Manager) notify(_ context.Context, expr string, alerts ...*rules.Alert) {
	if len(alerts) == 0 {
		return
	}
	res := make([]*notifier.Alert, 0, len(alerts))
	for _, a := range alerts {
		na := &notifier.Alert{
			StartsAt:     a.FiredAt,
			Labels:       a.Labels,
			Annotations:  explain(m.opts.Explainer, a),
			GeneratorURL: m.opts.ExternalURL.String() + strutil.TableLinkForExpression(expr),
			EndsAt:       a.ValidUntil,
		}
		if !a.ResolvedAt.IsZero() {
			na.EndsAt = a.ResolvedAt
		}
		res = append(res, na)
	}
	m.notifier.Send(res...)
}
