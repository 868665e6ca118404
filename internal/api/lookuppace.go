package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
)

// DefaultSeriesLookupRate is how many series all /api/v1/series answers
// hold per second by default: two full answers of -query.max-lookup-results.
// Encoded by hand, an answer costs its slot of -query.max-concurrency
// little CPU, so a client that keeps the slot busy gets answers fast, and
// their garbage (some 700 bytes a series: the label sets the TSDB builds
// and the answer) is collected on the cores ingest runs on. Under a flood
// of lookups of 100,000 series the server spent 0.4 cores at this rate
// against 1.3 unpaced (issue 17, docs/security.md section 9).
const DefaultSeriesLookupRate = 200000

// lookupPace bounds the entries lookups return per second, all clients
// together, as a debt: a lookup runs as soon as the debt of the ones
// before is paid, then adds its own answer's size to it. A lookup's size
// is known only once it has run, so it cannot wait for it beforehand;
// and it waits before it takes a slot, so that waiting holds no slot
// from the queries. A nil lookupPace bounds nothing.
type lookupPace struct {
	lim     *rate.Limiter
	timeout time.Duration          // -query-timeout
	refused *prometheus.CounterVec // the API's, by reason
	waited  prometheus.Counter
}

// newLookupPace paces at perSecond entries; the debt may build up to
// burst (at least perSecond), and a lookup waits at most timeout.
// perSecond < 0 means no bound: nil.
func newLookupPace(perSecond, burst int, timeout time.Duration, refused *prometheus.CounterVec, reg prometheus.Registerer) *lookupPace {
	if perSecond < 0 {
		return nil
	}
	p := &lookupPace{
		lim:     rate.NewLimiter(rate.Limit(perSecond), max(burst, perSecond)),
		timeout: timeout,
		refused: refused,
		waited: prometheus.NewCounter(prometheus.CounterOpts{Name: "hawk_api_series_lookup_wait_seconds_total",
			Help: "Time /api/v1/series requests waited for the answers before them to be paid for (-query.max-series-lookup-rate)."}),
	}
	if reg != nil {
		reg.MustRegister(p.waited)
	}
	return p
}

// paced waits, within -query-timeout (the same deadline the lookup then
// has), until the debt is paid, runs f, and adds f's answer's entries
// (result.entries) to the debt.
func (p *lookupPace) paced(f apiFunc) apiFunc {
	if p == nil {
		return f
	}
	return func(r *http.Request) result {
		ctx, cancel := context.WithTimeout(r.Context(), p.timeout)
		defer cancel()
		start := time.Now()
		err := p.lim.Wait(ctx)
		p.waited.Add(time.Since(start).Seconds())
		if err != nil {
			p.refused.WithLabelValues("lookup_rate").Inc()
			if errors.Is(ctx.Err(), context.Canceled) {
				return result{err: &apiError{errorCanceled, ctx.Err()}}
			}
			return result{err: &apiError{errorTimeout, fmt.Errorf("waiting for the series answered before (-query.max-series-lookup-rate): %w", err)}}
		}
		res := f(r.WithContext(ctx))
		if n := res.entries; n > 1 {
			p.lim.ReserveN(time.Now(), min(n-1, p.lim.Burst())) // a debt: its delay is the next lookup's wait
		}
		return res
	}
}
