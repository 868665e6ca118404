package store

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
)

// Reasons a sample is rejected, as the "reason" label of
// hawk_store_samples_rejected_total.
const (
	reasonOutOfBounds = "out_of_bounds"
	reasonOutOfOrder  = "out_of_order"
	reasonTooOld      = "too_old"
	reasonDuplicate   = "duplicate"
	reasonInvalid     = "invalid"
)

// rejectReason classifies a TSDB append error that concerns only the one
// sample (or its series' labels), or returns "" for an error that must fail
// the transaction.
func rejectReason(err error) string {
	switch {
	case errors.Is(err, storage.ErrOutOfBounds):
		return reasonOutOfBounds
	case errors.Is(err, storage.ErrOutOfOrderSample):
		return reasonOutOfOrder
	case errors.Is(err, storage.ErrTooOldSample):
		return reasonTooOld
	case errors.Is(err, storage.ErrDuplicateSampleForTimestamp):
		return reasonDuplicate
	case errors.Is(err, tsdb.ErrInvalidSample):
		return reasonInvalid
	}
	return ""
}

// appendError maps an error of the TSDB's Append: sample errors wrap
// ErrRejected (the session drops the sample and goes on), anything else is
// returned wrapped as is and fails the transaction.
func (t *TSDB) appendError(s *Series, ts int64, err error) error {
	name := s.Labels.Get(model.MetricNameLabel)
	if len(name) > 64 {
		name = name[:64]
	}
	reason := rejectReason(err)
	if reason == "" {
		return fmt.Errorf("store: append %q at %d: %w", name, ts, err)
	}
	t.metrics.rejected.WithLabelValues(reason).Inc()
	return fmt.Errorf("%w: %q at %d: %w", ErrRejected, name, ts, err)
}

// tsdbMetrics are the sink's own counters; the TSDB registers its own
// prometheus_tsdb_* metrics besides.
type tsdbMetrics struct {
	appended     prometheus.Counter     // samples committed
	rejected     *prometheus.CounterVec // samples refused, by reason
	refMisses    prometheus.Counter     // appends that had to resolve labels
	commitErrors prometheus.Counter     // failed commits
}

func newTSDBMetrics() *tsdbMetrics {
	m := &tsdbMetrics{
		appended: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hawk_store_samples_appended_total",
			Help: "Samples appended to the TSDB sink in committed transactions.",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hawk_store_samples_rejected_total",
			Help: "Samples the TSDB sink refused, by reason.",
		}, []string{"reason"}),
		refMisses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hawk_store_series_ref_misses_total",
			Help: "Appends whose series had no valid cached reference and were resolved by labels.",
		}),
		commitErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hawk_store_commit_errors_total",
			Help: "TSDB sink commits that failed.",
		}),
	}
	for _, r := range []string{reasonOutOfBounds, reasonOutOfOrder, reasonTooOld, reasonDuplicate, reasonInvalid} {
		m.rejected.WithLabelValues(r)
	}
	return m
}

func (m *tsdbMetrics) register(r prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.appended, m.rejected, m.refMisses, m.commitErrors} {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}
