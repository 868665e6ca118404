package alerting

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are this package's own series; the rule manager and the
// notifier register theirs (prometheus_rule_*, prometheus_notifications_*).
type metrics struct {
	lastOK      prometheus.Gauge
	lastSuccess prometheus.Gauge
	reloads     *prometheus.CounterVec
	rules       prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		lastOK: prometheus.NewGauge(prometheus.GaugeOpts{Name: "hawk_rules_last_reload_successful",
			Help: "Whether the last load of the rule files succeeded (1) or kept the previous rules (0)."}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{Name: "hawk_rules_last_reload_success_timestamp_seconds",
			Help: "When the rule files were last loaded successfully."}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hawk_rules_reloads_total",
			Help: "Loads of the rule files, by result (success, failure)."}, []string{"result"}),
		rules: prometheus.NewGauge(prometheus.GaugeOpts{Name: "hawk_rules_loaded",
			Help: "Recording and alerting rules being evaluated."}),
	}
	m.reloads.WithLabelValues("success")
	m.reloads.WithLabelValues("failure")
	if reg != nil {
		reg.MustRegister(m.lastOK, m.lastSuccess, m.reloads, m.rules)
	}
	return m
}

func (m *metrics) loaded(ok bool, rules int) {
	m.rules.Set(float64(rules))
	if !ok {
		m.lastOK.Set(0)
		m.reloads.WithLabelValues("failure").Inc()
		return
	}
	m.lastOK.Set(1)
	m.lastSuccess.Set(float64(time.Now().UnixNano()) / 1e9)
	m.reloads.WithLabelValues("success").Inc()
}
