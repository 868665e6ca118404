package server

import (
	"github.com/prometheus/client_golang/prometheus"

	"hawk/internal/procs"
)

// Defining series is what makes a batch costly: each definition's labels
// are built, hashed, checked against the agent's and the server's series
// guards, and copied, and a flood of new agent ids sends thousands in
// every batch. Run by a hundred sessions at once, that work keeps a
// hundred goroutines runnable, contending for the guards' locks, and an
// agent whose batch only carries samples of known series waits behind
// all of them for a processor: under such a flood a well-behaved agent's
// ACK p99 went from 0.6 to 50-150 ms while the server used a sixth of one
// core. So sessions take turns: a batch that defines series decodes and
// defines them only in one of CPUs-1 places (procs.CPUs, at least one), and
// those waiting for a place are blocked, not runnable. Batches that define
// nothing take no place: the one kept is theirs, as in the committer
// (commit.go). The wait is bounded by the others' work, which is bounded
// by the batch and dictionary limits; nothing is held while waiting.

// Within its place a batch's definitions, and a commit's samples when it
// creates series, still run for milliseconds on a processor (2,048 new
// head series take tens of them), and Go preempts a running goroutine only
// after 10 ms: an agent's session made runnable meanwhile waits for a
// processor that long if the other ones are busy too. So those loops give
// their processor up (runtime.Gosched) every yieldEvery series; the cost
// is some 100 ns a time, under 1% of the work between.
const yieldEvery = 64

// definingPlaces is the turnstile of series-defining batches.
type definingPlaces struct {
	places  chan struct{}    // a token per place taken
	waiting prometheus.Gauge // sessions waiting in enter
}

func newDefiningPlaces(waiting prometheus.Gauge) *definingPlaces {
	return &definingPlaces{places: make(chan struct{}, max(procs.CPUs()-1, 1)), waiting: waiting}
}

// enter waits for a place; leave gives it back.
func (d *definingPlaces) enter() {
	select {
	case d.places <- struct{}{}:
		return
	default:
	}
	d.waiting.Inc()
	d.places <- struct{}{}
	d.waiting.Dec()
}

func (d *definingPlaces) leave() { <-d.places }
