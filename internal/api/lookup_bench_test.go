package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"

	"hawk/internal/store"
)

// discardWriter is a ResponseWriter that keeps nothing of the body.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }

// BenchmarkSeriesLookup answers /api/v1/series for every series of a head
// of 20,000 (series-lookup's request, on a smaller head): time, bytes and
// allocations per answer, the encoding and the write (to nowhere)
// included; unpaced (-query.max-series-lookup-rate bounds the answers a
// second, not what one costs).
func BenchmarkSeriesLookup(b *testing.B) {
	db := openTSDB(b)
	app := db.Appender()
	for i := range 20000 {
		s := &store.Series{Labels: labels.FromStrings("__name__", fmt.Sprintf("flood_%d", i%50), "agent_id", "atk-0042",
			"instance", "host-0042", "job", "node", "n", fmt.Sprint(i))}
		if err := app.Append(s, now.UnixMilli(), 1); err != nil {
			b.Fatal(err)
		}
	}
	if err := app.Commit(); err != nil {
		b.Fatal(err)
	}
	a := New(Options{Queryable: db.Storage(), Metadata: db, SeriesLookupRate: -1, Registerer: prometheus.NewRegistry()})
	defer a.Close()
	h := a.Handler()
	req := httptest.NewRequest(http.MethodGet, `/api/v1/series?match[]={__name__=~".%2B"}`, nil)
	b.ReportAllocs()
	for b.Loop() {
		w := &discardWriter{h: http.Header{}}
		h.ServeHTTP(w, req)
		if w.code != http.StatusOK {
			b.Fatalf("status %d", w.code)
		}
	}
}
