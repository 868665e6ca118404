package store

import (
	"errors"
	"fmt"
	"sync"

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

	walFaults    prometheus.Counter // failed WAL writes that stopped acknowledgements
	healFailures prometheus.Counter // WAL repairs that failed and were retried
	healthy      prometheus.Gauge   // 1 while samples are accepted
	walDamaged   prometheus.Counter // damaged WAL segments found by CheckWAL
	walLost      prometheus.Counter // incomplete records dropped from them
	walTornTails prometheus.Counter // torn tails cut by CheckWAL
	metaDropped  prometheus.Counter // metric families whose metadata was not kept

	mu    sync.Mutex
	check WALCheck // guarded by mu; damage found since the sink was opened
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
		walFaults: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hawk_store_wal_write_faults_total",
			Help: "Failed TSDB WAL writes after which the sink stopped acknowledging until the WAL was repaired.",
		}),
		healFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hawk_store_wal_repair_failures_total",
			Help: "Attempts to repair the WAL after a failed write that failed (no space yet) and were retried.",
		}),
		healthy: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hawk_store_accepting",
			Help: "1 while the TSDB sink accepts samples, 0 while it repairs its WAL after a failed write.",
		}),
		walDamaged: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hawk_store_wal_damaged_segments_total",
			Help: "WAL segments found damaged at open; their intact records were kept, the originals linked into wal-damaged/.",
		}),
		walLost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hawk_store_wal_lost_records_total",
			Help: "Incomplete WAL records dropped from damaged segments at open.",
		}),
		walTornTails: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hawk_store_wal_torn_tails_total",
			Help: "Torn (never acknowledged) WAL segment tails cut at open or after a failed write.",
		}),
		metaDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hawk_store_metadata_dropped_total",
			Help: "Series of metric families whose metadata (HELP, TYPE, UNIT) was not kept because MaxMetadataEntries families were held; their samples are stored.",
		}),
	}
	m.healthy.Set(1)
	for _, r := range []string{reasonOutOfBounds, reasonOutOfOrder, reasonTooOld, reasonDuplicate, reasonInvalid} {
		m.rejected.WithLabelValues(r)
	}
	return m
}

func (m *tsdbMetrics) register(r prometheus.Registerer) error {
	for _, c := range m.collectors() {
		if err := r.Register(c); err != nil {
			m.unregister(r)
			return err
		}
	}
	return nil
}

func (m *tsdbMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.appended, m.rejected, m.refMisses, m.commitErrors,
		m.walFaults, m.healFailures, m.healthy, m.walDamaged, m.walLost, m.walTornTails, m.metaDropped}
}

func (m *tsdbMetrics) unregister(r prometheus.Registerer) {
	if r == nil {
		return
	}
	for _, c := range m.collectors() {
		r.Unregister(c)
	}
}

// noteCheck counts what a CheckWAL found.
func (m *tsdbMetrics) noteCheck(res WALCheck) {
	m.walDamaged.Add(float64(len(res.Damaged)))
	m.walLost.Add(float64(res.LostRecords))
	m.walTornTails.Add(float64(res.TornTails))
	m.mu.Lock()
	defer m.mu.Unlock()
	m.check.Segments = res.Segments
	m.check.TornTails += res.TornTails
	m.check.TailBytes += res.TailBytes
	m.check.Damaged = append(m.check.Damaged, res.Damaged...)
	m.check.KeptRecords += res.KeptRecords
	m.check.LostRecords += res.LostRecords
	m.check.DamagedPages += res.DamagedPages
}

func (m *tsdbMetrics) lastCheck() WALCheck {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.check
	c.Damaged = append([]string(nil), c.Damaged...)
	return c
}
