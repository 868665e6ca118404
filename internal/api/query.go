package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/util/annotations"
)

// queryData is the data of a query response.
type queryData struct {
	ResultType parser.ValueType `json:"resultType"`
	Result     parser.Value     `json:"result"`
}

func (a *API) query(r *http.Request) result {
	limit, err := parseLimit(r.FormValue("limit"))
	if err != nil {
		return invalidParam(err, "limit")
	}
	ts, err := parseTimeParam(r, "time", a.opts.Now())
	if err != nil {
		return invalidParam(err, "time")
	}
	ctx, cancel, res, ok := a.queryContext(r)
	if !ok {
		return res
	}
	defer cancel()
	opts, res, ok := a.queryOpts(r)
	if !ok {
		return res
	}
	q := r.FormValue("query")
	qry, aerr := a.construct(ctx, q, func(ctx context.Context) (promql.Query, error) {
		return a.engine.NewInstantQuery(ctx, a.opts.Queryable, opts, q, ts)
	})
	if aerr != nil {
		return result{err: aerr}
	}
	return a.exec(ctx, q, qry, limit)
}

func (a *API) queryRange(r *http.Request) result {
	limit, err := parseLimit(r.FormValue("limit"))
	if err != nil {
		return invalidParam(err, "limit")
	}
	start, end, step, res, ok := parseRange(r)
	if !ok {
		return res
	}
	ctx, cancel, res, ok := a.queryContext(r)
	if !ok {
		return res
	}
	defer cancel()
	opts, res, ok := a.queryOpts(r)
	if !ok {
		return res
	}
	q := r.FormValue("query")
	qry, aerr := a.construct(ctx, q, func(ctx context.Context) (promql.Query, error) {
		return a.engine.NewRangeQuery(ctx, a.opts.Queryable, opts, q, start, end, step)
	})
	if aerr != nil {
		return result{err: aerr}
	}
	return a.exec(ctx, q, qry, limit)
}

// parseRange parses start, end and step as Prometheus' query_range does.
func parseRange(r *http.Request) (start, end time.Time, step time.Duration, res result, ok bool) {
	start, err := parseTime(r.FormValue("start"))
	if err != nil {
		return start, end, 0, invalidParam(err, "start"), false
	}
	if end, err = parseTime(r.FormValue("end")); err != nil {
		return start, end, 0, invalidParam(err, "end"), false
	}
	if end.Before(start) {
		return start, end, 0, invalidParam(errors.New("end timestamp must not be before start time"), "end"), false
	}
	if step, err = parseDuration(r.FormValue("step")); err != nil {
		return start, end, 0, invalidParam(err, "step"), false
	}
	if step <= 0 {
		err := errors.New("zero or negative query resolution step widths are not accepted. Try a positive integer")
		return start, end, 0, invalidParam(err, "step"), false
	}
	if end.Sub(start)/step > maxPoints {
		err := errors.New("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)")
		return start, end, 0, badData(err), false
	}
	return start, end, step, result{}, true
}

// queryContext is the request's context bounded by the query timeout, or
// by the request's timeout parameter when that is shorter: the parse, the
// wait for a slot of -query.max-concurrency and the evaluation all fit in
// it, and it ends when the client leaves.
func (a *API) queryContext(r *http.Request) (context.Context, context.CancelFunc, result, bool) {
	d := a.opts.Timeout
	if v := r.FormValue("timeout"); v != "" {
		t, err := parseDuration(v)
		if err != nil {
			return nil, nil, invalidParam(err, "timeout"), false
		}
		if t <= 0 {
			return nil, nil, badData(errors.New(`invalid parameter "timeout": timeout must be positive, got ` + t.String())), false
		}
		d = min(d, t)
	}
	ctx, cancel := context.WithTimeout(r.Context(), d)
	return ctx, cancel, result{}, true
}

// queryOpts reads lookback_delta; 0 leaves the engine's default.
func (a *API) queryOpts(r *http.Request) (promql.QueryOpts, result, bool) {
	var lookback time.Duration
	if v := r.FormValue("lookback_delta"); v != "" {
		d, err := parseDuration(v)
		if err != nil {
			return nil, badData(errors.New("error parsing lookback delta duration: " + err.Error())), false
		}
		lookback = d
	}
	return promql.NewPrometheusQueryOpts(false, lookback, nil), result{}, true
}

// exec runs qry, the query q, and shapes its result. On success the query
// is closed by the result's finalizer, after the response that references
// it is written.
//
// The request takes its slot of -query.max-concurrency before Exec and
// keeps it until the answer is encoded, as a lookup does (inSlot); the
// engine's own wait for a slot inside Exec then passes (heldKey). Exec
// renders the whole statement as text before that wait, for its trace
// span, in time quadratic in the length of some expressions (27 ms for
// 8,000 bytes of 1+1+…): outside the slot, eight clients' renderings ran
// beside the slot's query and took the second core of a 2-core server.
func (a *API) exec(ctx context.Context, q string, qry promql.Query, limit int) result {
	release, err := a.engine.AcquireQuerySlot(ctx, q)
	if err != nil {
		release()
		qry.Close()
		a.limits.noteRefused(err)
		return result{err: queryError(err)}
	}
	var res *promql.Result
	a.background(func() { res = qry.Exec(context.WithValue(ctx, heldKey{}, true)) })
	if res.Err != nil {
		release()
		a.limits.noteRefused(res.Err)
		return result{err: queryError(res.Err), warnings: res.Warnings, finalizer: qry.Close}
	}
	warnings := res.Warnings
	val := res.Value
	switch v := val.(type) {
	case promql.Matrix:
		val, warnings = limitSeries(v, limit, warnings)
	case promql.Vector:
		val, warnings = limitSeries(v, limit, warnings)
	}
	return result{
		data:      &queryData{ResultType: val.Type(), Result: val},
		warnings:  warnings,
		finalizer: qry.Close,
		encoded:   release,
	}
}

// limitSeries makes a nil result an empty one (Prometheus answers [] rather
// than null) and cuts it to limit series when limit > 0, with a warning.
func limitSeries[S ~[]E, E any](v S, limit int, w annotations.Annotations) (S, annotations.Annotations) {
	if v == nil {
		v = S{}
	}
	if limit > 0 && len(v) > limit {
		v = v[:limit]
		w = w.Add(errors.New("results truncated due to limit"))
	}
	return v, w
}
