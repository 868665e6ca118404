package server

import (
	"runtime"
	"strconv"
	"testing"
	"time"

	"hawk/internal/wire"
)

// BenchmarkRefusedDefinitions measures what a series definition refused
// by the server's series limit costs (the series-flood attack of
// docs/security.md, section 9): one op is one batch of 2,000 new
// definitions, one sample each, over loopback TCP, against a server whose
// -max-series is already full. The batches are encoded before the timer
// starts, so cpu-ns/def and alloc-B/def are nearly all the server's (the
// process's CPU time and allocations, divided by the definitions).
func BenchmarkRefusedDefinitions(b *testing.B) {
	const per = 2000
	_, addr := startServer(b, Config{Sink: discard{}, MaxSeries: 1 << 30, MaxBatchSamples: per,
		MaxSeriesTotal: 1, MaxSeriesPerAgent: 1 << 30})
	c := dial(b, addr)
	c.hello("flood")
	frames := make([][]byte, b.N+1)
	for k := range frames {
		batch := &wire.Batch{}
		for j := range per {
			batch.Defs = append(batch.Defs, wire.SeriesDef{Type: wire.TypeGauge, Name: "attack_flood",
				Labels: []wire.Label{{Name: "s", Value: strconv.Itoa(k*per + j)}}})
			batch.Samples = append(batch.Samples, wire.Sample{ID: uint32(j), T: time.Now().UnixMilli(), V: 1})
		}
		out, err := c.enc.AppendBatch(nil, uint64(k+1), batch, 0)
		if err != nil {
			b.Fatal(err)
		}
		frames[k] = out
	}
	send := func(k int) {
		if _, err := c.c.Write(frames[k]); err != nil {
			b.Fatal(err)
		}
		if a := c.ack(); a != uint64(k+1) {
			b.Fatalf("ack %d, want %d", a, k+1)
		}
	}
	send(0) // fills -max-series (1)
	c.c.SetDeadline(time.Time{})
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	b.ResetTimer()
	cpu0 := cpuTime()
	for k := 1; k <= b.N; k++ {
		send(k)
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	runtime.ReadMemStats(&m1)
	defs := float64(b.N) * per
	b.ReportMetric(float64(cpu.Nanoseconds())/defs, "cpu-ns/def")
	b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/defs, "alloc-B/def")
}
