package api

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"hawk/internal/bench"
)

// BenchmarkQueryDepth answers /api/v1/query for expressions of 8 KB of
// 1+1+… (the promql attack's, -query.max-length), the parse, the depth
// check, the evaluation and the encoding included: one chain of 4,096
// levels with no depth bound and refused by the default one, and the
// attack's sums of chains under depth bounds of 50, 100 (the default) and
// 200 (docs/security.md, section 9, "Expression depth bounded").
func BenchmarkQueryDepth(b *testing.B) {
	db := openTSDB(b)
	chain := strings.Repeat("1+", 4095) + "1"
	for _, c := range []struct {
		name     string
		query    string
		maxDepth int
		code     int
	}{
		{"chain-4096-unbounded", chain, 1 << 20, http.StatusOK},
		{"chain-4096-refused", chain, DefaultMaxQueryDepth, http.StatusBadRequest},
		{"sums-depth-50", bench.PromQLQuery(8000, 50), 50, http.StatusOK},
		{"sums-depth-100", bench.PromQLQuery(8000, 100), 100, http.StatusOK},
		{"sums-depth-200", bench.PromQLQuery(8000, 200), 200, http.StatusOK},
	} {
		b.Run(c.name, func(b *testing.B) {
			a := New(Options{Queryable: db.Storage(), Metadata: db, MaxQueryDepth: c.maxDepth, Registerer: prometheus.NewRegistry()})
			defer a.Close()
			h := a.Handler()
			body := url.Values{"query": {c.query}}.Encode()
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/api/v1/query", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				w := &discardWriter{h: http.Header{}}
				h.ServeHTTP(w, req)
				if w.code != c.code {
					b.Fatalf("status %d, want %d", w.code, c.code)
				}
			}
		})
	}
}
