package server

import (
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"hawk/internal/store"
	"hawk/internal/wire"
)

// testutilCounter reads a counter's value.
func testutilCounter(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

// testutilGauge reads a gauge's value.
func testutilGauge(g prometheus.Gauge) float64 {
	var m dto.Metric
	if err := g.Write(&m); err != nil {
		panic(err)
	}
	return m.GetGauge().GetValue()
}

// guardLen is how many series agent id's series guard holds.
func guardLen(s *Server, id string) int {
	s.fleet.mu.Lock()
	a := s.fleet.agents[id]
	s.fleet.mu.Unlock()
	if a == nil {
		return 0
	}
	a.guard.mu.Lock()
	defer a.guard.mu.Unlock()
	return len(a.guard.cur) + len(a.guard.prev)
}

// floodBatch defines n new series "flood{s="<k>-<i>"}", one sample each at t.
func floodBatch(k, n int, t int64) *wire.Batch {
	b := &wire.Batch{}
	for i := range n {
		b.Defs = append(b.Defs, wire.SeriesDef{Type: wire.TypeGauge, Name: "flood",
			Labels: []wire.Label{{Name: "s", Value: strconv.Itoa(k) + "-" + strconv.Itoa(i)}}})
		b.Samples = append(b.Samples, wire.Sample{ID: uint32(i), T: t, V: 1})
	}
	return b
}

// agentSeries returns the series an agent wrote to sink, without those the
// server writes itself (up and hawk_agent_*: the liveness loop writes them
// when an agent connects or leaves).
func agentSeries(sink *store.Memory) []string {
	var out []string
	for _, s := range sink.Series() {
		if strings.HasPrefix(s, `{__name__="up"`) || strings.HasPrefix(s, `{__name__="hawk_agent_`) {
			continue
		}
		out = append(out, s)
	}
	return out
}
