package store

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/storage"
)

// errRepairing fails queries while the TSDB is closed for a WAL repair.
var errRepairing = errors.New("store: the TSDB is being repaired after a failed WAL write; retry shortly")

// liveStorage is the storage.Storage of a TSDB that follows it across WAL
// repairs, which close and reopen the underlying tsdb.DB.
type liveStorage struct{ t *TSDB }

// current returns the open DB's Storage, or nil while a repair runs.
func (l liveStorage) current() storage.Storage {
	if !l.t.mu.TryRLock() {
		return nil
	}
	defer l.t.mu.RUnlock()
	if l.t.db == nil {
		return nil
	}
	return l.t.db
}

func (l liveStorage) Querier(mint, maxt int64) (storage.Querier, error) {
	s := l.current()
	if s == nil {
		return nil, errRepairing
	}
	return s.Querier(mint, maxt)
}

func (l liveStorage) ChunkQuerier(mint, maxt int64) (storage.ChunkQuerier, error) {
	s := l.current()
	if s == nil {
		return nil, errRepairing
	}
	return s.ChunkQuerier(mint, maxt)
}

// Appender and AppenderV2 are not how hawk writes (sessions use the
// TSDB's Appender); they serve a caller that treats the Storage as such.
func (l liveStorage) Appender(ctx context.Context) storage.Appender {
	s := l.current()
	if s == nil {
		return nil
	}
	return s.Appender(ctx)
}

func (l liveStorage) AppenderV2(ctx context.Context) storage.AppenderV2 {
	s := l.current()
	if s == nil {
		return nil
	}
	return s.AppenderV2(ctx)
}

func (l liveStorage) StartTime() (int64, error) {
	s := l.current()
	if s == nil {
		return 0, errRepairing
	}
	return s.StartTime()
}

// Close does nothing: the TSDB's own Close releases it.
func (l liveStorage) Close() error { return nil }

// captureRegisterer passes the TSDB's metrics on to the real Registerer (if
// any) and remembers them, so that a WAL repair can unregister them before
// the reopened TSDB registers its own, and so that the sink can read the
// WAL's write-failure counter.
type captureRegisterer struct {
	inner prometheus.Registerer // nil: capture only

	mu   sync.Mutex
	cols []prometheus.Collector // guarded by mu
}

func (c *captureRegisterer) Register(col prometheus.Collector) error {
	if c.inner != nil {
		if err := c.inner.Register(col); err != nil {
			return err
		}
	}
	c.mu.Lock()
	c.cols = append(c.cols, col)
	c.mu.Unlock()
	return nil
}

func (c *captureRegisterer) MustRegister(cols ...prometheus.Collector) {
	for _, col := range cols {
		if err := c.Register(col); err != nil {
			panic(err)
		}
	}
}

func (c *captureRegisterer) Unregister(col prometheus.Collector) bool {
	c.mu.Lock()
	for i, x := range c.cols {
		if x == col {
			c.cols = append(c.cols[:i], c.cols[i+1:]...)
			break
		}
	}
	c.mu.Unlock()
	if c.inner != nil {
		return c.inner.Unregister(col)
	}
	return true
}

// forget unregisters every collector still registered.
func (c *captureRegisterer) forget() {
	c.mu.Lock()
	cols := c.cols
	c.cols = nil
	c.mu.Unlock()
	if c.inner != nil {
		for _, col := range cols {
			c.inner.Unregister(col)
		}
	}
}

// metric returns the single-metric collector registered under name, as a
// Metric whose Write reads its current value, or nil.
func (c *captureRegisterer) metric(name string) prometheus.Metric {
	c.mu.Lock()
	cols := append([]prometheus.Collector(nil), c.cols...)
	c.mu.Unlock()
	want := `fqName: "` + name + `"`
	for _, col := range cols {
		descs := make(chan *prometheus.Desc, 16)
		go func() { col.Describe(descs); close(descs) }()
		found := false
		for d := range descs {
			if strings.Contains(d.String(), want) {
				found = true
			}
		}
		if !found {
			continue
		}
		ms := make(chan prometheus.Metric, 16)
		go func() { col.Collect(ms); close(ms) }()
		var m prometheus.Metric
		for x := range ms {
			m = x
		}
		return m
	}
	return nil
}
