package server

import (
	"github.com/prometheus/client_golang/prometheus"

	"hawk/internal/wire"
)

// metrics are the server's own counters, exported on /metrics.
type metrics struct {
	connsTotal      *prometheus.CounterVec // by protocol: v2, legacy, unknown
	connsOpen       prometheus.Gauge
	connsRefused    *prometheus.CounterVec // by reason
	frames          *prometheus.CounterVec // by outcome
	bytesIn         prometheus.Counter
	bytesSkipped    prometheus.Counter
	batches         *prometheus.CounterVec // by outcome: stored, duplicate, failed
	samples         *prometheus.CounterVec // by outcome: stored, rejected, duplicate
	commitSeconds   prometheus.Histogram
	ackSeconds      prometheus.Histogram
	agentsOnline    prometheus.Gauge
	legacy          *prometheus.CounterVec // by type: heartbeat, report
	errors          *prometheus.CounterVec // by reason
	dictSeries      prometheus.Gauge
	dictBytes       prometheus.Gauge
	refusalWait     prometheus.Counter
	livenessChanges prometheus.Counter
	authPenalties   prometheus.Counter
	definingWaits   prometheus.Gauge
	acceptWait      prometheus.Counter

	// Children resolved once, for the per-read path.
	frameOK, frameBadCheck, frameBadTail, frameStalled prometheus.Counter
	samplesStored, samplesRejected, samplesDup         prometheus.Counter
	batchStored, batchDup, batchFailed                 prometheus.Counter
}

func newMetrics() *metrics {
	return (&metrics{
		connsTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hawk_server_connections_total", Help: "Agent connections by protocol."}, []string{"protocol"}),
		connsOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hawk_server_connections_open", Help: "Agent connections open now."}),
		connsRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hawk_server_connections_refused_total", Help: "Connections closed at once, by reason."}, []string{"reason"}),
		frames: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hawk_server_frames_total", Help: "Frames received, by outcome."}, []string{"outcome"}),
		bytesIn: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hawk_server_received_bytes_total", Help: "Bytes read from agents."}),
		bytesSkipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hawk_server_skipped_bytes_total", Help: "Bytes read from agents that belonged to no valid frame."}),
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hawk_server_batches_total", Help: "v2 batches, by outcome."}, []string{"outcome"}),
		samples: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hawk_server_samples_total", Help: "Samples received, by outcome."}, []string{"outcome"}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hawk_server_commit_seconds", Help: "Time to commit a group of batches to the sink.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2.5, 14)}),
		ackSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hawk_server_ack_seconds", Help: "Time from a batch's last frame read to its ACK written.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2.5, 14)}),
		agentsOnline: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hawk_server_agents_online", Help: "Agents and legacy peers online."}),
		legacy: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hawk_server_legacy_packets_total", Help: "Legacy packets answered, by type."}, []string{"type"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hawk_server_errors_total", Help: "Bad input and failures, by reason."}, []string{"reason"}),
		dictSeries: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hawk_server_dictionary_series", Help: "Series dictionary entries held by open v2 connections."}),
		dictBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hawk_server_dictionary_bytes", Help: "Memory the series dictionaries of open v2 connections hold: one entry per id, the accepted series and their label and help text."}),
		refusalWait: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hawk_server_series_refusal_wait_seconds_total", Help: "Waits imposed on sessions before they acknowledge batches whose refused series definitions passed -max-refused-series-rate (a wait that a drain or reconnect ends early counts in full)."}),
		acceptWait: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hawk_server_accept_wait_seconds_total", Help: "Time the accept loops waited for -max-connection-rate to allow another connection (those waiting meanwhile sit in the kernel's accept queue)."}),
		definingWaits: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hawk_server_sessions_waiting_to_define", Help: "Sessions whose batch defines series, waiting for a place to define them (one fewer than the CPUs; batches of known series take none)."}),
		livenessChanges: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hawk_server_agent_identity_changes_total", Help: "Agents whose hawk_agent_* series moved to a new hostname, instance, job or version (the old ones marked stale)."}),
		authPenalties: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hawk_server_auth_failure_penalties_total", Help: "Times a source address was penalised for refused HELLOs (-max-auth-failures-per-source): its new connections are closed at accept (refused{auth_penalty})."}),
	}).resolve()
}

func (m *metrics) resolve() *metrics {
	m.frameOK = m.frames.WithLabelValues("ok")
	m.frameBadCheck = m.frames.WithLabelValues("bad_check")
	m.frameBadTail = m.frames.WithLabelValues("bad_tail")
	m.frameStalled = m.frames.WithLabelValues("stalled")
	m.samplesStored = m.samples.WithLabelValues("stored")
	m.samplesRejected = m.samples.WithLabelValues("rejected")
	m.samplesDup = m.samples.WithLabelValues("duplicate")
	m.batchStored = m.batches.WithLabelValues("stored")
	m.batchDup = m.batches.WithLabelValues("duplicate")
	m.batchFailed = m.batches.WithLabelValues("failed")
	return m
}

func (m *metrics) register(r prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.connsTotal, m.connsOpen, m.connsRefused, m.frames, m.bytesIn,
		m.bytesSkipped, m.batches, m.samples, m.commitSeconds, m.ackSeconds, m.agentsOnline, m.legacy,
		m.errors, m.dictSeries, m.dictBytes, m.refusalWait, m.livenessChanges, m.authPenalties, m.definingWaits, m.acceptWait} {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// addDecoder adds what a decoder counted since last to the counters.
func (m *metrics) addDecoder(now, last wire.DecoderStats) {
	if d := now.Frames - last.Frames; d > 0 {
		m.frameOK.Add(float64(d))
	}
	if d := now.BadCheck - last.BadCheck; d > 0 {
		m.frameBadCheck.Add(float64(d))
	}
	if d := now.BadTail - last.BadTail; d > 0 {
		m.frameBadTail.Add(float64(d))
	}
	if d := now.Stalled - last.Stalled; d > 0 {
		m.frameStalled.Add(float64(d))
	}
	if d := now.Skipped - last.Skipped; d > 0 {
		m.bytesSkipped.Add(float64(d))
	}
}
