package agent

import (
	"sync"
	"sync/atomic"
	"time"

	"hawk/internal/agent/inputs"
	"hawk/internal/wire"
)

// inputSlot holds the agent's inputs runner, which a reload replaces while
// the agent runs (the connection and the spool are untouched), and the
// reload counts.
type inputSlot struct {
	mu       sync.Mutex
	r        *inputs.Runner
	running  bool
	reloadOK atomic.Uint64
	reloadKO atomic.Uint64
	lastOK   atomic.Bool
}

// SetInputs replaces the inputs with r (nil: none). The samples the old
// inputs gathered and the collect loop has not taken yet move to r.
func (a *Agent) SetInputs(r *inputs.Runner) {
	s := &a.inputs
	s.mu.Lock()
	old := s.r
	s.r = r
	if s.running && r != nil {
		r.Start()
	}
	s.mu.Unlock()
	if old != nil && old != r {
		old.Stop()
		if r != nil {
			r.Adopt(old)
		}
	}
}

// ReloadDone records the outcome of a configuration reload for the agent's
// own series.
func (a *Agent) ReloadDone(ok bool) {
	if ok {
		a.inputs.reloadOK.Add(1)
	} else {
		a.inputs.reloadKO.Add(1)
	}
	a.inputs.lastOK.Store(ok)
}

func (a *Agent) startInputs() {
	s := &a.inputs
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running = true
	s.lastOK.Store(true)
	if s.r != nil {
		s.r.Start()
	}
}

func (a *Agent) stopInputs() {
	s := &a.inputs
	s.mu.Lock()
	r := s.r
	s.running = false
	s.mu.Unlock()
	if r != nil {
		r.Stop()
	}
}

// gatherInputs adds what the inputs gathered since the last collection, and
// the reload counts, to the batch.
func (a *Agent) gatherInputs(b *builder, t time.Time) {
	s := &a.inputs
	s.mu.Lock()
	r := s.r
	s.mu.Unlock()
	dropped := 0.0
	if r != nil {
		r.Drain(b.addInput)
		dropped = float64(r.Dropped())
	}
	b.counter("hawk_input_samples_dropped_total", "Input samples dropped at the agent's cap on samples waiting for a collection.", t, dropped)
	b.counter("hawk_config_reloads_total", "Configuration reloads (SIGHUP), by result.", t, float64(s.reloadOK.Load()), wire.Label{Name: "result", Value: "success"})
	b.counter("hawk_config_reloads_total", "Configuration reloads (SIGHUP), by result.", t, float64(s.reloadKO.Load()), wire.Label{Name: "result", Value: "failure"})
	ok := 0.0
	if s.lastOK.Load() {
		ok = 1
	}
	b.gauge("hawk_config_last_reload_successful", "1 if the last configuration reload succeeded (or none was tried).", t, ok)
}

// addInput appends one input sample: its own labels (with the agent's job
// and instance if it is the agent's own), then the static labels. A
// target's sample with no static labels to add keeps its own label slice,
// which the inputs never change (see inputs.Sample): not copying the
// labels of every scraped series saves a copy of them all per collection.
func (b *builder) addInput(s *inputs.Sample) {
	if !s.Own && len(b.extra) == 2 {
		b.def(s.Name, s.Help, s.Type, s.Labels, s.T, s.V)
		return
	}
	start := len(b.labels)
	b.labels = append(b.labels, s.Labels...)
	if s.Own {
		b.labels = append(b.labels, b.extra...)
	} else {
		b.labels = append(b.labels, b.extra[:len(b.extra)-2]...) // static labels; job and instance are the target's
	}
	b.addDef(s.Name, s.Help, s.Type, start, s.T, s.V)
}
