package agent

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"hawk/internal/collect"
	"hawk/internal/wire"
)

// The agent gives up and exits non-zero, so that its supervisor restarts
// it (and Open recovers the spool from scratch), once maxSpoolFailures
// collections in a row could not be spooled and the first of them is
// spoolFailWindow old: 10 minutes at any interval (30 collections at 1 s,
// 60 at the default 10 s). A full disk fails each Append; the spool
// recovers by itself as soon as space is freed (see spool's "Write
// errors"), so the exit is for a disk that stays broken.
const maxSpoolFailures = 30

// spoolFailWindow is a variable for tests only.
var spoolFailWindow = 10 * time.Minute

// diskStats count the agent's storage trouble, for its self-metrics.
type diskStats struct {
	spoolFailures atomic.Uint64 // collections not spooled (write or fsync error)
	consecutive   atomic.Uint64 // of those, in a row up to now
	firstFailure  time.Time     // of the current row; collect loop only
	ackFailures   atomic.Uint64 // acknowledgements not persisted (write error); retried with the next
	tooOld        atomic.Uint64 // spooled samples not sent: older than the server's MaxSampleAge
}

// collectLoop collects at times aligned to the interval, each agent at its
// own offset within it, and appends each collection to the spool. It never
// waits on the network. It returns an error only after maxSpoolFailures
// collections in a row could not be spooled.
func (a *Agent) collectLoop(ctx context.Context) error {
	b := newBuilder(a.cfg)
	var rec []byte
	var enc wire.RecordEncoder
	offset := time.Duration(a.hash64("schedule") % uint64(a.cfg.Interval))
	a.log.Info("collecting", "interval", a.cfg.Interval, "offset_ms", offset.Milliseconds())
	sl := newSleeper()
	defer sl.close()
	next := nextSlot(a.cfg.Now(), a.cfg.Interval, offset)
	for {
		if !sl.sleep(ctx, next.Sub(a.cfg.Now())) {
			return nil
		}
		start := a.cfg.Now()
		b.reset()
		a.set.Collect(func(m collect.Metric) { b.add(&m, next) })
		a.selfMetrics(b, next)
		a.gatherInputs(b, next)
		a.stats.collectNs.Store(int64(a.cfg.Now().Sub(start)))
		var err error
		if rec, err = enc.Append(rec[:0], &b.batch); err != nil {
			a.log.Error("collection not encoded", "err", err)
		} else if seq, err := a.spool.Append(rec); err != nil {
			if err := a.spoolFailed("collection not spooled", err); err != nil {
				return err
			}
		} else if err := a.syncSpool(seq); err != nil {
			if err := a.spoolFailed("spool not synced", err); err != nil {
				return err
			}
		} else {
			a.stats.disk.consecutive.Store(0)
		}
		if cap(rec) > 1<<20 {
			rec, enc = nil, wire.RecordEncoder{}
		}
		next = followingSlot(next, a.cfg.Now(), a.cfg.Interval, offset)
	}
}

// spoolFailed counts a collection that could not be spooled and returns an
// error once maxSpoolFailures failed in a row. What is already in the
// spool is still sent meanwhile.
func (a *Agent) spoolFailed(what string, err error) error {
	a.stats.disk.spoolFailures.Add(1)
	n := a.stats.disk.consecutive.Add(1)
	now := a.cfg.Now()
	if n == 1 {
		a.stats.disk.firstFailure = now
	}
	since := now.Sub(a.stats.disk.firstFailure)
	a.log.Error(what+"; the spool recovers by itself once the disk has space", "err", err, "in_a_row", n,
		"for", since.Round(time.Second), "exit_after", spoolFailWindow)
	if n >= maxSpoolFailures && since >= spoolFailWindow {
		return fmt.Errorf("agent: %d collections in a row could not be spooled, last: %w", n, err)
	}
	return nil
}

// syncSpool makes batch seq and those before it survive power loss while
// the server has not acknowledged the previous batch (it is away or behind);
// once the server acknowledges, the batches are durable there. With
// SpoolSyncAlways the spool fsyncs each Append itself.
func (a *Agent) syncSpool(seq uint64) error {
	if a.cfg.SpoolSyncAlways || a.spool.Stats().LastAcked+1 >= seq {
		return nil
	}
	return a.spool.Sync()
}

// maxLate is how many intervals late a collection may be and still be made
// for its own slot. A collection that overran its interval (a slow disk, a
// starved CPU) is followed at once by the next one, stamped with its slot,
// so a momentary stall leaves no gap; after a longer stop (the process was
// suspended) the missed slots are skipped rather than collected in a burst
// of identical readings.
const maxLate = 2

// followingSlot returns the slot after prev, or, if that one is more than
// maxLate intervals in the past, the next slot after now.
func followingSlot(prev, now time.Time, interval, offset time.Duration) time.Time {
	next := prev.Add(interval)
	if now.Sub(next) > maxLate*interval {
		return nextSlot(now, interval, offset)
	}
	return next
}

// nextSlot returns the first time after now that is offset past a multiple
// of interval.
func nextSlot(now time.Time, interval, offset time.Duration) time.Time {
	t := now.Truncate(interval).Add(offset)
	for !t.After(now) {
		t = t.Add(interval)
	}
	return t
}

// builder turns collected metrics into a batch: one definition per metric,
// with the job, instance and static labels a Prometheus scrape would add.
type builder struct {
	batch  wire.Batch
	extra  []wire.Label // job, instance, static labels
	labels []wire.Label // backing store for the batch's label slices
}

func newBuilder(cfg Config) *builder {
	b := &builder{}
	b.extra = append(b.extra, cfg.Labels...)
	b.extra = append(b.extra, wire.Label{Name: "job", Value: cfg.Job}, wire.Label{Name: "instance", Value: cfg.Instance})
	return b
}

func (b *builder) reset() {
	b.batch.Reset()
	b.labels = b.labels[:0]
}

// add appends one metric. The collector's label slice is only valid during
// the call, so labels are copied into the builder's own backing store.
func (b *builder) add(m *collect.Metric, t time.Time) {
	start := len(b.labels)
	for _, l := range m.Labels {
		if l.Name == "job" || l.Name == "instance" {
			continue // the scrape's labels win, as with honor_labels: false
		}
		b.labels = append(b.labels, wire.Label{Name: l.Name, Value: l.Value})
	}
	b.labels = append(b.labels, b.extra...)
	b.addDef(m.Name, m.Help, wire.MetricType(m.Type), start, t.UnixMilli(), m.Value)
}

func (b *builder) addDef(name, help string, typ wire.MetricType, labelStart int, ms int64, v float64) {
	// The slice is cut with a full slice expression, so a later append to
	// b.labels that reallocates leaves earlier definitions intact.
	b.def(name, help, typ, b.labels[labelStart:len(b.labels):len(b.labels)], ms, v)
}

// def appends a definition with labels ls, which must not change until
// the batch is encoded, and its sample.
func (b *builder) def(name, help string, typ wire.MetricType, ls []wire.Label, ms int64, v float64) {
	b.batch.Defs = append(b.batch.Defs, wire.SeriesDef{Type: typ, Name: name, Help: help, Labels: ls})
	b.batch.Samples = append(b.batch.Samples, wire.Sample{ID: uint32(len(b.batch.Defs) - 1), T: ms, V: v})
}

// gauge adds one of the agent's own series.
func (b *builder) gauge(name, help string, t time.Time, v float64, labels ...wire.Label) {
	start := len(b.labels)
	b.labels = append(b.labels, labels...)
	b.labels = append(b.labels, b.extra...)
	b.addDef(name, help, wire.TypeGauge, start, t.UnixMilli(), v)
}

func (b *builder) counter(name, help string, t time.Time, v float64, labels ...wire.Label) {
	start := len(b.labels)
	b.labels = append(b.labels, labels...)
	b.labels = append(b.labels, b.extra...)
	b.addDef(name, help, wire.TypeCounter, start, t.UnixMilli(), v)
}
