package server

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"hawk/internal/store"
)

// gateSink wraps a sink so that each Commit first waits for a value on gate.
type gateSink struct {
	store.Sink
	gate    chan struct{}
	entered chan struct{} // receives one value as each Commit starts waiting
}

func (g *gateSink) Appender() store.Appender {
	return &gateAppender{Appender: g.Sink.Appender(), s: g}
}

type gateAppender struct {
	store.Appender
	s *gateSink
}

func (a *gateAppender) Commit() error {
	a.s.entered <- struct{}{}
	<-a.s.gate
	return a.Appender.Commit()
}

func newTestCommitter(sink store.Sink, leaders int) *committer {
	return &committer{sink: sink, maxLeaders: leaders, now: time.Now, observe: func(time.Duration) {}}
}

// oneSeriesDict is a dictionary of one series, named name.
func oneSeriesDict(name string) *seriesDict {
	d := &seriesDict{}
	ls := labels.FromStrings("__name__", name)
	d.add(store.Series{Labels: ls}, ls.Hash())
	return d
}

// testReq is a request for n samples of one series per request, at
// timestamps 1..n.
func testReq(name string, n int) *commitReq {
	r := newCommitReq()
	r.series = oneSeriesDict(name)
	for i := range n {
		r.samples = append(r.samples, pendingSample{id: 0, t: int64(i + 1), v: float64(i)})
	}
	r.future = 1 << 62
	return r
}

// waitQueued waits until n requests wait in c's queue.
func waitQueued(t *testing.T, c *committer, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		c.mu.Lock()
		q := len(c.queue)
		c.mu.Unlock()
		if q == n {
			return
		}
	}
	t.Fatalf("queue never reached %d requests", n)
}

func TestCommitterGroupsWaitingRequests(t *testing.T) {
	mem := store.NewMemory()
	sink := &gateSink{Sink: mem, gate: make(chan struct{}), entered: make(chan struct{}, 8)}
	c := newTestCommitter(sink, 1)
	reqs := []*commitReq{testReq("a", 3), testReq("b", 2), testReq("c", 4)}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); c.commit(reqs[0]) }()
	<-sink.entered // a leads a group of its own and waits in Commit
	for _, r := range reqs[1:] {
		wg.Add(1)
		go func() { defer wg.Done(); c.commit(r) }()
	}
	waitQueued(t, c, 2)
	sink.gate <- struct{}{} // a's group commits; b leads b and c
	<-sink.entered
	sink.gate <- struct{}{}
	wg.Wait()
	if got := mem.Commits(); got != 2 {
		t.Fatalf("%d commits, want 2 (a alone, then b and c together)", got)
	}
	for i, r := range reqs {
		if r.err != nil || r.stored != len(r.samples) {
			t.Errorf("request %d: stored %d of %d, err %v", i, r.stored, len(r.samples), r.err)
		}
	}
	for _, name := range []string{"a", "b", "c"} {
		if got := len(mem.Get(fmt.Sprintf("{__name__=%q}", name))); got == 0 {
			t.Errorf("series %s not stored", name)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.leaders != 0 || len(c.queue) != 0 {
		t.Fatalf("after the commits: %d leaders, %d queued; want none", c.leaders, len(c.queue))
	}
}

func TestCommitterFailsTheWholeGroup(t *testing.T) {
	mem := store.NewMemory()
	sink := &gateSink{Sink: mem, gate: make(chan struct{}), entered: make(chan struct{}, 8)}
	c := newTestCommitter(sink, 1)
	first, a, b := testReq("first", 1), testReq("a", 2), testReq("b", 2)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); c.commit(first) }()
	<-sink.entered
	go func() { defer wg.Done(); c.commit(a) }()
	go func() { defer wg.Done(); c.commit(b) }()
	waitQueued(t, c, 2)
	boom := errors.New("disk on fire")
	sink.gate <- struct{}{} // first commits
	<-sink.entered
	mem.FailCommits(boom)
	sink.gate <- struct{}{} // a and b fail together
	wg.Wait()
	if first.err != nil {
		t.Fatalf("first: %v", first.err)
	}
	for _, r := range []*commitReq{a, b} {
		if !errors.Is(r.err, boom) || r.stored != 0 {
			t.Errorf("stored %d, err %v; want 0 and %v", r.stored, r.err, boom)
		}
	}
}

func TestCommitterDropsAndRejects(t *testing.T) {
	c := newTestCommitter(store.NewMemory(), 2)
	r := testReq("x", 4)
	r.series.refuse(badSeriesLimit)
	r.samples = append(r.samples, pendingSample{id: 1, t: 1, v: 1}, pendingSample{id: 0, t: 100, v: 1})
	r.future = 50
	c.commit(r)
	if r.err != nil || r.stored != 4 || r.dropped[badSeriesLimit] != 1 || r.dropped[badFuture] != 1 {
		t.Fatalf("stored %d, dropped %v, err %v; want 4 stored, one dropped for the series limit and one for the future",
			r.stored, r.dropped, r.err)
	}
}

// TestCommitterConcurrent commits from many goroutines at once (run it with
// -race): every sample is stored once, in each session's order.
func TestCommitterConcurrent(t *testing.T) {
	mem := store.NewMemory()
	c := newTestCommitter(mem, 2)
	const sessions, rounds, per = 16, 50, 10
	var wg sync.WaitGroup
	for s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := newCommitReq()
			r.series = oneSeriesDict(fmt.Sprintf("s%d", s))
			r.future = 1 << 62
			for k := range rounds {
				r.samples = r.samples[:0]
				for i := range per {
					r.samples = append(r.samples, pendingSample{t: int64(k*per + i), v: float64(k)})
				}
				c.commit(r)
				if r.err != nil || r.stored != per {
					t.Errorf("session %d round %d: stored %d, err %v", s, k, r.stored, r.err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for s := range sessions {
		got := mem.Get(fmt.Sprintf("{__name__=%q}", fmt.Sprintf("s%d", s)))
		if len(got) != rounds*per {
			t.Fatalf("session %d: %d samples stored, want %d", s, len(got), rounds*per)
		}
		for i, smp := range got {
			if smp.T != int64(i) {
				t.Fatalf("session %d: sample %d has timestamp %d", s, i, smp.T)
			}
		}
	}
	t.Logf("%d batches in %d commits", sessions*rounds, mem.Commits())
}

// TestCommitterFullGroupFreesAPlace: a leader whose group is full at
// maxGroupSamples hands the rest of the queue to a free place at once.
func TestCommitterFullGroupFreesAPlace(t *testing.T) {
	mem := store.NewMemory()
	sink := &gateSink{Sink: mem, gate: make(chan struct{}), entered: make(chan struct{}, 8)}
	c := newTestCommitter(sink, 2)
	c.mu.Lock()
	c.leaders = 2 // both places busy: the requests below queue
	c.mu.Unlock()
	big, rest := testReq("big", maxGroupSamples), testReq("rest", 1)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); c.commit(big) }()
	waitQueued(t, c, 1)
	go func() { defer wg.Done(); c.commit(rest) }()
	waitQueued(t, c, 2)
	c.mu.Lock()
	c.leaders = 0 // the two leaders finish without anything left to hand on
	head := c.queue[0]
	c.dequeueLocked(1)
	c.leaders = 1
	c.mu.Unlock()
	head.wake <- false // as a finishing leader would: big leads; its group is full
	<-sink.entered
	<-sink.entered // rest leads too, in the place left free, while big commits
	sink.gate <- struct{}{}
	sink.gate <- struct{}{}
	wg.Wait()
	if big.err != nil || rest.err != nil || mem.Commits() != 2 {
		t.Fatalf("errors %v, %v; %d commits, want 2", big.err, rest.err, mem.Commits())
	}
}

// TestCommitterKnownSeriesFirst: while a leader commits, a request that
// creates no series is queued ahead of those that do, and a group takes
// at most maxGroupFresh new series beyond its leader's: here the known
// request and one fresh one commit together, the other fresh one alone.
func TestCommitterKnownSeriesFirst(t *testing.T) {
	mem := store.NewMemory()
	sink := &gateSink{Sink: mem, gate: make(chan struct{}), entered: make(chan struct{}, 8)}
	c := newTestCommitter(sink, 1)
	lead := testReq("lead", 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); c.commit(lead) }()
	<-sink.entered // lead commits alone and waits in Commit
	f1, f2, known := testReq("f1", 1), testReq("f2", 1), testReq("known", 1)
	f1.fresh, f2.fresh = maxGroupFresh, 1
	for i, r := range []*commitReq{f1, f2, known} {
		wg.Add(1)
		go func() { defer wg.Done(); c.commit(r) }()
		waitQueued(t, c, i+1)
	}
	c.mu.Lock()
	order := slices.Clone(c.queue)
	c.mu.Unlock()
	if !slices.Equal(order, []*commitReq{known, f1, f2}) {
		t.Fatalf("queue order: known first %v, f1 second %v", order[0] == known, order[1] == f1)
	}
	sink.gate <- struct{}{} // lead's group commits; known leads known and f1
	<-sink.entered
	sink.gate <- struct{}{} // f2 would pass maxGroupFresh: it leads the next group
	<-sink.entered
	sink.gate <- struct{}{}
	wg.Wait()
	if got := mem.Commits(); got != 3 {
		t.Fatalf("%d commits, want 3 (lead; known and f1; f2)", got)
	}
	for _, r := range []*commitReq{lead, f1, f2, known} {
		if r.err != nil || r.stored != 1 {
			t.Errorf("stored %d, err %v", r.stored, r.err)
		}
	}
}

// TestCommitterKeepsAPlaceForKnownSeries: with two places, a group that
// creates series takes one at most: a second request creating series
// waits though a place is free, and a request of known series takes that
// place at once, not behind head series being created (issue 17's series
// flood).
func TestCommitterKeepsAPlaceForKnownSeries(t *testing.T) {
	mem := store.NewMemory()
	sink := &gateSink{Sink: mem, gate: make(chan struct{}), entered: make(chan struct{}, 8)}
	c := newTestCommitter(sink, 2)
	f1, f2, known := testReq("f1", 1), testReq("f2", 1), testReq("known", 1)
	f1.fresh, f2.fresh = 10, 10
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); c.commit(f1) }()
	<-sink.entered // f1 creates its series and waits in Commit
	wg.Add(1)
	go func() { defer wg.Done(); c.commit(f2) }()
	waitQueued(t, c, 1) // f2 waits: the free place is kept
	wg.Add(1)
	go func() { defer wg.Done(); c.commit(known) }()
	<-sink.entered // known commits beside f1
	c.mu.Lock()
	queued := slices.Clone(c.queue)
	c.mu.Unlock()
	if len(queued) != 1 || queued[0] != f2 {
		t.Fatalf("queue %d requests, f2 first %v", len(queued), len(queued) > 0 && queued[0] == f2)
	}
	sink.gate <- struct{}{} // one of the two commits ends
	sink.gate <- struct{}{} // the other
	<-sink.entered          // f2, promoted when f1's place freed
	sink.gate <- struct{}{}
	wg.Wait()
	for _, r := range []*commitReq{f1, f2, known} {
		if r.err != nil || r.stored != 1 {
			t.Errorf("stored %d, err %v", r.stored, r.err)
		}
	}
	if c.leaders != 0 || c.fresh != 0 {
		t.Errorf("places left taken: %d leaders, %d creating series", c.leaders, c.fresh)
	}
}

// aliasedDict is a dictionary of m under ids 0 and 1 (one series defined
// twice) and of o under id 2.
func aliasedDict() *seriesDict {
	d := &seriesDict{}
	m, o := labels.FromStrings("__name__", "m"), labels.FromStrings("__name__", "o")
	d.add(store.Series{Labels: m}, m.Hash())
	d.add(store.Series{Labels: m.Copy()}, m.Hash())
	d.add(store.Series{Labels: o}, o.Hash())
	return d
}

func aliasedReq(d *seriesDict, samples ...pendingSample) *commitReq {
	r := newCommitReq()
	r.series, r.samples, r.future = d, samples, 1<<62
	return r
}

func sampleTimes(ss []store.Sample) []int64 {
	var ts []int64
	for _, s := range ss {
		ts = append(ts, s.T)
	}
	return ts
}

// TestCommitterAliasedSeries commits samples of one series under two ids:
// at different timestamps both are stored, at one timestamp (in the same
// request, or the last committed) the second is a duplicate, not
// appended.
func TestCommitterAliasedSeries(t *testing.T) {
	mem := store.NewMemory()
	c := newTestCommitter(mem, 1)
	d := aliasedDict()
	r := aliasedReq(d, pendingSample{id: 0, t: 1}, pendingSample{id: 1, t: 2}, pendingSample{id: 1, t: 1},
		pendingSample{id: 2, t: 1}, pendingSample{id: 2, t: 1})
	mem0 := d.memory()
	c.commit(r)
	if r.err != nil || r.stored != 4 || r.duplicate != 1 {
		t.Fatalf("stored %d, duplicate %d, err %v; want 4 stored (o's repeat is the TSDB's to judge), 1 duplicate",
			r.stored, r.duplicate, r.err)
	}
	if got := d.memory(); got != mem0+dictAliasBytes {
		t.Fatalf("dictionary memory %d after m's first commit, was %d: want its committed timestamp counted (%d bytes)",
			got, mem0, dictAliasBytes)
	}
	if got := sampleTimes(mem.Get(`{__name__="m"}`)); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("m stored at %v, want 1 and 2", got)
	}
	// The next request: 2 again is the series' last committed timestamp;
	// 1 is older and not known here (the TSDB's to judge); 3 is new.
	r2 := aliasedReq(d, pendingSample{id: 0, t: 2}, pendingSample{id: 1, t: 3}, pendingSample{id: 0, t: 3})
	c.commit(r2)
	if r2.err != nil || r2.stored != 1 || r2.duplicate != 2 {
		t.Fatalf("next request: stored %d, duplicate %d, err %v; want 1 and 2", r2.stored, r2.duplicate, r2.err)
	}
	if got := sampleTimes(mem.Get(`{__name__="m"}`)); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Fatalf("m stored at %v, want 1, 2 and 3", got)
	}
}

// failingAppendSink fails the transaction at the failAt-th Append.
type failingAppendSink struct {
	store.Sink
	failAt, n int
}

func (s *failingAppendSink) Appender() store.Appender {
	return &failingAppender{Appender: s.Sink.Appender(), s: s}
}

type failingAppender struct {
	store.Appender
	s *failingAppendSink
}

func (a *failingAppender) Append(sr *store.Series, t int64, v float64) error {
	if a.s.n++; a.s.n == a.s.failAt {
		return errors.New("append failed")
	}
	return a.Appender.Append(sr, t, v)
}

// TestCommitterAliasedResentAfterFailure fails a request holding samples
// of an aliased series, at Commit and at an Append: nothing of it is
// remembered, and the same request resent is stored, the repeat at one
// timestamp counted as a duplicate once.
func TestCommitterAliasedResentAfterFailure(t *testing.T) {
	boom := errors.New("disk on fire")
	for _, at := range []string{"commit", "append"} {
		t.Run(at, func(t *testing.T) {
			mem := store.NewMemory()
			sink := &failingAppendSink{Sink: mem}
			c := newTestCommitter(sink, 1)
			d := aliasedDict()
			r := aliasedReq(d, pendingSample{id: 0, t: 5}, pendingSample{id: 1, t: 5}, pendingSample{id: 1, t: 6})
			if at == "commit" {
				mem.FailCommits(boom)
			} else {
				sink.failAt = 2 // m's sample at 6: the one at 5 was appended, its repeat a duplicate
			}
			c.commit(r)
			if r.err == nil || r.stored != 0 || r.duplicate != 0 {
				t.Fatalf("failed: stored %d, duplicate %d, err %v; want 0, 0 and an error", r.stored, r.duplicate, r.err)
			}
			mem.FailCommits(nil)
			c.commit(r)
			if r.err != nil || r.stored != 2 || r.duplicate != 1 {
				t.Fatalf("resent: stored %d, duplicate %d, err %v; want 2 and 1", r.stored, r.duplicate, r.err)
			}
			if got := sampleTimes(mem.Get(`{__name__="m"}`)); !slices.Equal(got, []int64{5, 6}) {
				t.Fatalf("m stored at %v, want 5 and 6", got)
			}
		})
	}
}
