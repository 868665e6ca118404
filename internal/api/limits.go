package api

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/promql"
)

// DefaultMaxQueryLength bounds a PromQL expression's bytes. The parser's
// time grows with the square of some expressions' length (8 KiB of
// "1+1+…" parse in about 0.1 s, 16 KiB in 0.5 s, 80 KB in 43 s), and
// parsing cannot be interrupted, so the length is bounded before it.
const DefaultMaxQueryLength = 8 << 10

// DefaultMaxLookupResults bounds the series, label names, label values and
// metadata entries one request returns: 1.36 M series were an 87 MB
// answer that cost 760 MB to build.
const DefaultMaxLookupResults = 100000

// capLimit returns the limit a lookup applies: the request's, but never
// more than MaxLookupResults (a request without limit gets that).
func (a *API) capLimit(limit int) int {
	if limit <= 0 || limit > a.opts.MaxLookupResults {
		return a.opts.MaxLookupResults
	}
	return limit
}

// limits holds what bounds the API enforces outside the engine, and the
// counter of what they refused.
type limits struct {
	refused *prometheus.CounterVec // by reason
	// parsing bounds how many query constructions (parses) run at once:
	// one that outlives its request, which cannot be stopped, still holds
	// its place, so abandoned parses cannot pile up.
	parsing chan struct{}
}

func newLimits(reg prometheus.Registerer, parallel int) *limits {
	l := &limits{
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hawk_api_requests_refused_total",
			Help: "API requests refused by a limit, by reason."}, []string{"reason"}),
		parsing: make(chan struct{}, parallel),
	}
	if reg != nil {
		reg.MustRegister(l.refused)
	}
	return l
}

// construct checks the query's length and builds it with build (which
// parses it) inside the request's time: ctx ends with the client's
// disconnection or the query timeout, and then the request is answered at
// once; the parse, which cannot be cancelled, finishes on its own and its
// query is closed.
func (a *API) construct(ctx context.Context, q string, build func() (promql.Query, error)) (promql.Query, *apiError) {
	if n := a.opts.MaxQueryLength; len(q) > n {
		a.limits.refused.WithLabelValues("query_length").Inc()
		return nil, &apiError{errorBadData, fmt.Errorf("query is %d bytes, more than the limit of %d (-query.max-length)", len(q), n)}
	}
	ctx, cancel := context.WithTimeout(ctx, a.opts.Timeout)
	defer cancel()
	select {
	case a.limits.parsing <- struct{}{}:
	case <-ctx.Done():
		a.limits.refused.WithLabelValues("parse_timeout").Inc()
		return nil, queryError(promql.ErrQueryTimeout("waiting to parse"))
	}
	type built struct {
		q   promql.Query
		err error
	}
	done := make(chan built, 1)
	go func() { // ends when the parse does; bounded by parsing
		defer func() { <-a.limits.parsing }()
		qry, err := build()
		done <- built{qry, err}
	}()
	select {
	case b := <-done:
		if b.err != nil {
			return nil, constructionError(b.err)
		}
		return b.q, nil
	case <-ctx.Done():
		a.limits.refused.WithLabelValues("parse_timeout").Inc()
		go func() { // close the query the abandoned parse makes
			if b := <-done; b.q != nil {
				b.q.Close()
			}
		}()
		if ctx.Err() == context.Canceled {
			return nil, &apiError{errorCanceled, ctx.Err()}
		}
		return nil, queryError(promql.ErrQueryTimeout("parsing"))
	}
}
