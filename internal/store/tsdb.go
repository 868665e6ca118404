package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/util/compression"

	"hawk/internal/faultfs"
)

// Defaults of TSDBOptions.
const (
	DefaultRetention        = 15 * 24 * time.Hour
	DefaultOutOfOrderWindow = 6 * time.Hour
	// DefaultMaxMetadataEntries metric families' metadata, HELP bounded by
	// the server's -max-help-length (1 KiB), hold at most some 60 MB.
	DefaultMaxMetadataEntries = 50000
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
	// MaxMetadataEntries bounds the metric families whose metadata (HELP,
	// TYPE, UNIT) is kept for /api/v1/metadata; a new family beyond it is
	// stored without and counted. 0 means DefaultMaxMetadataEntries.
	MaxMetadataEntries int
	// Fault injects file-system faults into CheckWAL (tests only).
	Fault *faultfs.Injector
}

// TSDB is a Sink backed by an embedded Prometheus TSDB. It is safe for
// concurrent use; each Appender belongs to one goroutine.
//
// It never acknowledges a commit while the WAL may hold a torn record
// (see doc.go, "Storage faults"): after a failed WAL write it refuses every
// transaction (ErrStorageFault) until its heal loop has closed the TSDB, cut
// the torn tail with CheckWAL and opened it again.
type TSDB struct {
	opts    TSDBOptions
	logger  *slog.Logger
	slot    int          // Series.Ref slot owned by this sink
	tag     uint64       // instance tag in the high bits of cached refs
	metrics *tsdbMetrics // counters exported through the Registerer
	meta    metaIndex    // metadata per metric family, as the sessions sent it
	reg     *captureRegisterer

	// mu is held shared by each appender from Appender to Commit or
	// Rollback and by DB, exclusively by heal while it swaps db.
	mu        sync.RWMutex
	db        *tsdb.DB          // guarded by mu; nil while healing failed
	walFailed prometheus.Metric // guarded by mu; the WAL's writes_failed_total, or nil

	faulted atomic.Bool               // a WAL write failed and the WAL is not yet cut back
	fault1  atomic.Pointer[faultNote] // the failed write that set faulted, for Status
	healc   chan struct{}             // wakes the heal loop
	stop    chan struct{}             // closed by Close
	wg      sync.WaitGroup

	closeOnce sync.Once
	closeErr  error // result of the one Close
}

// ErrStorageFault fails every transaction while the TSDB repairs its WAL
// after a failed write (a full or failing disk).
var ErrStorageFault = errors.New("store: WAL write failed; refusing samples until the WAL is repaired")

// OpenTSDB checks the WAL (CheckWAL), then opens (or creates) the TSDB in
// opts.Dir and replays its WAL.
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
	if opts.MaxMetadataEntries <= 0 {
		opts.MaxMetadataEntries = DefaultMaxMetadataEntries
	}
	metrics := newTSDBMetrics()
	t := &TSDB{
		opts:    opts,
		logger:  logger,
		slot:    opts.Slot,
		tag:     (uint64(rand.Uint32N(1<<16-1)) + 1) << refTagShift,
		metrics: metrics,
		meta:    metaIndex{byName: map[string]metadata.Metadata{}, max: opts.MaxMetadataEntries, dropped: metrics.metaDropped},
		reg:     &captureRegisterer{inner: opts.Registerer},
		healc:   make(chan struct{}, 1),
		stop:    make(chan struct{}),
	}
	if opts.Registerer != nil {
		if err := t.metrics.register(opts.Registerer); err != nil {
			return nil, fmt.Errorf("store: register metrics: %w", err)
		}
	}
	if err := t.open(); err != nil {
		t.metrics.unregister(opts.Registerer)
		return nil, err
	}
	t.wg.Add(1)
	go t.healLoop()
	return t, nil
}

// open checks the WAL and opens the TSDB into t.db. t.mu must be held
// exclusively, or t not yet shared.
func (t *TSDB) open() error {
	res, err := CheckWAL(t.opts.Dir, t.logger, t.opts.Fault)
	if err != nil {
		return err
	}
	t.metrics.noteCheck(res)
	t.reg.forget()
	db, err := tsdb.Open(t.opts.Dir, t.logger, t.reg, tsdbOptions(t.opts), nil)
	if err != nil {
		t.reg.forget()
		return fmt.Errorf("store: open tsdb %q: %w", t.opts.Dir, err)
	}
	t.db, t.walFailed = db, t.reg.metric("prometheus_tsdb_wal_writes_failed_total")
	if t.walFailed == nil {
		t.logger.Warn("TSDB: no WAL write-failure counter found; a torn WAL is detected from commit errors only")
	}
	return nil
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

// Appender starts a transaction. See Appender for its rules. While the WAL
// is being repaired it returns one that fails with ErrStorageFault.
func (t *TSDB) Appender() Appender {
	if t.faulted.Load() {
		return faultedAppender{}
	}
	t.mu.RLock()
	if t.db == nil || t.faulted.Load() {
		t.mu.RUnlock()
		return faultedAppender{}
	}
	return &tsdbAppender{sink: t, app: t.db.AppenderV2(context.Background())}
}

// Close stops the heal loop, flushes the head to disk as far as the TSDB
// does on shutdown and releases the directory. It is idempotent. It fails
// when the TSDB could not be closed, or when the WAL was still not repaired
// after a failed write (the next start cuts its torn tail).
func (t *TSDB) Close() error {
	t.closeOnce.Do(func() {
		close(t.stop)
		t.wg.Wait()
		t.mu.Lock()
		defer t.mu.Unlock()
		var errs []error
		if t.faulted.Load() {
			errs = append(errs, fmt.Errorf("store: close tsdb: %w", ErrStorageFault))
		}
		if t.db != nil {
			if err := t.db.Close(); err != nil {
				errs = append(errs, fmt.Errorf("store: close tsdb: %w", err))
			}
			t.db = nil
		}
		t.reg.forget()
		t.metrics.unregister(t.opts.Registerer)
		t.closeErr = errors.Join(errs...)
	})
	return t.closeErr
}

// fault marks the WAL as possibly torn and wakes the heal loop.
func (t *TSDB) fault(cause error) {
	if t.faulted.CompareAndSwap(false, true) {
		t.fault1.Store(&faultNote{err: cause.Error(), since: time.Now()})
		t.metrics.walFaults.Inc()
		t.metrics.healthy.Set(0)
		t.logger.Error("TSDB: a WAL write failed; refusing samples (ERROR storage) until the WAL is cut back to its last acknowledged record",
			"err", cause)
	}
	select {
	case t.healc <- struct{}{}:
	default:
	}
}

// healLoop repairs the WAL after each fault, retrying with backoff (100 ms
// doubling to 5 s) while it cannot (no space yet), until Close.
//
// Reopening replays the WAL and cannot know whether the disk has space
// again, so a fault that follows a repair within 10 s waits out the same
// backoff first: a disk that stays full costs one replay per 5 s at most.
func (t *TSDB) healLoop() {
	defer t.wg.Done()
	var healed time.Time
	backoff := 100 * time.Millisecond
	sleep := func(d time.Duration) bool {
		tm := time.NewTimer(d)
		defer tm.Stop()
		select {
		case <-t.stop:
			return false
		case <-tm.C:
			return true
		}
	}
	for {
		select {
		case <-t.stop:
			return
		case <-t.healc:
		}
		if time.Since(healed) < 10*time.Second {
			if !sleep(backoff) {
				return
			}
			backoff = min(2*backoff, 5*time.Second)
		} else {
			backoff = 100 * time.Millisecond
		}
		for wait := backoff; ; wait = min(2*wait, 5*time.Second) {
			err := t.heal()
			if err == nil {
				healed = time.Now()
				break
			}
			t.metrics.healFailures.Inc()
			t.logger.Error("TSDB: WAL repair failed; still refusing samples", "err", err, "retry_in", wait)
			if !sleep(wait) {
				return
			}
		}
	}
}

// heal closes the TSDB once every running transaction has ended, cuts the
// WAL back to its last intact record and opens the TSDB again.
func (t *TSDB) heal() error {
	start := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.faulted.Load() {
		return nil
	}
	if t.db != nil {
		// Closing flushes the page the failed write left in memory, if it
		// can; CheckWAL then cuts whatever is incomplete.
		if err := t.db.Close(); err != nil {
			t.logger.Warn("TSDB: close before WAL repair", "err", err)
		}
		t.db = nil
	}
	if err := t.open(); err != nil {
		return err
	}
	t.faulted.Store(false)
	t.metrics.healthy.Set(1)
	t.logger.Warn("TSDB: WAL repaired after a failed write; accepting samples again", "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// Healthy reports whether the TSDB accepts samples (false while it repairs
// its WAL after a failed write).
func (t *TSDB) Healthy() bool { return !t.faulted.Load() }

// WALCheck returns what the WAL checks since OpenTSDB found: damaged
// segments, records kept and lost. The fleet page shows it.
func (t *TSDB) WALCheck() WALCheck { return t.metrics.lastCheck() }

// faultNote is the failed write that stopped the TSDB accepting samples.
type faultNote struct {
	err   string
	since time.Time
}

// Status is the TSDB's state for the API and the fleet page.
type Status struct {
	Accepting  bool      // false while the WAL is cut back after a failed write
	Fault      string    // that write's error, while not accepting
	FaultSince time.Time // when it failed, while not accepting
	WAL        WALCheck  // what the WAL checks since OpenTSDB found
	DamagedDir string    // where damaged segments are kept (DamagedDir in Dir)
}

// Status returns whether the TSDB accepts samples, and why not, and what
// its WAL checks found.
func (t *TSDB) Status() Status {
	st := Status{Accepting: !t.faulted.Load(), WAL: t.WALCheck(), DamagedDir: filepath.Join(t.opts.Dir, DamagedDir)}
	if n := t.fault1.Load(); !st.Accepting && n != nil {
		st.Fault, st.FaultSince = n.err, n.since
	}
	return st
}

// DB returns the underlying TSDB, for callers that need more than the
// Storage (admin, stats), or nil while a WAL repair failed. It stays valid
// until Close or the next WAL repair.
func (t *TSDB) DB() *tsdb.DB {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.db
}

// Storage returns a storage.Storage over the TSDB, the Queryable that the
// PromQL engine and the query API read from. It follows the TSDB across WAL
// repairs, and fails while one runs.
func (t *TSDB) Storage() storage.Storage { return liveStorage{t} }

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
//
// A commit succeeds only if no WAL write has failed since the TSDB was
// opened: a failed write may have left a torn record, and a record written
// after it would be lost with it when the WAL is repaired.
func (a *tsdbAppender) Commit() error {
	defer a.sink.mu.RUnlock()
	err := a.app.Commit()
	if err == nil && a.sink.walFailedSince() {
		err = ErrStorageFault
	}
	if err != nil {
		a.sink.metrics.commitErrors.Inc()
		if errors.Is(err, ErrStorageFault) || strings.Contains(err.Error(), "write to WAL") {
			a.sink.fault(err)
			return fmt.Errorf("store: commit tsdb: %w: %w", ErrStorageFault, err)
		}
		return fmt.Errorf("store: commit tsdb: %w", err)
	}
	a.sink.metrics.appended.Add(float64(a.n))
	return nil
}

// walFailedSince reports whether a WAL write failed since the TSDB was
// opened. t.mu must be held shared.
func (t *TSDB) walFailedSince() bool {
	if t.walFailed == nil {
		return t.faulted.Load()
	}
	var m dto.Metric
	if err := t.walFailed.Write(&m); err != nil {
		return true
	}
	return m.GetCounter().GetValue() > 0
}

// Rollback implements Appender.
func (a *tsdbAppender) Rollback() error {
	defer a.sink.mu.RUnlock()
	if err := a.app.Rollback(); err != nil {
		return fmt.Errorf("store: rollback tsdb: %w", err)
	}
	return nil
}

// faultedAppender is the transaction of a TSDB repairing its WAL.
type faultedAppender struct{}

func (faultedAppender) Append(*Series, int64, float64) error { return ErrStorageFault }
func (faultedAppender) Commit() error                        { return ErrStorageFault }
func (faultedAppender) Rollback() error                      { return nil }

// metaIndex holds the last metadata seen per metric family name, for at
// most max families.
type metaIndex struct {
	mu      sync.Mutex
	byName  map[string]metadata.Metadata // guarded by mu
	max     int
	dropped prometheus.Counter
}

func (m *metaIndex) set(name string, md metadata.Metadata) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.byName[name]; !ok && len(m.byName) >= m.max {
		m.dropped.Inc()
		return
	}
	m.byName[name] = md
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
