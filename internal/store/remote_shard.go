package store

import (
	"errors"
	"slices"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
)

// remotePart is the share of one Commit's samples that goes to one shard.
// The Commit's goroutine fills it before handing it over; from then on only
// the shard's goroutine touches it.
type remotePart struct {
	shard    *remoteShard
	samples  []remoteSample // in commit order
	arrived  time.Time      // when Commit started; the flush deadline counts from it
	deadline time.Time      // after this no new attempt is made for it
	res      chan<- error   // gets exactly one answer; buffered by Commit

	off      int  // samples[:off] have been put into requests
	left     int  // samples not yet settled (accepted or refused for good)
	answered bool // res has its answer; the rest of samples is dropped
}

// answer settles the part once.
func (p *remotePart) answer(m *remoteMetrics, err error) {
	if p.answered {
		return
	}
	p.answered = true
	m.pending.Sub(float64(len(p.samples)))
	if err != nil {
		m.samplesFailed.Add(float64(p.left))
	}
	p.res <- err
}

// span is a run of one part's samples inside a request.
type span struct {
	p *remotePart
	n int
}

// remoteShard batches the parts of many Commits into requests and sends
// them one at a time, so the samples of a series (always the same shard)
// reach the remote in commit order. Only its run goroutine uses its fields.
type remoteShard struct {
	r  *Remote
	in chan *remotePart // parts handed over by Commits; closed by Close

	queue  []*remotePart // received and not fully put into requests, oldest first
	queued int           // samples in queue not yet put into requests

	// Reused between requests.
	spans    []span
	req      prompb.WriteRequest
	labels   []prompb.Label  // backing array of the requests' label sets
	samples  []prompb.Sample // backing array of the requests' samples
	seriesLs []labels.Labels // labels of req.Timeseries[i]
	seriesOf []int           // index in req.Timeseries of the request's k-th sample
	counts   []int           // samples of req.Timeseries[i]
	index    map[uint64]int  // label hash → index in req.Timeseries
	pb       []byte          // marshalled request
}

func newRemoteShard(r *Remote) *remoteShard {
	return &remoteShard{r: r, in: make(chan *remotePart, 64), index: map[uint64]int{}}
}

// run receives parts and sends a request when MaxSamplesPerSend samples are
// queued or the oldest queued part has waited FlushDeadline. It returns
// after Close, having answered every part it received.
func (sh *remoteShard) run() {
	defer sh.r.wg.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		if sh.r.ctx.Err() != nil {
			sh.abort()
			return
		}
		if len(sh.queue) == 0 {
			select {
			case p, ok := <-sh.in:
				if !ok {
					return
				}
				sh.add(p)
			case <-sh.r.ctx.Done():
				sh.abort()
				return
			}
			continue
		}
		if wait := time.Until(sh.queue[0].arrived.Add(sh.r.opts.FlushDeadline)); wait > 0 && sh.queued < sh.r.opts.MaxSamplesPerSend {
			timer.Reset(wait)
			select {
			case p, ok := <-sh.in:
				timer.Stop()
				if !ok {
					sh.abort()
					return
				}
				sh.add(p)
				continue
			case <-timer.C:
			case <-sh.r.ctx.Done():
				sh.abort()
				return
			}
		}
		sh.drain()
		sh.sendOne()
	}
}

func (sh *remoteShard) add(p *remotePart) {
	p.left = len(p.samples)
	sh.queue = append(sh.queue, p)
	sh.queued += len(p.samples)
	sh.r.metrics.pending.Add(float64(len(p.samples)))
}

// drain takes the parts already waiting in the channel, up to a full
// request, without blocking.
func (sh *remoteShard) drain() {
	for sh.queued < sh.r.opts.MaxSamplesPerSend {
		select {
		case p, ok := <-sh.in:
			if !ok {
				return
			}
			sh.add(p)
		default:
			return
		}
	}
}

// abort answers every part received, then every part still in the channel
// until Close closes it.
func (sh *remoteShard) abort() {
	m := sh.r.metrics
	for _, p := range sh.queue {
		p.answer(m, ErrRemoteClosed)
	}
	sh.queue, sh.queued = nil, 0
	for p := range sh.in {
		sh.add(p)
		p.answer(m, ErrRemoteClosed)
	}
	sh.queue, sh.queued = nil, 0
}

// sendOne sends one request with up to MaxSamplesPerSend samples from the
// head of the queue and settles their parts. A part past its deadline is
// failed without being sent.
func (sh *remoteShard) sendOne() {
	m := sh.r.metrics
	now := time.Now()
	sh.spans = sh.spans[:0]
	n := 0
	for len(sh.queue) > 0 && n < sh.r.opts.MaxSamplesPerSend {
		p := sh.queue[0]
		rest := len(p.samples) - p.off
		if p.answered || !now.Before(p.deadline) {
			p.answer(m, errors.New("retry time exceeded while queued"))
			sh.queued -= rest
			sh.queue = sh.queue[1:]
			continue
		}
		k := min(rest, sh.r.opts.MaxSamplesPerSend-n)
		sh.spans = append(sh.spans, span{p, k})
		p.off += k
		n += k
		sh.queued -= k
		if p.off == len(p.samples) {
			sh.queue = sh.queue[1:]
		}
	}
	if n == 0 {
		return
	}
	spans := sh.spans
	res := sh.r.deliver(sh.encode(spans), n, deadline(spans))
	if res.rejected != nil && spans[0].p != spans[len(spans)-1].p {
		// The request mixed several Commits, and a Prometheus receiver
		// refuses a whole request for one stale sample: send each Commit's
		// share alone so that only the offending ones are dropped.
		for i := range spans {
			one := spans[i : i+1]
			sh.settle(one, sh.r.deliver(sh.encode(one), one[0].n, one[0].p.deadline))
		}
	} else {
		sh.settle(spans, res)
	}
	clear(sh.spans) // drop the part pointers
	if len(sh.queue) == 0 {
		sh.queue = sh.queue[:0:0] // let the backing array go
	}
}

// settle records the result of the request that carried spans.
func (sh *remoteShard) settle(spans []span, res remoteResult) {
	m := sh.r.metrics
	if a := res.rejected; a != nil {
		n := 0
		for _, s := range spans {
			n += s.n
		}
		m.samplesRejected.Add(float64(n))
		sh.r.log.Warn("remote write refused samples; they are dropped", "remote", sh.r.opts.Name,
			"status", a.status, "samples", n, "err", a.err)
	}
	for _, s := range spans {
		if res.err != nil {
			s.p.answer(m, res.err)
			continue
		}
		s.p.left -= s.n
		if s.p.left == 0 {
			s.p.answer(m, nil)
		}
	}
}

// deadline is the earliest deadline of the parts in spans.
func deadline(spans []span) time.Time {
	d := spans[0].p.deadline
	for _, s := range spans[1:] {
		if s.p.deadline.Before(d) {
			d = s.p.deadline
		}
	}
	return d
}

// encode builds the WriteRequest of spans, one TimeSeries per
// series with its samples in order, and returns it marshalled and snappy
// compressed in a new buffer: the HTTP transport may still read a request
// body after the response arrived, so the body is not reused.
func (sh *remoteShard) encode(spans []span) []byte {
	clear(sh.index)
	ts := sh.req.Timeseries[:0]
	sh.labels, sh.seriesLs, sh.seriesOf, sh.counts = sh.labels[:0], sh.seriesLs[:0], sh.seriesOf[:0], sh.counts[:0]
	// Pass 1: find each sample's series, count the samples per series.
	for _, s := range spans {
		for _, smp := range s.p.samples[s.p.off-s.n : s.p.off] {
			i, ok := sh.index[smp.hash]
			if !ok || !labels.Equal(sh.seriesLs[i], smp.ls) {
				// New series; a hash collision (never seen) gets an unindexed
				// TimeSeries per sample, which the protocol allows.
				i = len(ts)
				if !ok {
					sh.index[smp.hash] = i
				}
				start := len(sh.labels)
				smp.ls.Range(func(l labels.Label) {
					sh.labels = append(sh.labels, prompb.Label{Name: l.Name, Value: l.Value})
				})
				ts = append(ts, prompb.TimeSeries{Labels: sh.labels[start:len(sh.labels):len(sh.labels)]})
				sh.seriesLs = append(sh.seriesLs, smp.ls)
				sh.counts = append(sh.counts, 0)
			}
			sh.counts[i]++
			sh.seriesOf = append(sh.seriesOf, i)
		}
	}
	// Pass 2: carve each series' samples out of one array, then fill them.
	sh.samples = slices.Grow(sh.samples[:0], len(sh.seriesOf))[:len(sh.seriesOf)]
	off := 0
	for i, c := range sh.counts {
		ts[i].Samples = sh.samples[off : off : off+c]
		off += c
	}
	k := 0
	for _, s := range spans {
		for _, smp := range s.p.samples[s.p.off-s.n : s.p.off] {
			i := sh.seriesOf[k]
			ts[i].Samples = append(ts[i].Samples, prompb.Sample{Value: smp.v, Timestamp: smp.t})
			k++
		}
	}
	sh.req.Timeseries = ts
	size := sh.req.Size()
	if cap(sh.pb) < size {
		sh.pb = make([]byte, size)
	}
	n, err := sh.req.MarshalToSizedBuffer(sh.pb[:size])
	if err != nil {
		panic("store: marshal remote write request: " + err.Error()) // only on a size mismatch
	}
	body := snappy.Encode(nil, sh.pb[size-n:size])
	// Drop the label strings so that the series can be collected.
	clear(sh.req.Timeseries[:cap(sh.req.Timeseries)])
	clear(sh.labels)
	clear(sh.seriesLs)
	return body
}
