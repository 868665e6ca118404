package api

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
)

func newLimitServer(t *testing.T, opts Options) (*httptest.Server, *API) {
	t.Helper()
	opts.Queryable = storage.QueryableFunc(func(int64, int64) (storage.Querier, error) { return storage.NoopQuerier(), nil })
	opts.Registerer = prometheus.NewRegistry()
	a := New(opts)
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() { srv.Close(); a.Close() })
	return srv, a
}

// TestQueryLengthLimit: a query over MaxQueryLength is refused before it
// is parsed (issue 17 defect 2: parsing "1+1+…" is quadratic).
func TestQueryLengthLimit(t *testing.T) {
	srv, a := newLimitServer(t, Options{MaxQueryLength: 1000, MaxQueryDepth: 1000})
	long := strings.Repeat("1+", 600) + "1"
	for _, path := range []string{"/api/v1/query", "/api/v1/query_range"} {
		code, body := call(t, srv, http.MethodPost, path, url.Values{"query": {long}, "start": {"0"}, "end": {"10"}, "step": {"1"}})
		if code != 400 || !strings.Contains(toJSON(body), "more than the limit of 1000") {
			t.Fatalf("%s: %d %.200v, want 400 over the limit", path, code, body)
		}
	}
	if got := testutil.ToFloat64(a.limits.refused.WithLabelValues("query_length")); got != 2 {
		t.Fatalf("refused{query_length} = %v, want 2", got)
	}
	code, _ := call(t, srv, http.MethodPost, "/api/v1/query", url.Values{"query": {strings.Repeat("1+", 400) + "1"}})
	if code != 200 {
		t.Fatalf("a query within the limit: %d", code)
	}
}

// TestQueryDepthLimit: a query nested deeper than MaxQueryDepth is refused
// after parsing, before the engine evaluates it; one at the limit is
// answered, with one slot of -query.max-concurrency as on 2 cores. By
// default, "1+1+…" of 8 KiB (4,096 levels, under -query.max-length) is
// refused: the engine's work grows with the square of the depth, and that
// query cost 344 ms and 45 MB of garbage to answer.
func TestQueryDepthLimit(t *testing.T) {
	tracker, err := promql.NewActiveQueryTracker(t.TempDir(), 1, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv, a := newLimitServer(t, Options{MaxQueryDepth: 10, QueryTracker: tracker})
	chain := func(terms int) string { return strings.Repeat("1+", terms-1) + "1" } // terms levels
	for _, c := range []struct {
		query string
		depth int // 0: within the limit
	}{
		{chain(10), 0},
		{chain(11), 11},
		{strings.Repeat("(", 9) + "1" + strings.Repeat(")", 9), 0},
		{strings.Repeat("(", 10) + "1" + strings.Repeat(")", 10), 11},
		{"(" + chain(8) + ")+(" + chain(8) + ")", 0}, // longer than chain(11), 10 levels
		{"sum(rate(up[5m]))", 0},
		{"sum(vector(" + chain(9) + "))", 11},
		{"sum(vector(" + chain(8) + "))", 0},
	} {
		for _, path := range []string{"/api/v1/query", "/api/v1/query_range"} {
			code, body := call(t, srv, http.MethodPost, path, url.Values{"query": {c.query}, "start": {"0"}, "end": {"10"}, "step": {"1"}})
			if c.depth == 0 {
				if code != 200 {
					t.Fatalf("%s %s: %d %.200v, want 200", path, c.query, code, body)
				}
				continue
			}
			want := fmt.Sprintf("query nests %d levels deep, more than the limit of 10 (-query.max-depth)", c.depth)
			if code != 400 || !strings.Contains(toJSON(body), want) {
				t.Fatalf("%s %s: %d %.200v, want 400 %q", path, c.query, code, body, want)
			}
		}
	}
	if got := testutil.ToFloat64(a.limits.refused.WithLabelValues("query_depth")); got != 6 {
		t.Fatalf("refused{query_depth} = %v, want 6", got)
	}

	srv, a = newLimitServer(t, Options{})
	code, body := call(t, srv, http.MethodPost, "/api/v1/query", url.Values{"query": {chain(4096)}})
	if code != 400 || !strings.Contains(toJSON(body), "query nests 4096 levels deep, more than the limit of 100") {
		t.Fatalf("8 KiB of 1+1+… by default: %d %.200v, want 400 over the depth limit", code, body)
	}
	if got := testutil.ToFloat64(a.limits.refused.WithLabelValues("query_depth")); got != 1 {
		t.Fatalf("refused{query_depth} = %v, want 1", got)
	}
}

// TestQueryParseInsideTimeout: the parse runs inside the query timeout;
// the request is answered 503 at the timeout, not when the parse ends.
func TestQueryParseInsideTimeout(t *testing.T) {
	srv, a := newLimitServer(t, Options{Timeout: time.Millisecond, MaxQueryLength: 1 << 20})
	q := strings.Repeat("1+", 12000) + "1" // about 1 s of parsing
	code, body := call(t, srv, http.MethodPost, "/api/v1/query", url.Values{"query": {q}})
	if code != 503 || !strings.Contains(toJSON(body), "timeout") {
		t.Fatalf("got %d %.200v, want 503 timeout", code, body)
	}
	if got := testutil.ToFloat64(a.limits.refused.WithLabelValues("parse_timeout")); got != 1 {
		t.Fatalf("refused{parse_timeout} = %v, want 1", got)
	}
	// The abandoned parse still holds its place until it ends; wait for it
	// so that no goroutine outlives the test.
	for range cap(a.limits.parsing) {
		a.limits.parsing <- struct{}{}
	}
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestLookupLimits: /series, /labels, /label/*/values and /metadata return
// at most MaxLookupResults entries, with Prometheus' truncation warning,
// even when the request asks for no limit (issue 17 defect 10).
func TestLookupLimits(t *testing.T) {
	srv := newTestServerWith(t, func(o *Options) { o.MaxLookupResults = 1 })
	for _, c := range []struct {
		path   string
		params url.Values
	}{
		{"/api/v1/series", url.Values{"match[]": {`{__name__=~".+"}`}, "start": {"0"}, "end": {"2000"}}},
		{"/api/v1/labels", url.Values{"start": {"0"}, "end": {"2000"}}},
		{"/api/v1/label/__name__/values", url.Values{"start": {"0"}, "end": {"2000"}}},
		{"/api/v1/metadata", nil},
	} {
		code, body := call(t, srv, http.MethodGet, c.path, c.params)
		m, _ := body.(map[string]any)
		if code != 200 {
			t.Fatalf("%s: %d %v", c.path, code, body)
		}
		var n int
		switch d := m["data"].(type) {
		case []any:
			n = len(d)
		case map[string]any:
			n = len(d)
		}
		if n != 1 {
			t.Fatalf("%s: %d entries, want 1: %v", c.path, n, body)
		}
		if c.path != "/api/v1/metadata" && !strings.Contains(toJSON(m["warnings"]), "truncated") {
			t.Fatalf("%s: no truncation warning: %v", c.path, body)
		}
	}
}

// TestLabelLookupsInsideTimeout: /labels and /label/*/values with match[]
// run under the query timeout, like /series, and answer 503 "timeout"
// when it has passed.
func TestLabelLookupsInsideTimeout(t *testing.T) {
	srv := newTestServerWith(t, func(o *Options) { o.Timeout = time.Nanosecond })
	for _, path := range []string{"/api/v1/labels", "/api/v1/label/instance/values", "/api/v1/series"} {
		code, body := call(t, srv, http.MethodGet, path, url.Values{"match[]": {`{__name__=~".+"}`}})
		if code != 503 || !strings.Contains(toJSON(body), "timeout") {
			t.Errorf("%s: got %d %.200v, want 503 timeout", path, code, body)
		}
	}
}

// TestSeriesLookupRate: /api/v1/series answers are paid for in
// -query.max-series-lookup-rate: with 1 series a second and room for the
// 3 series of the test head, the first lookup of all of them is answered
// at once and uses up that room, and the next would wait a second for the
// rate to pay it, past a -query-timeout of 200 ms: 503 "timeout" at once,
// counted. Other lookups do not wait.
func TestSeriesLookupRate(t *testing.T) {
	reg := prometheus.NewRegistry()
	srv := newTestServerWith(t, func(o *Options) {
		o.SeriesLookupRate, o.MaxLookupResults, o.Timeout, o.Registerer = 1, 3, 200*time.Millisecond, reg
	})
	all := url.Values{"match[]": {`{__name__=~".+"}`}, "start": {"0"}, "end": {"2000"}}
	if code, body := call(t, srv, http.MethodGet, "/api/v1/series", all); code != 200 {
		t.Fatalf("first lookup: %d %v", code, body)
	}
	code, body := call(t, srv, http.MethodGet, "/api/v1/series", all)
	if code != 503 || !strings.Contains(toJSON(body), "-query.max-series-lookup-rate") {
		t.Fatalf("second lookup: %d %.300v, want 503 naming -query.max-series-lookup-rate", code, body)
	}
	if code, body := call(t, srv, http.MethodGet, "/api/v1/labels", nil); code != 200 {
		t.Fatalf("labels after the series lookups: %d %v", code, body)
	}
	if n := refusedCount(t, reg, "lookup_rate"); n != 1 {
		t.Fatalf("refused{lookup_rate} = %v, want 1", n)
	}
}

// TestAgentsBytesRate: /api/v1/agents answers are paid for in bytes
// (-max-agents-page-bytes-rate): at 2 bytes a second the first page of
// the test fleet (some 80 bytes) is answered at once and leaves a debt of
// a second's worth (the most kept), so the next would wait a second, past
// a -query-timeout of 200 ms: 503 "timeout" at once, counted. Other
// endpoints do not wait.
func TestAgentsBytesRate(t *testing.T) {
	reg := prometheus.NewRegistry()
	srv := newTestServerWith(t, func(o *Options) {
		o.AgentsBytesRate, o.Timeout, o.Registerer = 2, 200*time.Millisecond, reg
	})
	code, body := call(t, srv, http.MethodGet, "/api/v1/agents", nil)
	if code != 200 {
		t.Fatalf("first page: %d %v", code, body)
	}
	if n := len(toJSON(body.(map[string]any)["data"])); n < 60 {
		t.Fatalf("first page holds %d bytes of rows, want the test fleet's some 80: %v", n, body)
	}
	code, body = call(t, srv, http.MethodGet, "/api/v1/agents", nil)
	if code != 503 || !strings.Contains(toJSON(body), "-max-agents-page-bytes-rate") {
		t.Fatalf("second page: %d %.300v, want 503 naming -max-agents-page-bytes-rate", code, body)
	}
	if code, body := call(t, srv, http.MethodGet, "/api/v1/labels", nil); code != 200 {
		t.Fatalf("labels after the pages: %d %v", code, body)
	}
	if n := refusedCount(t, reg, "agents_rate"); n != 1 {
		t.Fatalf("refused{agents_rate} = %v, want 1", n)
	}
}

// refusedCount reads hawk_api_requests_refused_total{reason} from reg.
func refusedCount(t *testing.T, reg *prometheus.Registry, reason string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "hawk_api_requests_refused_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == reason {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
