package bench

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"hawk/internal/server"
	"hawk/internal/store"
)

// memSink is a store.Sink that counts and keeps samples in memory.
type memSink struct {
	mu      sync.Mutex
	samples map[string][]memSample // by label string
}

type memSample struct {
	t int64
	v float64
}

func newMemSink() *memSink { return &memSink{samples: make(map[string][]memSample)} }

func (m *memSink) Appender() store.Appender { return &memApp{sink: m} }
func (m *memSink) Close() error             { return nil }

func (m *memSink) total() (series, samples int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.samples {
		samples += len(s)
	}
	return len(m.samples), samples
}

type memApp struct {
	sink *memSink
	keys []string
	buf  []memSample
}

func (a *memApp) Append(s *store.Series, t int64, v float64) error {
	a.keys = append(a.keys, s.Labels.String())
	a.buf = append(a.buf, memSample{t, v})
	return nil
}

func (a *memApp) Commit() error {
	a.sink.mu.Lock()
	defer a.sink.mu.Unlock()
	for i, k := range a.keys {
		a.sink.samples[k] = append(a.sink.samples[k], a.buf[i])
	}
	return nil
}

func (a *memApp) Rollback() error { return nil }

// startServer runs a hawk server with sink on a loopback port until the
// test ends.
func startServer(t *testing.T, sink store.Sink) (*server.Server, string) {
	t.Helper()
	s, err := server.New(server.Config{Sink: sink, LivenessInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, server.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return s, ln.Addr().String()
}

func TestLoadAgainstServer(t *testing.T) {
	sink := newMemSink()
	_, addr := startServer(t, sink)
	const agents, series, batches = 20, 300, 3
	res, err := RunLoad(context.Background(), LoadConfig{Addr: addr, Agents: agents, Series: series, Batches: batches,
		Duration: 8 * time.Second, Drain: 5 * time.Second, Sources: 3, Window: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := uint64(agents * series * batches)
	if res.Connected != agents || res.SentSamples != want || res.AckedSamples != want || len(res.Errors) != 0 {
		t.Fatalf("connected %d sent %d acked %d errors %v, want %d samples", res.Connected, res.SentSamples, res.AckedSamples, res.Errors, want)
	}
	if nseries, n := sink.total(); nseries != agents*series || n != int(want) {
		t.Fatalf("sink holds %d series, %d samples", nseries, n)
	}
	if res.Ack.Count() != agents*batches || res.SteadySamples != uint64(agents*series*(batches-1)) {
		t.Fatalf("ack latencies %d, steady samples %d", res.Ack.Count(), res.SteadySamples)
	}
	if bps := ratio(res.SteadyBytes, res.SteadySamples); bps <= 0 || bps > 8 {
		t.Fatalf("%.2f bytes per sample on a steady connection", bps)
	}
	if res.Wall >= 8*time.Second {
		t.Fatalf("load ran %v: should end as soon as every batch is acknowledged", res.Wall)
	}
}
