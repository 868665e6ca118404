package server

import (
	"math"
	"time"
)

func floatFromBits(b uint64) float64 { return math.Float64frombits(b) }

// livenessLoop writes the fleet's hawk_agent_* series every
// LivenessInterval until Shutdown, and once more on the way out.
func (s *Server) livenessLoop() {
	defer s.loopWG.Done()
	t := time.NewTicker(s.cfg.LivenessInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.writeLiveness()
		case <-s.stop:
			s.writeLiveness()
			return
		}
	}
}

// writeLiveness appends one sample of each agent's liveness series.
func (s *Server) writeLiveness() {
	now := s.cfg.now()
	ts := now.UnixMilli()
	s.fleet.mu.Lock()
	agents := make([]*Agent, 0, len(s.fleet.agents))
	for _, a := range s.fleet.agents {
		agents = append(agents, a)
	}
	s.fleet.mu.Unlock()

	app := s.cfg.Sink.Appender()
	online := 0
	for _, a := range agents {
		s.fleet.mu.Lock()
		st := s.fleet.statusLocked(a, now)
		s.fleet.mu.Unlock()
		if !a.rateAt.IsZero() {
			if dt := now.Sub(a.rateAt).Seconds(); dt > 0 {
				a.rate.Store(math.Float64bits(float64(st.SamplesTotal-a.rateSamples) / dt))
			}
		}
		a.rateSamples, a.rateAt = st.SamplesTotal, now
		up := 0.0
		if st.Up {
			up = 1
			online++
		}
		ls := a.livenessSeries(&st)
		vals := []float64{up, float64(st.LastSeen.UnixNano()) / 1e9, st.ClockOffset, 1}
		for i := range ls {
			if st.Protocol == "legacy" && i == 2 {
				continue // legacy peers send no clock worth recording
			}
			app.Append(&ls[i], ts, vals[i]) //nolint:errcheck // a rejected liveness sample is retried next tick
		}
	}
	if err := app.Commit(); err != nil {
		s.log.Warn("liveness not stored", "err", err)
	}
	s.m.agentsOnline.Set(float64(online))
}
