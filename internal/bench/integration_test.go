package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"hawk/internal/server"
	"hawk/internal/store"
)

// memSink is a store.Sink that counts and keeps samples in memory.
type memSink struct {
	mu      sync.Mutex
	samples map[string][]memSample // by label string
	labels  map[string]labels.Labels
}

type memSample struct {
	t int64
	v float64
}

func newMemSink() *memSink {
	return &memSink{samples: make(map[string][]memSample), labels: make(map[string]labels.Labels)}
}

func (m *memSink) Appender() store.Appender { return &memApp{sink: m} }
func (m *memSink) Close() error             { return nil }

// total counts the agents' series and samples, leaving out the server's
// own up and hawk_agent_* (written at each connect and close).
func (m *memSink) total() (series, samples int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, s := range m.samples {
		if name := m.labels[k].Get("__name__"); name == "up" || strings.HasPrefix(name, "hawk_agent_") {
			continue
		}
		series++
		samples += len(s)
	}
	return series, samples
}

type memApp struct {
	sink *memSink
	keys []string
	ls   []labels.Labels
	buf  []memSample
}

func (a *memApp) Append(s *store.Series, t int64, v float64) error {
	a.keys = append(a.keys, s.Labels.String())
	a.ls = append(a.ls, s.Labels)
	a.buf = append(a.buf, memSample{t, v})
	return nil
}

func (a *memApp) Commit() error {
	a.sink.mu.Lock()
	defer a.sink.mu.Unlock()
	for i, k := range a.keys {
		a.sink.samples[k] = append(a.sink.samples[k], a.buf[i])
		a.sink.labels[k] = a.ls[i]
	}
	return nil
}

func (a *memApp) Rollback() error { return nil }

// startServer runs a hawk server with sink on a loopback port until the
// test ends.
func startServer(t *testing.T, sink store.Sink) (*server.Server, string) {
	t.Helper()
	s, addr, stop := serve(t, server.Config{Sink: sink}, "127.0.0.1:0")
	t.Cleanup(stop)
	return s, addr
}

// serve runs a hawk server with cfg on addr and returns a func that shuts
// it down (GOAWAY to every agent) and waits for it. Identity is stamped as
// hawk-server does (agent_id, and job and instance, from the session); the
// liveness series are written hourly unless cfg says otherwise.
func serve(t *testing.T, cfg server.Config, addr string) (*server.Server, string, func()) {
	t.Helper()
	cfg.StampIdentity = true
	if cfg.LivenessInterval == 0 {
		cfg.LivenessInterval = time.Hour
	}
	s, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	var once sync.Once
	return s, ln.Addr().String(), func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := s.Shutdown(ctx); err != nil {
				t.Errorf("shutdown: %v", err)
			}
			if err := <-served; !errors.Is(err, server.ErrServerClosed) {
				t.Errorf("serve: %v", err)
			}
		})
	}
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

// memSeqs is a SequenceStore shared by the servers of one test, as the
// sequence file is shared by a server and its successor.
type memSeqs struct {
	mu   sync.Mutex
	last map[string]uint64
}

func (m *memSeqs) Last(id string) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last[id]
}

func (m *memSeqs) Advance(id string, seq uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.last[id] = max(m.last[id], seq)
	return nil
}

// sinkAPI answers the checker's raw range selector queries from a memSink,
// every stored sample included, duplicates too.
func sinkAPI(t *testing.T, sink *memSink) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := selRE.FindStringSubmatch(r.FormValue("query"))
		if m == nil {
			t.Errorf("query %q", r.FormValue("query"))
			http.Error(w, "bad query", http.StatusBadRequest)
			return
		}
		evalAt, _ := strconv.ParseFloat(r.FormValue("time"), 64)
		end := int64(math.Round(evalAt * 1000))
		rng, _ := strconv.ParseInt(m[2], 10, 64)
		type res struct {
			Metric map[string]string `json:"metric"`
			Values [][2]any          `json:"values"`
		}
		out := []res{}
		sink.mu.Lock()
		for k, ls := range sink.labels {
			if ls.Get("instance") != m[1] || ls.Get("bench") != "audit" {
				continue
			}
			var vs [][2]any
			for _, p := range sink.samples[k] {
				if p.t > end-rng && p.t <= end {
					vs = append(vs, [2]any{float64(p.t) / 1000, strconv.FormatFloat(p.v, 'f', -1, 64)})
				}
			}
			out = append(out, res{ls.Map(), vs})
		}
		sink.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{"resultType": "matrix", "result": out}})
	})
}

// TestAuditAcrossRestart restarts the server in the middle of an audit:
// agents get GOAWAY, find the port closed for a while, reconnect to the
// successor and resend; every sample must be stored exactly once.
func TestAuditAcrossRestart(t *testing.T) {
	sink, seqs := newMemSink(), &memSeqs{last: map[string]uint64{}}
	_, addr, stop1 := serve(t, server.Config{Sink: sink, Sequences: seqs}, "127.0.0.1:0")
	defer stop1()
	api := httptest.NewServer(sinkAPI(t, sink))
	defer api.Close()
	restarted := make(chan func(), 1)
	go func() {
		time.Sleep(1200 * time.Millisecond)
		stop1()
		time.Sleep(400 * time.Millisecond) // the port is closed: dials are refused
		_, _, stop2 := serve(t, server.Config{Sink: sink, Sequences: seqs}, addr)
		restarted <- stop2
	}()
	res, err := RunAudit(context.Background(), AuditConfig{Addr: addr, API: api.URL, Agents: 10, Series: 20,
		Interval: 100 * time.Millisecond, Duration: 3 * time.Second, Drain: 5 * time.Second, Sources: 2,
		BackoffMin: 50 * time.Millisecond, BackoffMax: 200 * time.Millisecond, Prefix: "restart-"})
	if err != nil {
		t.Fatal(err)
	}
	(<-restarted)()
	var out strings.Builder
	res.Print(&out)
	t.Log("\n" + out.String())
	if !res.OK() || res.Samples != 10*20*30 || res.Unacked != 0 {
		t.Fatalf("audit failed")
	}
	if res.GoAways == 0 || res.Connects < 20 {
		t.Fatalf("%d goaways, %d connects: the restart was not seen", res.GoAways, res.Connects)
	}
	if res.LongestPause < 300*time.Millisecond {
		t.Fatalf("longest pause %v, the server was away 400 ms", res.LongestPause)
	}
}

// TestAuditFindsLoss runs an audit against a sink that drops samples
// after acknowledging them.
func TestAuditFindsLoss(t *testing.T) {
	sink := newMemSink()
	_, addr := startServer(t, sink)
	api := httptest.NewServer(sinkAPI(t, sink))
	defer api.Close()
	res, err := RunAudit(context.Background(), AuditConfig{Addr: addr, Agents: 2, Series: 5,
		Interval: 50 * time.Millisecond, Duration: 500 * time.Millisecond, Prefix: "loss-"})
	if err != nil {
		t.Fatal(err)
	}
	// In one of the agents' series (not the server's up or hawk_agent_*),
	// lose the first sample and store another twice.
	sink.mu.Lock()
	damaged := false
	for k, ss := range sink.samples {
		if name := sink.labels[k].Get("__name__"); name == "up" || strings.HasPrefix(name, "hawk_agent_") || len(ss) < 2 {
			continue
		}
		sink.samples[k] = append(ss[1:], ss[1])
		damaged = true
		break
	}
	sink.mu.Unlock()
	if !damaged {
		t.Fatal("no series of the agents with two samples to damage")
	}
	ch := Checker{API: api.URL}
	var exps []Expect
	for i := range 2 {
		id := fmt.Sprintf("loss-%06d", i)
		exps = append(exps, Expect{Instance: id, Defs: auditDefs(5, id), Batches: int(res.Batches) / 2,
			Start: res.First, Interval: 50 * time.Millisecond})
	}
	c := ch.Check(context.Background(), exps)
	if c.Missing != 1 || c.Duplicated != 1 || c.OK() {
		t.Fatalf("%+v", c)
	}
}

// snapshotLabels returns the label sets of every series the sink holds.
func (m *memSink) snapshotLabels() []labels.Labels {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]labels.Labels, 0, len(m.labels))
	for _, ls := range m.labels {
		out = append(out, ls)
	}
	return out
}
