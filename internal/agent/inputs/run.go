package inputs

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"hawk/internal/wire"
)

// Sample is one value an input gathered.
type Sample struct {
	Name, Help string
	Type       wire.MetricType
	// Labels of the series. With Own they lack job and instance, which
	// are the agent's; otherwise they are complete (a scrape target's own
	// job and instance). A label slice is never changed once a Sample
	// holds it: the agent refers to it until the collection is spooled.
	Labels []wire.Label
	Own    bool
	T      int64 // Unix milliseconds
	V      float64
}

// input is one scrape target, command or process-group set.
type input interface {
	// id names the input in logs and in the input label of hawk_input_*.
	id() string
	kind() string
	every() time.Duration
	// gather runs once and returns its samples; now is the start time.
	gather(ctx context.Context, now time.Time) []Sample
	close()
}

// Runner runs a configuration's inputs.
type Runner struct {
	inputs     []input
	maxSamples int
	log        *slog.Logger

	mu      sync.Mutex
	pending [][]Sample
	npend   int

	dropped   atomic.Uint64 // samples dropped at the agent-wide cap
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	startOnce sync.Once
}

// Len is the number of inputs configured.
func (r *Runner) Len() int { return len(r.inputs) }

// Start launches one goroutine per input. Stop ends them.
func (r *Runner) Start() {
	r.startOnce.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		r.cancel = cancel
		for _, in := range r.inputs {
			r.wg.Add(1)
			go func() { defer r.wg.Done(); r.loop(ctx, in) }()
		}
	})
}

// Stop ends the inputs' goroutines and waits for them; a command running
// is killed. Samples gathered and not drained stay for Drain.
func (r *Runner) Stop() {
	if r.cancel != nil {
		r.cancel()
	}
	r.wg.Wait()
	for _, in := range r.inputs {
		in.close()
	}
}

func (r *Runner) loop(ctx context.Context, in input) {
	t := time.NewTicker(in.every())
	defer t.Stop()
	for {
		s := in.gather(ctx, time.Now())
		if ctx.Err() != nil {
			return
		}
		r.put(s)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// put queues one result for the collect loop unless that would pass the
// agent-wide cap.
func (r *Runner) put(s []Sample) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.npend+len(s) > r.maxSamples {
		r.dropped.Add(uint64(len(s)))
		r.log.Warn("input samples dropped: the agent's cap on waiting samples is reached", "samples", len(s), "cap", r.maxSamples)
		return
	}
	r.pending = append(r.pending, s)
	r.npend += len(s)
}

// Drain hands every waiting sample to fn and forgets it.
func (r *Runner) Drain(fn func(*Sample)) {
	r.mu.Lock()
	p := r.pending
	r.pending, r.npend = nil, 0
	r.mu.Unlock()
	for _, s := range p {
		for i := range s {
			fn(&s[i])
		}
	}
}

// Adopt takes over the samples old gathered and did not hand out yet, and
// its count of drops: a reload loses nothing gathered.
func (r *Runner) Adopt(old *Runner) {
	old.mu.Lock()
	p := old.pending
	old.pending, old.npend = nil, 0
	old.mu.Unlock()
	r.dropped.Add(old.dropped.Load())
	for _, s := range p {
		r.put(s)
	}
}

// Dropped is the number of samples dropped at the agent-wide cap.
func (r *Runner) Dropped() uint64 { return r.dropped.Load() }

func nilLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
