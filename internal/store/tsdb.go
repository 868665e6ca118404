package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/util/compression"
)

// Defaults of TSDBOptions.
const (
	DefaultRetention        = 15 * 24 * time.Hour
	DefaultOutOfOrderWindow = 6 * time.Hour
)

// refTagShift splits a cached Series ref into the TSDB's series ref (low 48
// bits) and the tag of the TSDB instance that issued it (high 16 bits). A
// ref cached by another instance (the sink was closed and reopened within one
// process) then never reaches the TSDB, which would trust it blindly: head
// series refs restart from the WAL on every open and could name a different
// series.
const (
	refTagShift = 48
	refMask     = 1<<refTagShift - 1
)

// TSDBOptions configures OpenTSDB. The zero value of every field but Dir
// selects its default.
type TSDBOptions struct {
	// Dir is the data directory; it is created if missing.
	Dir string
	// Retention is how long samples are kept; 0 means DefaultRetention.
	Retention time.Duration
	// OutOfOrderWindow is how far behind the newest sample of the head a
	// sample may be and still be stored, so that what an agent buffered
	// during an outage is kept. 0 means DefaultOutOfOrderWindow; a negative
	// value disables out-of-order ingestion.
	OutOfOrderWindow time.Duration
	// Slot is the Series.Ref slot this sink caches its refs in, in
	// [0, MaxSinks).
	Slot int
	// Registerer receives the sink's and the TSDB's metrics; nil means none.
	Registerer prometheus.Registerer
	// Logger receives the TSDB's logs; nil discards them.
	Logger *slog.Logger
}

// TSDB is a Sink backed by an embedded Prometheus TSDB. It is safe for
// concurrent use; each Appender belongs to one goroutine.
type TSDB struct {
	db      *tsdb.DB
	slot    int          // Series.Ref slot owned by this sink
	tag     uint64       // instance tag in the high bits of cached refs
	metrics *tsdbMetrics // counters exported through the Registerer
	meta    metaIndex    // metadata per metric family, as the sessions sent it

	closeOnce sync.Once
	closeErr  error // result of the one Close
}

// OpenTSDB opens (or creates) the TSDB in opts.Dir and replays its WAL.
func OpenTSDB(opts TSDBOptions) (*TSDB, error) {
	if opts.Dir == "" {
		return nil, errors.New("store: open tsdb: empty data directory")
	}
	if opts.Slot < 0 || opts.Slot >= MaxSinks {
		return nil, fmt.Errorf("store: open tsdb: slot %d outside [0, %d)", opts.Slot, MaxSinks)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	db, err := tsdb.Open(opts.Dir, logger, opts.Registerer, tsdbOptions(opts), nil)
	if err != nil {
		return nil, fmt.Errorf("store: open tsdb %q: %w", opts.Dir, err)
	}
	m := newTSDBMetrics()
	if opts.Registerer != nil {
		if err := m.register(opts.Registerer); err != nil {
			return nil, errors.Join(fmt.Errorf("store: register metrics: %w", err), db.Close())
		}
	}
	return &TSDB{
		db:      db,
		slot:    opts.Slot,
		tag:     (uint64(rand.Uint32N(1<<16-1)) + 1) << refTagShift,
		metrics: m,
		meta:    metaIndex{byName: map[string]metadata.Metadata{}},
	}, nil
}

// tsdbOptions turns TSDBOptions into the TSDB's own options.
func tsdbOptions(opts TSDBOptions) *tsdb.Options {
	o := tsdb.DefaultOptions()
	retention := opts.Retention
	if retention <= 0 {
		retention = DefaultRetention
	}
	o.RetentionDuration = retention.Milliseconds()
	window := opts.OutOfOrderWindow
	switch {
	case window == 0:
		window = DefaultOutOfOrderWindow
	case window < 0:
		window = 0
	}
	o.OutOfOrderTimeWindow = window.Milliseconds()
	o.EnableMetadataWALRecords = true
	// A clean shutdown (SIGTERM, or the old process of an upgrade) writes
	// the in-memory chunks to a snapshot, so the next process loads them
	// instead of replaying the whole WAL: the upgrade's ingest pause is
	// the snapshot's load, not a replay that grows for two hours.
	o.EnableMemorySnapshotOnShutdown = true
	// As Prometheus' own server does: snappy roughly halves the bytes the
	// WAL writes per commit, which at millions of samples a second is what
	// page-cache writeback would otherwise throttle.
	o.WALCompression = compression.Snappy
	// Isolation keeps a query from seeing part of a transaction that is
	// being committed. hawk's transactions are batches (or groups of them)
	// of independent samples, so a query that sees some of a batch a few
	// microseconds early is as correct as one a moment later; isolation
	// would cost a ring of transaction ids per series (tens of MB of heap
	// at 60k series) and a global lock twice per commit. Mimir turns it
	// off for its ingesters for the same reason.
	o.IsolationDisabled = true
	// The TSDB moves full head chunks from the Go heap to its m-mapped
	// files only on this tick (once a minute by default), locking each
	// series it moves. A series taking a sample a second fills a chunk
	// every two minutes, but the load benchmarks push a hundred samples a
	// second per series: a minute of full chunks then doubles the live
	// heap (and the GC's mark phase), and moving them all at once stalls
	// the commits for a few hundred milliseconds. Every second, the
	// TSDB's shortest tick, the moves are small. The tick also reloads
	// the block directory, a cheap listing.
	o.BlockReloadInterval = time.Second
	return o
}

// Appender starts a transaction. See Appender for its rules.
func (t *TSDB) Appender() Appender {
	return &tsdbAppender{sink: t, app: t.db.AppenderV2(context.Background())}
}

// Close flushes the head to disk as far as the TSDB does on shutdown and
// releases the directory. It is idempotent.
func (t *TSDB) Close() error {
	t.closeOnce.Do(func() {
		if err := t.db.Close(); err != nil {
			t.closeErr = fmt.Errorf("store: close tsdb: %w", err)
		}
	})
	return t.closeErr
}

// DB returns the underlying TSDB, for callers that need more than the
// Storage (admin, stats). It stays valid until Close.
func (t *TSDB) DB() *tsdb.DB { return t.db }

// Storage returns the TSDB as a storage.Storage, the Queryable that the
// PromQL engine and the query API read from.
func (t *TSDB) Storage() storage.Storage { return t.db }

// Metadata returns the metadata the sink has seen per metric family name
// since it was opened, or only that of metric when it is not empty. The
// returned map is a copy owned by the caller.
func (t *TSDB) Metadata(metric string) map[string]metadata.Metadata {
	return t.meta.snapshot(metric)
}

// tsdbAppender is one transaction on the TSDB head.
type tsdbAppender struct {
	sink *TSDB
	app  storage.AppenderV2
	n    int // samples accepted by Append, for the appended counter
}

// Append implements Appender. In the steady state it hands the cached ref to
// the TSDB, which then skips hashing the labels; a ref the TSDB no longer
// knows (the series was garbage-collected from the head) falls back to the
// labels inside the TSDB.
//
// The metadata goes along only with the sample that resolves the ref: the
// head keeps it per series from then on, and a Series' metadata never
// changes (a new connection defines new Series). Passing it with every
// sample made the head compare the help text of every sample against its
// copy, under the series lock: a cache miss per sample at high rates. The
// series the head recreates for a stale ref gets no metadata from that
// sample, so the ref is forgotten and the next sample resolves it again
// from the labels, with the metadata.
func (a *tsdbAppender) Append(s *Series, t int64, v float64) error {
	slot := s.Ref(a.sink.slot)
	var ref storage.SeriesRef
	var opts storage.AOptions
	if *slot&^refMask == a.sink.tag {
		ref = storage.SeriesRef(*slot & refMask)
	} else {
		opts.Metadata = s.Meta
	}
	got, err := a.app.Append(ref, s.Labels, 0, t, v, nil, nil, opts)
	if err != nil {
		return a.sink.appendError(s, t, err)
	}
	switch {
	case got == ref:
	case ref != 0: // stale: resolve with the metadata next time
		a.sink.metrics.refMisses.Inc()
		*slot = 0
	default:
		a.resolved(s, slot, got)
	}
	a.n++
	return nil
}

// resolved caches a newly learnt ref and records the series' metadata; it
// runs once per series and sink, off the steady-state path.
func (a *tsdbAppender) resolved(s *Series, slot *uint64, got storage.SeriesRef) {
	a.sink.metrics.refMisses.Inc()
	*slot = uint64(got)&refMask | a.sink.tag
	if !s.Meta.IsEmpty() {
		a.sink.meta.set(s.Labels.Get(model.MetricNameLabel), s.Meta)
	}
}

// Commit implements Appender. The TSDB writes the transaction's WAL records
// with write(2) before Commit returns (see doc.go), so a committed sample
// survives the process being killed; it does not fsync, so it does not
// survive the machine losing power before the OS writes the page cache back.
func (a *tsdbAppender) Commit() error {
	if err := a.app.Commit(); err != nil {
		a.sink.metrics.commitErrors.Inc()
		return fmt.Errorf("store: commit tsdb: %w", err)
	}
	a.sink.metrics.appended.Add(float64(a.n))
	return nil
}

// Rollback implements Appender.
func (a *tsdbAppender) Rollback() error {
	if err := a.app.Rollback(); err != nil {
		return fmt.Errorf("store: rollback tsdb: %w", err)
	}
	return nil
}

// metaIndex holds the last metadata seen per metric family name.
type metaIndex struct {
	mu     sync.Mutex
	byName map[string]metadata.Metadata // guarded by mu
}

func (m *metaIndex) set(name string, md metadata.Metadata) {
	m.mu.Lock()
	m.byName[name] = md
	m.mu.Unlock()
}

func (m *metaIndex) snapshot(metric string) map[string]metadata.Metadata {
	m.mu.Lock()
	defer m.mu.Unlock()
	if metric != "" {
		out := map[string]metadata.Metadata{}
		if md, ok := m.byName[metric]; ok {
			out[metric] = md
		}
		return out
	}
	out := make(map[string]metadata.Metadata, len(m.byName))
	for k, v := range m.byName {
		out[k] = v
	}
	return out
}
