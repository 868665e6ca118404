package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"

	"hawk/internal/procs"
)

// DefaultMaxQueryLength bounds a PromQL expression's bytes. The parser's
// time grows with the square of some expressions' length (8 KiB of
// "1+1+…" parse in about 0.1 s, 16 KiB in 0.5 s, 80 KB in 43 s), and
// parsing cannot be interrupted, so the length is bounded before it.
const DefaultMaxQueryLength = 8 << 10

// DefaultMaxQueryDepth bounds the levels of a PromQL expression's syntax
// tree. Prometheus' engine does work quadratic in the depth (each level's
// String concatenates its children's, its Type walks them, and every
// level's context wraps the one above, which each cancellation check then
// climbs): "1+1+…" of 8 KiB nests 4,096 levels and cost 344 ms and 45 MB
// of garbage to answer, of which the parse was 52 ms and 0.7 MB. Node
// Exporter Full's deepest expression has 8 levels.
const DefaultMaxQueryDepth = 100

// DefaultMaxLookupResults bounds the series, label names, label values and
// metadata entries one request returns: 1.36 M series were an 87 MB
// answer that cost 760 MB to build.
const DefaultMaxLookupResults = 100000

// DefaultMaxConcurrency is how many queries and lookups evaluate at once
// when -query.max-concurrency is 0: half the CPUs (procs.CPUs), at least one.
// Evaluation is CPU-bound, so the rest of the cores stay free for ingest
// whatever the query load: on a 2-core collector one query runs at a time
// and the others wait (8 clients of 8 KB "1+1+…" queries otherwise took
// both cores and raised an agent's ACK p99 from 0.85 to 169 ms).
func DefaultMaxConcurrency() int { return max(1, procs.CPUs()/2) }

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

// slots is the one queue of everything that evaluates against the
// storage: the engine's queries (the API's and the rules') wait in it, as
// Prometheus' -query.max-concurrency does, and the series, label and
// metadata lookups, which do not go through the engine, borrow the same
// slots with Engine.AcquireQuerySlot. One queue rather than a semaphore
// per kind: a lookup of every series costs as much as a query, and two
// limits would let both kinds together take twice the cores. The tracker
// inside (promql.ActiveQueryTracker in hawk-server) also writes the
// running ones to <data>/queries.active, which the next start logs if the
// process died with them.
type slots struct {
	promql.QueryTracker
	waiting, running prometheus.Gauge

	// stopping ends every wait in the queue, at Drain or Close.
	stopping context.Context
	stop     context.CancelFunc
	// closeWait bounds how long Close waits for the slots in use.
	closeWait time.Duration
	closeOnce sync.Once
	closeErr  error

	mu     sync.Mutex
	users  int           // waits in Insert and slots held
	closed bool          // by Drain or Close: no new Insert
	idle   chan struct{} // closed when users reaches 0 once closed
}

func newSlots(t promql.QueryTracker, reg prometheus.Registerer) *slots {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "hawk_api_queries_in_flight",
		Help: "PromQL queries (of the API and of rules) and series, label and metadata lookups running or waiting for a slot of -query.max-concurrency, by state."},
		[]string{"state"})
	if reg != nil {
		reg.MustRegister(g)
	}
	s := &slots{QueryTracker: t, waiting: g.WithLabelValues("waiting"), running: g.WithLabelValues("running"),
		closeWait: 10 * time.Second, idle: make(chan struct{})}
	s.stopping, s.stop = context.WithCancel(context.Background())
	return s
}

// use counts a new user of the tracker, unless it is closed.
func (s *slots) use() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.users++
	return true
}

func (s *slots) done() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users--; s.users == 0 && s.closed {
		close(s.idle)
	}
}

// drain refuses new waits, ends the ones in the queue and reports whether
// slots are still in use.
func (s *slots) drain() (inUse bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.stop()
	return s.users > 0
}

// Close drains the queue, waits up to closeWait for the slots in use to be
// returned, then closes the tracker. If some are still in use (a parse
// cannot be stopped, a query may not look at its context for a while) the
// tracker's mapped file stays open: unmapping it under them would crash
// the process, which is about to exit anyway. Later calls return the
// first one's result.
func (s *slots) Close() error {
	s.closeOnce.Do(func() {
		if s.drain() {
			select {
			case <-s.idle:
			case <-time.After(s.closeWait):
				s.closeErr = fmt.Errorf("api: queries still running after %v; queries.active left open", s.closeWait)
				return
			}
		}
		s.closeErr = s.QueryTracker.Close()
	})
	return s.closeErr
}

// noSlotError is the error of a query or lookup that got no slot: its
// request timed out in the queue (503 timeout), its client left (499), or
// the server is stopping (errStopping, 503 unavailable).
type noSlotError struct{ err error } // promql.ErrQueryTimeout, ErrQueryCanceled, or errStopping's

func (e noSlotError) Error() string { return e.err.Error() }
func (e noSlotError) Unwrap() error { return e.err }

// queuedKey marks the context of a query's construction with an
// *atomic.Bool that Insert sets while the construction waits for a slot,
// and leaves set if the wait fails: construct then knows why it timed out.
type queuedKey struct{}

// heldKey marks the context of a query's execution whose request already
// holds a slot (see API.exec): the engine's own wait for one in Exec then
// passes at once, and its Delete returns nothing.
type heldKey struct{}

// heldIndex is the index Insert returns for a context marked with heldKey.
const heldIndex = -1

// Insert waits for a slot until ctx ends (the engine's context carries
// -query-timeout and the client's disconnection) or the API drains. A
// context marked with heldKey has one already.
func (s *slots) Insert(ctx context.Context, q string) (int, error) {
	if ctx.Value(heldKey{}) != nil {
		return heldIndex, nil
	}
	if !s.use() {
		return 0, errStopping
	}
	queued, _ := ctx.Value(queuedKey{}).(*atomic.Bool)
	if queued != nil {
		queued.Store(true)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.stopping, cancel)()
	s.waiting.Inc()
	i, err := s.QueryTracker.Insert(ctx, q)
	s.waiting.Dec()
	if err != nil {
		s.done()
		if s.stopping.Err() != nil {
			return 0, errStopping
		}
		return 0, s.noSlot(err)
	}
	if queued != nil {
		queued.Store(false)
	}
	s.running.Inc()
	return i, nil
}

// noSlot is the error of a wait for a slot that ended with err, the
// context's error.
func (s *slots) noSlot(err error) error {
	where := fmt.Sprintf("the queue (-query.max-concurrency %d)", s.GetMaxConcurrent())
	if errors.Is(err, context.DeadlineExceeded) {
		return noSlotError{promql.ErrQueryTimeout(where)}
	}
	return noSlotError{promql.ErrQueryCanceled(where)}
}

func (s *slots) Delete(i int) {
	if i == heldIndex {
		return
	}
	s.running.Dec()
	s.QueryTracker.Delete(i)
	s.done()
}

// errStopping refuses a query or lookup, waiting or new, once the API
// drains.
var errStopping = noSlotError{errors.New("the server is stopping")}

// Drain ends the waits for a slot of -query.max-concurrency and refuses
// new ones (503 "unavailable"); the queries and lookups running go on.
// hawk-server calls it when it stops, before it waits for HTTP requests
// to end, so that the queue does not hold the stop up.
func (a *API) Drain() {
	if a.slots != nil {
		a.slots.drain()
	}
}

// noteRefused counts err if it is a wait for a slot that ended.
func (l *limits) noteRefused(err error) {
	if errors.As(err, new(noSlotError)) && !errors.Is(err, errStopping) {
		l.refused.WithLabelValues("concurrency").Inc()
	}
}

// inSlot runs the lookup f (series, labels, label values, metadata, and
// the fleet's /api/v1/agents, whose pages cost as much to encode; none of
// them goes through the engine) in a slot of -query.max-concurrency. The
// slot is held until the answer is encoded, which for 100,000 series costs
// more than finding them, and released before it is written, so that a
// client that reads slowly holds none. The wait and the lookup share one
// -query-timeout.
func (a *API) inSlot(f apiFunc) apiFunc {
	return func(r *http.Request) result {
		if err := r.ParseForm(); err != nil { // for the name; f would refuse it too
			return badData(fmt.Errorf("error parsing form values: %w", err))
		}
		ctx, cancel := context.WithTimeout(r.Context(), a.opts.Timeout)
		defer cancel()
		release, err := a.engine.AcquireQuerySlot(ctx, lookupName(r))
		if err != nil {
			release()
			a.limits.noteRefused(err)
			return result{err: lookupError(ctx, err)}
		}
		handed := false
		defer func() {
			if !handed { // f panicked
				release()
			}
		}()
		var res result
		a.background(func() { res = f(r.WithContext(ctx)) })
		res.encoded, handed = release, true
		return res
	}
}

// background runs f, which takes a core for long, by procs.Background
// if Options.LowPriority asks for it, else in place.
func (a *API) background(f func()) {
	if a.opts.LowPriority {
		procs.Background(f)
		return
	}
	f()
}

// depthError refuses a query nested deeper than Options.MaxQueryDepth.
type depthError struct{ depth, max int }

func (e *depthError) Error() string {
	return fmt.Sprintf("query nests %d levels deep, more than the limit of %d (-query.max-depth)", e.depth, e.max)
}

// checkDepth closes qry and returns a *depthError if its expression nests
// deeper than MaxQueryDepth, before the engine runs it.
func (a *API) checkDepth(qry promql.Query) error {
	var n parser.Node = qry.Statement()
	if s, ok := n.(*parser.EvalStmt); ok {
		n = s.Expr
	}
	if d := ExprDepth(n); d > a.opts.MaxQueryDepth {
		qry.Close()
		return &depthError{d, a.opts.MaxQueryDepth}
	}
	return nil
}

// ExprDepth returns the levels of n's tree as -query.max-depth counts
// them, 1 for a leaf; parentheses count, the engine's step-invariant
// wrappers do not (they are not written in the query).
func ExprDepth(n parser.Node) int {
	d := 0
	for _, c := range parser.Children(n) {
		d = max(d, ExprDepth(c))
	}
	if _, ok := n.(*parser.StepInvariantExpr); ok {
		return d
	}
	return d + 1
}

// construct checks the query's length and builds it with build (which
// parses it) inside the request's time: ctx (from queryContext) ends with
// the client's disconnection or the query timeout, and then the request is
// answered at once; the parse, which cannot be cancelled, finishes on its
// own and its query is closed. With a query tracker the engine parses in a
// slot of -query.max-concurrency, so the wait for one is part of build. A
// query nested deeper than MaxQueryDepth is closed unevaluated and refused.
func (a *API) construct(ctx context.Context, q string, build func(context.Context) (promql.Query, error)) (promql.Query, *apiError) {
	if n := a.opts.MaxQueryLength; len(q) > n {
		a.limits.refused.WithLabelValues("query_length").Inc()
		return nil, &apiError{errorBadData, fmt.Errorf("query is %d bytes, more than the limit of %d (-query.max-length)", len(q), n)}
	}
	select {
	case a.limits.parsing <- struct{}{}:
	case <-ctx.Done():
		a.limits.refused.WithLabelValues("parse_timeout").Inc()
		return nil, queryError(promql.ErrQueryTimeout("waiting to parse"))
	}
	queued := new(atomic.Bool)
	ctx = context.WithValue(ctx, queuedKey{}, queued)
	type built struct {
		q   promql.Query
		err error
	}
	done := make(chan built, 1)
	go func() { // ends when the parse does; bounded by parsing
		defer func() { <-a.limits.parsing }()
		if a.opts.LowPriority {
			procs.Lower() // the goroutine ends with its thread
		}
		qry, err := build(ctx)
		if err == nil {
			err = a.checkDepth(qry)
		}
		done <- built{qry, err}
	}()
	select {
	case b := <-done:
		if b.err != nil {
			var de *depthError
			if errors.As(b.err, &de) {
				a.limits.refused.WithLabelValues("query_depth").Inc()
				return nil, &apiError{errorBadData, de}
			}
			a.limits.noteRefused(b.err)
			return nil, constructionError(b.err)
		}
		return b.q, nil
	case <-ctx.Done():
		go func() { // close the query the abandoned parse makes
			if b := <-done; b.q != nil {
				b.q.Close()
			}
		}()
		if queued.Load() { // the build waited for a slot, and its wait ends with ctx too
			a.limits.refused.WithLabelValues("concurrency").Inc()
			return nil, queryError(a.slots.noSlot(ctx.Err()))
		}
		a.limits.refused.WithLabelValues("parse_timeout").Inc()
		if ctx.Err() == context.Canceled {
			return nil, &apiError{errorCanceled, ctx.Err()}
		}
		return nil, queryError(promql.ErrQueryTimeout("parsing"))
	}
}
