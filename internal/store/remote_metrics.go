package store

import "github.com/prometheus/client_golang/prometheus"

// remoteMetrics are a Remote's own metrics, labelled remote="<name>" so that
// several remotes share a registry.
type remoteMetrics struct {
	samplesSent     prometheus.Counter     // accepted by the remote (2xx)
	samplesRejected prometheus.Counter     // refused for good (400, 409, 422) and dropped
	samplesFailed   prometheus.Counter     // not delivered: their Commit failed
	samplesRetried  prometheus.Counter     // sent again after a 5xx, 429 or network error
	pending         prometheus.Gauge       // handed to the shards, not yet settled
	commitsFailed   prometheus.Counter     // Commits that returned an error
	requests        *prometheus.CounterVec // requests by HTTP status code, "error" for no response
	duration        prometheus.Histogram   // request latency, failed ones included
}

func newRemoteMetrics(name string) *remoteMetrics {
	cl := prometheus.Labels{"remote": name}
	counter := func(n, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: n, Help: help, ConstLabels: cl})
	}
	return &remoteMetrics{
		samplesSent:     counter("hawk_remote_samples_sent_total", "Samples the remote accepted."),
		samplesRejected: counter("hawk_remote_samples_rejected_total", "Samples in requests the remote refused with 400, 409 or 422; dropped, not retried."),
		samplesFailed:   counter("hawk_remote_samples_failed_total", "Samples not delivered, whose Commit failed (retry time exceeded, other 4xx, close)."),
		samplesRetried:  counter("hawk_remote_samples_retried_total", "Samples sent again after a 5xx, 429 or network error."),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hawk_remote_samples_pending", Help: "Samples handed to the shards and not yet settled.", ConstLabels: cl,
		}),
		commitsFailed: counter("hawk_remote_commits_failed_total", "Commits to the remote sink that returned an error."),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hawk_remote_requests_total", Help: "Remote write requests by HTTP status code (\"error\": no response).", ConstLabels: cl,
		}, []string{"code"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hawk_remote_request_duration_seconds", Help: "Duration of remote write requests.", ConstLabels: cl,
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8),
		}),
	}
}

func (m *remoteMetrics) register(r prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.samplesSent, m.samplesRejected, m.samplesFailed,
		m.samplesRetried, m.pending, m.commitsFailed, m.requests, m.duration} {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}
