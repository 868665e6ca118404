package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/model/timestamp"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"

	"hawk/internal/jsonappend"
)

// errTruncated is the warning Prometheus adds when limit cut a result.
var errTruncated = errors.New("results truncated due to limit")

func (a *API) series(r *http.Request) result {
	if err := r.ParseForm(); err != nil {
		return badData(fmt.Errorf("error parsing form values: %w", err))
	}
	if len(r.Form["match[]"]) == 0 {
		return badData(errors.New("no match[] parameter provided"))
	}
	rq, res, ok := a.parseLookup(r, true)
	if !ok {
		return res
	}
	q, err := a.opts.Queryable.Querier(rq.mint, rq.maxt)
	if err != nil {
		return result{err: queryError(err)}
	}
	ctx, cancel := context.WithTimeout(r.Context(), a.opts.Timeout)
	defer cancel()
	r = r.WithContext(ctx)
	hints := &storage.SelectHints{Start: rq.mint, End: rq.maxt, Func: "series", Limit: hintLimit(rq.limit)}
	var set storage.SeriesSet
	if len(rq.sets) > 1 {
		sets := make([]storage.SeriesSet, 0, len(rq.sets))
		for _, ms := range rq.sets {
			sets = append(sets, q.Select(r.Context(), true, hints, ms...))
		}
		set = storage.NewMergeSeriesSet(sets, 0, storage.ChainedSeriesMerge)
	} else {
		set = q.Select(r.Context(), false, hints, rq.sets[0]...)
	}
	// The answer is encoded as the series come, without reflection:
	// json.Marshal made a map of every label set and sorted its keys, which
	// for 100,000 series cost more than finding them, in garbage above all
	// (issue 17: the collections it caused delayed the agents' ACKs).
	// Its buffer is one an earlier answer grew (answerBuf), handed back
	// once this answer is written.
	raw, n := append(answerBuf(), '['), 0
	done := func() { _ = q.Close(); keepAnswerBuf(raw) }
	for set.Next() {
		if rq.limit > 0 && n == rq.limit {
			warnings := set.Warnings()
			warnings.Add(errTruncated)
			a.limits.refused.WithLabelValues("results_truncated").Inc()
			raw = append(raw, ']')
			return result{raw: raw, entries: n, warnings: warnings, finalizer: done}
		}
		if n > 0 {
			raw = append(raw, ',')
		}
		raw = jsonappend.Labels(raw, set.At().Labels())
		n++
	}
	if err := set.Err(); err != nil {
		return result{err: lookupError(ctx, err), warnings: set.Warnings(), finalizer: done}
	}
	raw = append(raw, ']')
	return result{raw: raw, entries: n, warnings: set.Warnings(), finalizer: done}
}

// lookup holds the common parameters of series and label requests.
type lookup struct {
	limit      int
	mint, maxt int64
	sets       [][]*labels.Matcher
}

// parseLookup parses limit, start, end and match[]; matchErrParam makes a
// bad match[] an "invalid parameter" error, as /series reports it.
func (a *API) parseLookup(r *http.Request, matchErrParam bool) (lookup, result, bool) {
	var rq lookup
	limit, err := parseLimit(r.FormValue("limit"))
	if err != nil {
		return rq, invalidParam(err, "limit"), false
	}
	start, err := parseTimeParam(r, "start", minTime)
	if err != nil {
		return rq, invalidParam(err, "start"), false
	}
	end, err := parseTimeParam(r, "end", maxTime)
	if err != nil {
		return rq, invalidParam(err, "end"), false
	}
	sets, err := a.parseMatchers(r.Form["match[]"])
	if err != nil {
		if matchErrParam {
			return rq, invalidParam(err, "match[]"), false
		}
		return rq, badData(err), false
	}
	return lookup{a.capLimit(limit), timestamp.FromTime(start), timestamp.FromTime(end), sets}, result{}, true
}

// lookupName names a lookup in queries.active: its path and matchers.
func lookupName(r *http.Request) string {
	return strings.Join(append([]string{r.URL.Path}, r.Form["match[]"]...), " ")
}

func closer(q storage.Querier) func() { return func() { _ = q.Close() } }

// lookupError reports a series or label lookup that ran out of
// -query-timeout as a query that did (503, "timeout"); other failures as
// execution errors.
func lookupError(ctx context.Context, err error) *apiError {
	switch {
	case errors.Is(err, errStopping):
		return &apiError{errorUnavail, err}
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &apiError{errorTimeout, fmt.Errorf("lookup timed out (-query-timeout): %w", err)}
	case ctx.Err() != nil:
		return &apiError{errorCanceled, err}
	}
	return &apiError{errorExec, err}
}

func (a *API) labelNames(r *http.Request) result {
	rq, res, ok := a.parseLookup(r, false)
	if !ok {
		return res
	}
	q, err := a.opts.Queryable.Querier(rq.mint, rq.maxt)
	if err != nil {
		return result{err: queryError(err)}
	}
	defer q.Close()
	ctx, cancel := context.WithTimeout(r.Context(), a.opts.Timeout)
	defer cancel()
	hints := &storage.LabelHints{Limit: hintLimit(rq.limit)}
	names, warnings, err := collect(rq.sets, func(ms []*labels.Matcher) ([]string, annotations.Annotations, error) {
		return q.LabelNames(ctx, hints, ms...)
	})
	if err != nil {
		return result{err: lookupError(ctx, err), warnings: warnings}
	}
	if rq.limit > 0 && len(names) > rq.limit {
		names = names[:rq.limit]
		warnings = warnings.Add(errTruncated)
		a.limits.refused.WithLabelValues("results_truncated").Inc()
	}
	return result{data: names, warnings: warnings}
}

func (a *API) labelValues(r *http.Request) result {
	name := r.PathValue("name")
	if strings.HasPrefix(name, "U__") {
		name = model.UnescapeName(name, model.ValueEncodingEscaping)
	}
	if !model.UTF8Validation.IsValidLabelName(name) {
		return badData(fmt.Errorf("invalid label name: %q", snippet(name)))
	}
	rq, res, ok := a.parseLookup(r, false)
	if !ok {
		return res
	}
	q, err := a.opts.Queryable.Querier(rq.mint, rq.maxt)
	if err != nil {
		return result{err: &apiError{errorExec, err}}
	}
	ctx, cancel := context.WithTimeout(r.Context(), a.opts.Timeout)
	defer cancel()
	hints := &storage.LabelHints{Limit: hintLimit(rq.limit)}
	vals, warnings, err := collect(rq.sets, func(ms []*labels.Matcher) ([]string, annotations.Annotations, error) {
		return q.LabelValues(ctx, name, hints, ms...)
	})
	if err != nil {
		return result{err: lookupError(ctx, err), warnings: warnings, finalizer: closer(q)}
	}
	if rq.limit > 0 && len(vals) > rq.limit {
		vals = vals[:rq.limit]
		warnings = warnings.Add(errTruncated)
		a.limits.refused.WithLabelValues("results_truncated").Inc()
	}
	return result{data: vals, warnings: warnings, finalizer: closer(q)}
}

// collect calls get once per matcher set (once with none if there is no
// set) and returns the sorted union of the results, never nil.
func collect(sets [][]*labels.Matcher, get func([]*labels.Matcher) ([]string, annotations.Annotations, error)) ([]string, annotations.Annotations, error) {
	if len(sets) == 0 {
		sets = [][]*labels.Matcher{nil}
	}
	var warnings annotations.Annotations
	seen := map[string]struct{}{}
	for _, ms := range sets {
		vals, w, err := get(ms)
		warnings.Merge(w)
		if err != nil {
			return nil, warnings, err
		}
		for _, v := range vals {
			seen[v] = struct{}{}
		}
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	slices.Sort(out)
	return out, warnings, nil
}

// metadata serves /api/v1/metadata from the sink's metadata. hawk keeps one
// entry per metric family, so limit_per_metric is validated but can never
// cut anything.
func (a *API) metadata(r *http.Request) result {
	limit := -1
	if s := r.FormValue("limit"); s != "" {
		var err error
		if limit, err = strconv.Atoi(s); err != nil {
			return badData(errors.New("limit must be a number"))
		}
	}
	if s := r.FormValue("limit_per_metric"); s != "" {
		if _, err := strconv.Atoi(s); err != nil {
			return badData(errors.New("limit_per_metric must be a number"))
		}
	}
	out := map[string][]metadata.Metadata{}
	if a.opts.Metadata == nil {
		return result{data: out}
	}
	all := a.opts.Metadata.Metadata(r.FormValue("metric"))
	names := make([]string, 0, len(all))
	for name := range all {
		names = append(names, name)
	}
	slices.Sort(names)
	if limit < 0 || limit > a.opts.MaxLookupResults {
		limit = a.opts.MaxLookupResults
	}
	for _, name := range names {
		if len(out) >= limit {
			a.limits.refused.WithLabelValues("results_truncated").Inc()
			break
		}
		out[name] = []metadata.Metadata{all[name]}
	}
	return result{data: out}
}

func (a *API) buildInfo(*http.Request) result {
	bi := a.opts.BuildInfo
	if bi.GoVersion == "" {
		bi.GoVersion = runtime.Version()
	}
	if info, ok := debug.ReadBuildInfo(); ok && bi.Revision == "" {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				bi.Revision = s.Value
			}
		}
	}
	return result{data: bi}
}

// runtimeInfo is a subset of Prometheus' RuntimeInfo.
type runtimeInfo struct {
	StartTime        time.Time `json:"startTime"`
	CWD              string    `json:"CWD"`
	Hostname         string    `json:"hostname"`
	ServerTime       time.Time `json:"serverTime"`
	GoroutineCount   int       `json:"goroutineCount"`
	GOMAXPROCS       int       `json:"GOMAXPROCS"`
	StorageRetention string    `json:"storageRetention"`
}

func (a *API) runtimeInfo(*http.Request) result {
	cwd, _ := os.Getwd()
	host, _ := os.Hostname()
	return result{data: runtimeInfo{
		StartTime:        a.start.UTC(),
		CWD:              cwd,
		Hostname:         host,
		ServerTime:       a.opts.Now().UTC(),
		GoroutineCount:   runtime.NumGoroutine(),
		GOMAXPROCS:       runtime.GOMAXPROCS(0),
		StorageRetention: a.opts.Retention,
	}}
}

func (a *API) config(*http.Request) result {
	return result{data: map[string]string{"yaml": "global: {}\n"}}
}

func (a *API) flags(*http.Request) result {
	return result{data: map[string]string{}}
}
