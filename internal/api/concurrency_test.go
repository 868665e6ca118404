package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// holdingQuerier answers every lookup at once, empty, except a Select of
// the metric "hold": that one signals entered and returns only when
// release is closed, whatever its context says, so it keeps its slot.
type holdingQuerier struct {
	storage.Querier
	entered chan<- struct{}
	release <-chan struct{}
}

func (q holdingQuerier) Select(_ context.Context, _ bool, _ *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	for _, m := range ms {
		if m.Name == model.MetricNameLabel && m.Type == labels.MatchEqual && m.Value == "hold" {
			q.entered <- struct{}{}
			<-q.release
		}
	}
	return storage.EmptySeriesSet()
}

func (q holdingQuerier) LabelNames(context.Context, *storage.LabelHints, ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	return []string{"job"}, nil, nil
}

func (q holdingQuerier) LabelValues(context.Context, string, *storage.LabelHints, ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	return []string{"node"}, nil, nil
}

type fixedMetadata map[string]metadata.Metadata

func (m fixedMetadata) Metadata(string) map[string]metadata.Metadata { return m }

// concurrencyAPI serves an API of maxConcurrency slots over a
// holdingQuerier; release ends the held Select (it is called at the end
// of the test if not before).
func concurrencyAPI(t *testing.T, maxConcurrency int, timeout time.Duration) (srv string, a *API, entered <-chan struct{}, release func()) {
	t.Helper()
	tracker, err := promql.NewActiveQueryTracker(t.TempDir(), maxConcurrency, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	in, out := make(chan struct{}, 1), make(chan struct{})
	q := holdingQuerier{Querier: storage.NoopQuerier(), entered: in, release: out}
	a = New(Options{
		Queryable:    storage.QueryableFunc(func(int64, int64) (storage.Querier, error) { return q, nil }),
		Metadata:     fixedMetadata{"up": {Type: "gauge"}},
		QueryTracker: tracker,
		Timeout:      timeout,
		Registerer:   prometheus.NewRegistry(),
	})
	s := httptest.NewServer(a.Handler())
	t.Cleanup(func() { s.Close(); a.Close() })
	release = sync.OnceFunc(func() { close(out) })
	t.Cleanup(release) // before the server's Close, which waits for the held request
	return s.URL, a, in, release
}

// answer is a request's status and body, sent on a channel.
type answer struct {
	code int
	body string
}

// do sends a request and delivers its answer on the returned channel.
func do(ctx context.Context, method, u string, form url.Values) <-chan answer {
	c := make(chan answer, 1)
	go func() {
		var body *strings.Reader
		if method == http.MethodPost {
			body = strings.NewReader(form.Encode())
		} else {
			u += "?" + form.Encode()
			body = strings.NewReader("")
		}
		req, err := http.NewRequestWithContext(ctx, method, u, body)
		if err != nil {
			c <- answer{-1, err.Error()}
			return
		}
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			c <- answer{-1, err.Error()}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		c <- answer{resp.StatusCode, string(b)}
	}()
	return c
}

func receive[T any](t *testing.T, what string, c <-chan T) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: nothing after 20 s", what)
		panic("unreachable")
	}
}

// waitGauge waits until g is want (a condition polled, bounded in time).
func waitGauge(t *testing.T, what string, g prometheus.Gauge, want float64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for testutil.ToFloat64(g) != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s: gauge %v, want %v", what, testutil.ToFloat64(g), want)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestQueryConcurrency: with -query.max-concurrency 1, while one query or
// lookup evaluates, the next ones wait for its slot: they answer 503
// "timeout" when -query-timeout passes, 499 when the client leaves, each
// counted, and one still waiting runs once the slot is free (issue 17: 8
// clients of 8 KB "1+1+…" queries, or of /api/v1/series, took both cores).
func TestQueryConcurrency(t *testing.T) {
	t.Run("wait_ends_at_timeout", func(t *testing.T) {
		srv, a, entered, release := concurrencyAPI(t, 1, 200*time.Millisecond)
		// A lookup holds the one slot: queries wait for it as lookups do.
		held := do(context.Background(), http.MethodGet, srv+"/api/v1/series", url.Values{"match[]": {"hold"}})
		receive(t, "held lookup", entered)
		waiting := []struct {
			method, path string
			form         url.Values
		}{
			{http.MethodPost, "/api/v1/query", url.Values{"query": {"up"}}},
			{http.MethodPost, "/api/v1/query_range", url.Values{"query": {"up"}, "start": {"0"}, "end": {"60"}, "step": {"15"}}},
			{http.MethodGet, "/api/v1/series", url.Values{"match[]": {"up"}}},
			{http.MethodGet, "/api/v1/labels", nil},
			{http.MethodGet, "/api/v1/label/job/values", nil},
			{http.MethodGet, "/api/v1/metadata", nil},
			{http.MethodGet, "/api/v1/agents", nil},
		}
		for i, w := range waiting {
			got := receive(t, w.path, do(context.Background(), w.method, srv+w.path, w.form))
			if got.code != 503 || !strings.Contains(got.body, `"errorType":"timeout"`) || !strings.Contains(got.body, "-query.max-concurrency 1") {
				t.Fatalf("%s while the slot is held: %d %.300s, want 503 timeout in the queue", w.path, got.code, got.body)
			}
			if n := testutil.ToFloat64(a.limits.refused.WithLabelValues("concurrency")); n != float64(i+1) {
				t.Fatalf("%s: refused{concurrency} = %v, want %d", w.path, n, i+1)
			}
		}
		select {
		case got := <-held:
			t.Fatalf("the held lookup answered (%d) before its release", got.code)
		default:
		}
		release()
		if got := receive(t, "held lookup", held); got.code != 200 {
			t.Fatalf("held lookup: %d %.300s", got.code, got.body)
		}
		waitGauge(t, "the lookup's slot released", a.slots.running, 0)
	})

	t.Run("wait_ends_with_client", func(t *testing.T) {
		srv, a, entered, release := concurrencyAPI(t, 1, time.Minute)
		held := do(context.Background(), http.MethodPost, srv+"/api/v1/query", url.Values{"query": {"hold"}})
		receive(t, "held query", entered)
		sl := a.slots
		ctx, cancel := context.WithCancel(context.Background())
		left := do(ctx, http.MethodGet, srv+"/api/v1/series", url.Values{"match[]": {"up"}})
		waitGauge(t, "a lookup waiting", sl.waiting, 1)
		cancel()
		if got := receive(t, "left lookup", left); got.code != -1 {
			t.Fatalf("the client left, yet got %d", got.code)
		}
		waitGauge(t, "the waiting lookup gone with its client", sl.waiting, 0)
		if n := testutil.ToFloat64(a.limits.refused.WithLabelValues("concurrency")); n != 1 {
			t.Fatalf("refused{concurrency} = %v, want 1", n)
		}
		if n := testutil.ToFloat64(sl.running); n != 1 {
			t.Fatalf("running = %v, want 1 (the held query)", n)
		}
		release()
		if got := receive(t, "held query", held); got.code != 200 {
			t.Fatalf("held query: %d %.300s", got.code, got.body)
		}
	})

	t.Run("waiting_one_runs_when_slot_frees", func(t *testing.T) {
		srv, a, entered, release := concurrencyAPI(t, 1, time.Minute)
		held := do(context.Background(), http.MethodPost, srv+"/api/v1/query", url.Values{"query": {"hold"}})
		receive(t, "held query", entered)
		sl := a.slots
		next := do(context.Background(), http.MethodPost, srv+"/api/v1/query", url.Values{"query": {"up"}})
		waitGauge(t, "a query waiting", sl.waiting, 1)
		select {
		case got := <-next:
			t.Fatalf("the second query answered (%d) while the first held the slot", got.code)
		default:
		}
		release()
		for name, c := range map[string]<-chan answer{"held": held, "next": next} {
			if got := receive(t, name, c); got.code != 200 {
				t.Fatalf("%s query: %d %.300s", name, got.code, got.body)
			}
		}
		waitGauge(t, "slots free", sl.running, 0)
		if n := testutil.ToFloat64(a.limits.refused.WithLabelValues("concurrency")); n != 0 {
			t.Fatalf("refused{concurrency} = %v, want 0", n)
		}
	})
}

// TestQueryQueueStops: when the API drains (hawk-server stopping), the
// waits for a slot end at once with 503 "unavailable" and new ones are
// refused, while the running query goes on; Close waits for its slot
// before it unmaps queries.active, and past closeWait leaves the file
// mapped rather than pull it from under the query.
func TestQueryQueueStops(t *testing.T) {
	for _, c := range []struct {
		name      string
		closeWait time.Duration
	}{{"close_waits", time.Minute}, {"close_gives_up", time.Millisecond}} {
		t.Run(c.name, func(t *testing.T) {
			srv, a, entered, release := concurrencyAPI(t, 1, time.Minute)
			a.slots.closeWait = c.closeWait
			held := do(context.Background(), http.MethodPost, srv+"/api/v1/query", url.Values{"query": {"hold"}})
			receive(t, "held query", entered)
			next := do(context.Background(), http.MethodPost, srv+"/api/v1/query", url.Values{"query": {"up"}})
			waitGauge(t, "a query waiting", a.slots.waiting, 1)
			a.Drain()
			for what, ch := range map[string]<-chan answer{
				"the waiting query": next,
				"a new lookup":      do(context.Background(), http.MethodGet, srv+"/api/v1/labels", nil),
			} {
				if got := receive(t, what, ch); got.code != 503 || !strings.Contains(got.body, `"errorType":"unavailable"`) {
					t.Fatalf("%s after Drain: %d %.300s, want 503 unavailable", what, got.code, got.body)
				}
			}
			closed := make(chan error, 1)
			go func() { closed <- a.slots.Close() }()
			if c.closeWait > time.Second {
				select {
				case err := <-closed:
					t.Fatalf("Close returned (%v) while a query held its slot", err)
				default:
				}
			} else if err := receive(t, "Close", closed); err == nil || !strings.Contains(err.Error(), "left open") {
				t.Fatalf("Close past closeWait: %v, want queries.active left open", err)
			}
			release()
			if got := receive(t, "held query", held); got.code != 200 {
				t.Fatalf("held query: %d %.300s", got.code, got.body)
			}
			if c.closeWait > time.Second {
				if err := receive(t, "Close", closed); err != nil {
					t.Fatalf("Close once the slot was returned: %v", err)
				}
			}
			if n := testutil.ToFloat64(a.limits.refused.WithLabelValues("concurrency")); n != 0 {
				t.Fatalf("refused{concurrency} = %v: stopping is not the limit", n)
			}
		})
	}
}

// TestRulesOutsideQueryQueue: with every query slot held by the API, the
// rules' engine still evaluates at once; a query flood must not silence
// the alerts.
func TestRulesOutsideQueryQueue(t *testing.T) {
	srv, a, entered, release := concurrencyAPI(t, 1, time.Minute)
	held := do(context.Background(), http.MethodPost, srv+"/api/v1/query", url.Values{"query": {"hold"}})
	receive(t, "held query", entered)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	q, err := a.Engine().NewInstantQuery(ctx, a.opts.Queryable, nil, "vector(1)", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if r := q.Exec(ctx); r.Err != nil {
		t.Fatalf("rule query with the API's slots held: %v", r.Err)
	}
	release()
	if r := receive(t, "held query", held); r.code != http.StatusOK {
		t.Errorf("held query: %d", r.code)
	}
}

// renderSpan is a trace span that calls at when the engine sets its
// attributes: promql's Exec sets the statement's text, rendered just
// before, as the span's first attribute.
type renderSpan struct {
	trace.Span
	at func()
}

func (s renderSpan) SetAttributes(...attribute.KeyValue) { s.at() }

// TestQueryRenderedInSlot: a query's statement is rendered as text (for
// the trace span; quadratic in the length of "1+1+…") while its request
// holds a slot of -query.max-concurrency, not before it waits for one
// (issue 17: with the rendering outside, 8 clients of 8 KB queries took
// the second core of a 2-core server beside the slot's query, and a good
// agent's ACK p99 was 11 times its quiet value).
func TestQueryRenderedInSlot(t *testing.T) {
	_, a, _, _ := concurrencyAPI(t, 1, time.Minute)
	for _, path := range []string{"/api/v1/query", "/api/v1/query_range"} {
		rendered := -1.0
		span := renderSpan{Span: trace.SpanFromContext(context.Background()), at: func() {
			rendered = testutil.ToFloat64(a.slots.running)
		}}
		form := url.Values{"query": {strings.Repeat("1+", 50) + "1"}, "start": {"0"}, "end": {"60"}, "step": {"15"}} // within -query.max-depth
		req := httptest.NewRequestWithContext(trace.ContextWithSpan(context.Background(), span),
			http.MethodPost, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		a.Handler().ServeHTTP(w, req)
		if w.Code != 200 {
			t.Fatalf("%s: %d %.300s", path, w.Code, w.Body.String())
		}
		if rendered != 1 {
			t.Fatalf("%s: the statement was rendered with %v slots running, want 1 (its own)", path, rendered)
		}
		if n := testutil.ToFloat64(a.slots.running); n != 0 {
			t.Fatalf("%s: %v slots running after the answer, want 0", path, n)
		}
	}
}
