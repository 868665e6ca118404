package server

import (
	"math"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"

	"hawk/internal/store"
)

func floatFromBits(b uint64) float64 { return math.Float64frombits(b) }

// liveSet is an agent's server-written series: up{job,instance},
// hawk_agent_up, _last_seen_timestamp_seconds, _clock_offset_seconds,
// _info and _outages_total by cause, built for one identity (key). When
// the identity changes the old set gets staleness markers and a new one is
// built; its series count against the agent's series guard.
type liveSet struct {
	key    string
	series []store.Series
}

const (
	liveUp = iota
	liveAgentUp
	liveLastSeen
	liveOffset
	liveInfo
	liveOutages // nCauses series from here
	nLive       = liveOutages + nCauses
)

func liveKey(st *AgentStatus) string {
	return st.Hostname + "\xff" + st.Instance + "\xff" + st.Job + "\xff" + st.Version + "\xff" + st.Protocol
}

func newLiveSet(st *AgentStatus) *liveSet {
	base := []string{"agent_id", st.AgentID, "hostname", st.Hostname, "instance", st.Instance, "job", st.Job}
	mk := func(name string, ls []string, extra ...string) store.Series {
		b := labels.NewScratchBuilder(8)
		b.Add(model.MetricNameLabel, name)
		all := append(append([]string{}, ls...), extra...)
		for i := 0; i+1 < len(all); i += 2 {
			if all[i+1] != "" {
				b.Add(all[i], all[i+1])
			}
		}
		b.Sort()
		return store.Series{Labels: b.Labels()}
	}
	s := &liveSet{key: liveKey(st), series: make([]store.Series, nLive)}
	s.series[liveUp] = mk("up", []string{"instance", st.Instance, "job", st.Job})
	s.series[liveAgentUp] = mk("hawk_agent_up", base)
	s.series[liveLastSeen] = mk("hawk_agent_last_seen_timestamp_seconds", base)
	s.series[liveOffset] = mk("hawk_agent_clock_offset_seconds", base)
	// No remote address here: each reconnect comes from a new port and
	// would make a new series; /api/v1/agents shows the address.
	s.series[liveInfo] = mk("hawk_agent_info", base, "version", st.Version, "protocol", st.Protocol)
	for i, c := range causeNames {
		s.series[liveOutages+i] = mk("hawk_agent_outages_total", base, "cause", c)
	}
	return s
}

// maxLiveSeries is how many distinct liveness series one agent may have
// within two SeriesWindows: two whole sets (a new hostname or instance
// makes a new set), or one set and 9 new versions (each a new
// hawk_agent_info). Further
// changes are refused and counted (errors{liveness_series_limit}) until
// the window forgets.
const maxLiveSeries = 2 * nLive

// livenessLoop judges agents up or down every watch interval and writes
// the change at once, writes every agent's hawk_agent_* series every
// LivenessInterval, and persists the fleet when it changed, until
// Shutdown, and once more on the way out.
func (s *Server) livenessLoop() {
	defer s.loopWG.Done()
	t := time.NewTicker(s.watchInterval())
	defer t.Stop()
	var nextFull, nextSave, lastScan time.Time
	for {
		select {
		case <-t.C:
		case <-s.fleet.wake:
			// A reconnect storm wakes the loop for every agent: scan at
			// most every 20 ms; the ticker catches what this skips.
			if s.cfg.now().Sub(lastScan) < 20*time.Millisecond {
				continue
			}
		case <-s.stop:
			s.watch(true)
			s.saveFleet()
			s.refusals.flush()
			return
		}
		s.refusals.flush()
		now := s.cfg.now()
		lastScan = now
		full := !now.Before(nextFull)
		if full {
			nextFull = now.Add(s.cfg.LivenessInterval)
		}
		s.watch(full)
		if !now.Before(nextSave) {
			nextSave = now.Add(s.cfg.FleetSaveInterval)
			s.saveFleet()
		}
	}
}

// watchInterval is how often silent agents are looked for: a fraction of
// the time that makes them offline, so the change is written promptly.
func (s *Server) watchInterval() time.Duration {
	return min(max(s.fleet.offlineAfter/8, 20*time.Millisecond), time.Second, s.cfg.LivenessInterval)
}

// watch judges every agent, writes up and hawk_agent_up for those whose
// state changed (at the time of the change), expires pending outages, and
// with full writes every agent's liveness series.
func (s *Server) watch(full bool) {
	f := s.fleet
	now := s.cfg.now()
	ts := now.UnixMilli()
	app := s.cfg.Sink.Appender()
	appended := 0
	add := func(sr *store.Series, t int64, v float64) {
		app.Append(sr, t, v) //nolint:errcheck // a rejected liveness sample is written again next tick
		appended++
	}

	f.mu.Lock()
	gone := f.gone
	f.gone = nil
	s.scratch = append(s.scratch[:0], f.list...)
	f.mu.Unlock()
	for _, a := range gone {
		if a.live != nil {
			for i := range a.live.series {
				add(&a.live.series[i], ts, math.Float64frombits(value.StaleNaN))
			}
			a.live = nil
		}
	}

	online := 0
	for _, a := range s.scratch {
		f.mu.Lock()
		up := f.onlineLocked(a, now)
		changed := up != a.judgedUp || !a.judged
		var changeAt time.Time
		if changed {
			last := time.Unix(0, a.lastSeen.Load())
			if up {
				changeAt = a.since
				if changeAt.IsZero() || changeAt.Before(last.Add(-f.offlineAfter)) {
					changeAt = last
				}
			} else {
				changeAt = last.Add(f.offlineAfter)
				if !a.closedAt.IsZero() && a.closedAt.Before(changeAt) {
					changeAt = a.closedAt
				}
				if changeAt.After(now) {
					changeAt = now
				}
				if a.judgedUp || !a.judged {
					a.silentSince = last
				}
			}
			a.judgedUp, a.judged = up, true
			f.dirty = true
		}
		f.expireOutagesLocked(a, now, s.cfg.OutageClassifyWait)
		newOutage := a.outageCounts != a.countsWritten
		var ls liveSample
		if changed || full || newOutage {
			ls.st = f.statusLocked(a, now)
			ls.counts = a.outageCounts
			if n := len(a.outages); n > 0 {
				ls.outageAt = a.outages[n-1].End
			}
		}
		f.mu.Unlock()
		if up {
			online++
		}
		if !changed && !full && !newOutage {
			continue
		}
		set := s.liveSetFor(a, &ls.st, ts, add)
		v := 0.0
		if up {
			v = 1
		}
		if changed {
			t := changeAt.UnixMilli()
			add(&set.series[liveUp], t, v)
			add(&set.series[liveAgentUp], t, v)
		}
		if full {
			s.writeFull(a, set, &ls, now, v, add)
		} else if newOutage {
			writeOutageCounts(set, &ls, ts, add)
		}
		a.countsWritten = ls.counts
		if appended > 10000 {
			if err := app.Commit(); err != nil {
				s.log.Warn("liveness not stored", "err", err)
			}
			app, appended = s.cfg.Sink.Appender(), 0
		}
	}
	if err := app.Commit(); err != nil {
		s.log.Warn("liveness not stored", "err", err)
	}
	s.m.agentsOnline.Set(float64(online))
}

// liveSetFor returns a's series for its current identity. A changed
// identity (new hostname, instance, job or version) marks the old series
// stale; the new ones must pass the agent's liveness series guard (apart
// from its data series' guard), else the old ones are kept and the
// refusal counted.
func (s *Server) liveSetFor(a *Agent, st *AgentStatus, ts int64, add func(*store.Series, int64, float64)) *liveSet {
	if a.live != nil && a.live.key == liveKey(st) {
		return a.live
	}
	next := newLiveSet(st)
	now := s.cfg.now()
	for i := range next.series {
		if !a.liveGuard.admit(next.series[i].Labels.Hash(), maxLiveSeries, now, s.cfg.SeriesWindow) {
			s.m.errors.WithLabelValues("liveness_series_limit").Inc()
			if a.live != nil {
				return a.live
			}
			break // the first set is written regardless: up must be
		}
	}
	if a.live != nil {
		for i := range a.live.series {
			if !labels.Equal(a.live.series[i].Labels, next.series[i].Labels) {
				add(&a.live.series[i], ts, math.Float64frombits(value.StaleNaN))
			}
		}
		s.m.livenessChanges.Inc()
	}
	a.live = next
	return next
}

// writeFull appends one sample of each of a's liveness series.
func (s *Server) writeFull(a *Agent, set *liveSet, ls *liveSample, now time.Time, up float64, add func(*store.Series, int64, float64)) {
	st := &ls.st
	ts := now.UnixMilli()
	if !a.rateAt.IsZero() {
		if dt := now.Sub(a.rateAt).Seconds(); dt > 0 && st.SamplesTotal >= a.rateSamples {
			a.rate.Store(math.Float64bits(float64(st.SamplesTotal-a.rateSamples) / dt))
		}
	}
	a.rateSamples, a.rateAt = st.SamplesTotal, now
	add(&set.series[liveUp], ts, up)
	add(&set.series[liveAgentUp], ts, up)
	add(&set.series[liveLastSeen], ts, float64(st.LastSeen.UnixNano())/1e9)
	if st.Protocol != "legacy" { // legacy peers send no clock worth recording
		add(&set.series[liveOffset], ts, st.ClockOffset)
	}
	add(&set.series[liveInfo], ts, 1)
	writeOutageCounts(set, ls, ts, add)
}

// writeOutageCounts appends hawk_agent_outages_total by cause, once the
// agent had an outage.
func writeOutageCounts(set *liveSet, ls *liveSample, ts int64, add func(*store.Series, int64, float64)) {
	var total uint64
	for _, n := range ls.counts {
		total += n
	}
	if total == 0 {
		return
	}
	if total == 1 && !ls.outageAt.IsZero() {
		// The first outage: a zero before it lets increase() see it.
		for i := range nCauses {
			add(&set.series[liveOutages+i], ls.outageAt.UnixMilli()-1, 0)
		}
	}
	for i, n := range ls.counts {
		add(&set.series[liveOutages+i], ts, float64(n))
	}
}
