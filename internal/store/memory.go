package store

import (
	"sort"
	"sync"
)

// Memory is a Sink that keeps every committed sample in memory, keyed by
// the series' label string. It is for tests and load tools: nothing is
// persisted and nothing is ever dropped. Safe for concurrent use.
type Memory struct {
	mu      sync.Mutex
	samples map[string][]Sample // by Labels.String()
	commits int
	fail    error // when set, Commit fails with it
}

// Sample is one stored sample of a Memory sink.
type Sample struct {
	T int64
	V float64
}

// NewMemory returns an empty Memory sink.
func NewMemory() *Memory { return &Memory{samples: make(map[string][]Sample)} }

// Appender implements Sink.
func (m *Memory) Appender() Appender { return &memoryAppender{m: m} }

// Close implements Sink.
func (m *Memory) Close() error { return nil }

// FailCommits makes every later Commit fail with err (nil restores).
func (m *Memory) FailCommits(err error) {
	m.mu.Lock()
	m.fail = err
	m.mu.Unlock()
}

// Get returns a copy of the samples of the series with the given label
// string, in commit order.
func (m *Memory) Get(series string) []Sample {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Sample(nil), m.samples[series]...)
}

// Series returns the label strings of every series, sorted.
func (m *Memory) Series() []string {
	m.mu.Lock()
	out := make([]string, 0, len(m.samples))
	for k := range m.samples {
		out = append(out, k)
	}
	m.mu.Unlock()
	sort.Strings(out)
	return out
}

// Commits returns how many transactions were committed.
func (m *Memory) Commits() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.commits
}

type memoryAppender struct {
	m    *Memory
	keys []string
	vals []Sample
}

func (a *memoryAppender) Append(s *Series, t int64, v float64) error {
	a.keys = append(a.keys, s.Labels.String())
	a.vals = append(a.vals, Sample{T: t, V: v})
	return nil
}

func (a *memoryAppender) Commit() error {
	a.m.mu.Lock()
	defer a.m.mu.Unlock()
	if a.m.fail != nil {
		return a.m.fail
	}
	for i, k := range a.keys {
		a.m.samples[k] = append(a.m.samples[k], a.vals[i])
	}
	a.m.commits++
	return nil
}

func (a *memoryAppender) Rollback() error {
	a.keys, a.vals = nil, nil
	return nil
}
