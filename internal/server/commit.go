package server

import (
	"errors"
	"runtime"
	"slices"
	"sync"
	"time"

	"hawk/internal/store"
)

// maxGroupSamples bounds the samples a leader adds to its own request's
// when it gathers a group: a few milliseconds of appending, so that the
// first request of a large group does not wait for a huge commit.
const maxGroupSamples = 1 << 14

// maxGroupFresh bounds the new series a leader's group may create beyond
// its own request's: a new head series costs some 15 µs, so that a group
// of agents defining series by the thousand (a series flood, or a fleet
// starting) is committed in slices of tens of milliseconds, not of half a
// second, and the requests of agents whose series are known wait less.
const maxGroupFresh = 1 << 11

// committer commits the complete batches of many sessions in shared sink
// transactions (group commit). A session hands its request to commit and
// blocks until the request is stored. If fewer than maxLeaders groups are
// being committed, the session leads a group itself, at once, on its own
// goroutine: its request and the requests queued at that moment become
// one transaction, one WAL write, and the followers are woken when it is
// committed. Otherwise the request waits in the queue, and the first
// request of the queue leads the next group when a leader finishes (or at
// once, when a leader's group is full and a place is free). So an
// idle server commits each batch as it comes, with no hand-off, and a busy
// one commits ever larger groups, paying the per-transaction costs (the
// appender, the WAL record, its write(2), the lock convoys of many
// sessions committing at once) once per group.
//
// It starts no goroutines and is safe for concurrent use.
type committer struct {
	sink       store.Sink
	maxLeaders int // groups committed at once, at most
	now        func() time.Time
	observe    func(time.Duration) // how long each group's transaction took

	mu      sync.Mutex
	queue   []*commitReq // guarded by mu; requests no leader has taken yet, oldest first
	leaders int          // guarded by mu; groups being committed
	fresh   int          // guarded by mu; of those, groups whose leader creates series
}

// One place is kept for requests that create no series: groups led by a
// request that does are at most maxLeaders-1 (when there are two places
// or more), and a leader of known series gathers only known series
// behind it. So while agents create head series by the thousand (a
// series flood, a fleet's first start) the batches of agents whose series
// exist never wait for a place behind them; the creation goes on in the
// other places.

// mayLeadLocked reports whether r may take a free place now. c.mu must
// be held.
func (c *committer) mayLeadLocked(r *commitReq) bool {
	return c.leaders < c.maxLeaders && (r.fresh == 0 || c.fresh < max(c.maxLeaders-1, 1))
}

// takeLocked gives r a place. c.mu must be held.
func (c *committer) takeLocked(r *commitReq) {
	c.leaders++
	if r.fresh > 0 {
		c.fresh++
	}
}

// releaseLocked frees r's place. c.mu must be held.
func (c *committer) releaseLocked(r *commitReq) {
	c.leaders--
	if r.fresh > 0 {
		c.fresh--
	}
}

// nextLocked takes the first queued request if it may lead now, and
// returns it (nil if none). The queue holds known series first, so when
// its first request may not lead none may. c.mu must be held.
func (c *committer) nextLocked() *commitReq {
	if len(c.queue) == 0 || !c.mayLeadLocked(c.queue[0]) {
		return nil
	}
	next := c.queue[0]
	c.dequeueLocked(1)
	c.takeLocked(next)
	return next
}

// commitReq is one session's complete batches on their way to the sink.
// The session owns it; between commit's call and return the leader of its
// group reads and writes it.
type commitReq struct {
	samples []pendingSample // to store, in order
	series  *seriesDict     // the session's dictionary, by sample id
	future  int64           // samples after this timestamp (ms) are dropped
	fresh   int             // series defined and accepted since the session's last commit: new head series, at most

	// Results, set by the group's leader before the request is woken.
	stored, rejected int
	duplicate        int // samples of an aliased series at a timestamp it already has
	dropped          [nBadReasons]int
	err              error

	// seen holds the aliased series' samples appended in this request
	// (seriesDict.aliased): a second one at the same timestamp is a
	// duplicate. Once committed they move to seriesDict.aliased (settle).
	seen map[aliasSample]struct{}

	wake  chan bool    // true: the request was committed or failed; false: lead the next group
	group []*commitReq // scratch for the group this request leads
}

func newCommitReq() *commitReq { return &commitReq{wake: make(chan bool, 1)} }

// commit stores r's samples, alone or with other sessions' in one
// transaction, and returns when they are committed (r.err nil) or failed.
func (c *committer) commit(r *commitReq) {
	c.mu.Lock()
	if !c.mayLeadLocked(r) {
		c.enqueueLocked(r)
		c.mu.Unlock()
		if <-r.wake {
			return
		}
		// Promoted: a leader gave r a place (nextLocked).
	} else {
		c.takeLocked(r)
		c.mu.Unlock()
	}
	c.lead(r)
}

// lead commits r and the requests queued behind it as one group, then
// hands its place to the oldest request still queued, if any.
func (c *committer) lead(r *commitReq) {
	g, n, fresh := append(r.group[:0], r), len(r.samples), 0
	c.mu.Lock()
	i := 0
	knownOnly := r.fresh == 0 && c.maxLeaders > 1 // the kept place, or one that may be
	for ; i < len(c.queue) && n < maxGroupSamples; i++ {
		q := c.queue[i]
		if fresh += q.fresh; q.fresh > 0 && (knownOnly || fresh > maxGroupFresh) {
			break // the rest of the queue creates series too (enqueueLocked)
		}
		g = append(g, q)
		n += len(q.samples)
	}
	c.dequeueLocked(i)
	spare := c.nextLocked() // the group is full: the rest may go to a free place
	c.mu.Unlock()
	if spare != nil {
		spare.wake <- false
	}

	c.store(g)
	for _, q := range g[1:] {
		q.wake <- true
	}
	clear(g)
	r.group = g[:0]

	c.mu.Lock()
	c.releaseLocked(r)
	next := c.nextLocked()
	c.mu.Unlock()
	if next != nil {
		next.wake <- false
	}
}

// enqueueLocked queues r: behind every request, or, if r creates no
// series, ahead of the first queued request that does, so that agents
// whose series are known do not wait behind head series being created.
// c.mu must be held.
func (c *committer) enqueueLocked(r *commitReq) {
	i := -1
	if r.fresh == 0 {
		i = slices.IndexFunc(c.queue, func(q *commitReq) bool { return q.fresh > 0 })
	}
	if i < 0 {
		i = len(c.queue)
	}
	c.queue = slices.Insert(c.queue, i, r)
}

// dequeueLocked drops the first n requests of the queue. c.mu must be held.
func (c *committer) dequeueLocked(n int) {
	if n == 0 {
		return
	}
	k := copy(c.queue, c.queue[n:])
	clear(c.queue[k:])
	c.queue = c.queue[:k]
}

// store appends the group's samples to one transaction and commits it.
// Samples of refused series and samples too far in the future are dropped
// and counted by reason, per request. An append or commit error fails
// every request of the group: nothing of the transaction is stored.
func (c *committer) store(g []*commitReq) {
	start := c.now()
	app := c.sink.Appender()
	for _, r := range g {
		if err := r.append(app); err != nil {
			app.Rollback() //nolint:errcheck // the append error is the one to report
			failAll(g, err)
			return
		}
	}
	if err := app.Commit(); err != nil {
		failAll(g, err)
		return
	}
	c.observe(c.now().Sub(start))
	for _, r := range g {
		r.settle()
	}
}

// append adds r's samples to app and counts them. It changes nothing but
// r: a request that fails is appended again from scratch when resent.
func (r *commitReq) append(app store.Appender) error {
	r.stored, r.rejected, r.duplicate, r.dropped, r.err = 0, 0, 0, [nBadReasons]int{}, nil
	clear(r.seen)
	for i, p := range r.samples {
		if r.fresh > 0 && i%yieldEvery == yieldEvery-1 { // creating series: see yieldEvery
			runtime.Gosched()
		}
		s, bad := r.series.lookup(p.id)
		if bad != seriesOK {
			if bad != seriesAliased {
				r.dropped[bad]++
				continue
			}
			if p.t <= r.future {
				if err := r.appendAliased(app, s, p); err != nil {
					return err
				}
				continue
			}
		}
		if p.t > r.future {
			r.dropped[badFuture]++
			continue
		}
		if err := app.Append(s, p.t, p.v); err != nil {
			if errors.Is(err, store.ErrRejected) {
				r.rejected++
				continue
			}
			return err
		}
		r.stored++
	}
	return nil
}

// aliasSample is a sample of an aliased series: the series' index into
// seriesDict.kept and the sample's timestamp.
type aliasSample struct {
	k uint32
	t int64
}

// appendAliased appends p, a sample of s, a series other ids of the
// dictionary name too, unless the series already has a sample at p's
// timestamp: appended earlier in this request, or the highest committed
// for it in this session. Such a sample is counted as a duplicate and
// not appended: the TSDB would keep one of the two and count both as
// appended.
func (r *commitReq) appendAliased(app store.Appender, s *store.Series, p pendingSample) error {
	key := aliasSample{r.series.keptOf(p.id), p.t}
	if _, ok := r.seen[key]; ok {
		r.duplicate++
		return nil
	}
	if last, ok := r.series.aliased[key.k]; ok && last == p.t {
		r.duplicate++
		return nil
	}
	if err := app.Append(s, p.t, p.v); err != nil {
		if errors.Is(err, store.ErrRejected) {
			r.rejected++
			return nil
		}
		return err
	}
	if r.seen == nil {
		r.seen = make(map[aliasSample]struct{})
	}
	r.seen[key] = struct{}{}
	r.stored++
	return nil
}

// maxSeenKept bounds the entries of a request's seen map kept for the
// next request: a batch of many aliased samples does not leave its
// session holding their map.
const maxSeenKept = 256

// settle records, once r is committed, the highest timestamp of each
// aliased series r stored.
func (r *commitReq) settle() {
	d := r.series
	for key := range r.seen {
		if d.aliased == nil {
			d.aliased = make(map[uint32]int64)
		}
		if last, ok := d.aliased[key.k]; !ok || key.t > last {
			d.aliased[key.k] = key.t
		}
	}
	if len(r.seen) > maxSeenKept {
		r.seen = nil
	} else {
		clear(r.seen)
	}
}

func failAll(g []*commitReq, err error) {
	for _, r := range g {
		r.stored, r.rejected, r.duplicate, r.dropped, r.err = 0, 0, 0, [nBadReasons]int{}, err
	}
}
