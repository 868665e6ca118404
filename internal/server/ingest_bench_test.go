package server

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"hawk/internal/store"
	"hawk/internal/wire"
)

// hostBatch is a host-shaped collection: n series, mostly counters that
// grow by integer or centi steps, some constant, some noisy gauges.
func hostBatch(n int, ms int64, step int, rng *rand.Rand) *wire.Batch {
	b := &wire.Batch{}
	for i := range n {
		b.Defs = append(b.Defs, wire.SeriesDef{Type: wire.TypeCounter, Name: fmt.Sprintf("node_bench_%d_total", i%30),
			Labels: []wire.Label{{Name: "device", Value: fmt.Sprintf("d%d", i)}, {Name: "instance", Value: "h"}, {Name: "job", Value: "node"}}})
		var v float64
		switch i % 4 {
		case 0:
			v = float64(i)
		case 1:
			v = float64(i*1000 + step*rng.IntN(5000))
		case 2:
			v = float64(i*100+step*rng.IntN(300)) / 100
		default:
			v = rng.Float64() * 100
		}
		b.Samples = append(b.Samples, wire.Sample{ID: uint32(i), T: ms, V: v})
	}
	return b
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkIngest measures the collector's ingest path end to end: frames
// over loopback TCP, decode, append to the embedded TSDB, commit, ACK. One
// op is one batch of 300 samples; the client keeps a window of 16 batches
// in flight. cpu-ns/sample is the whole process (client encoding included,
// about 70 ns/sample by BenchmarkEncodeBatch in internal/wire).
func BenchmarkIngest(b *testing.B) {
	for _, sinkName := range []string{"tsdb", "discard"} {
		b.Run(sinkName, func(b *testing.B) { benchIngest(b, sinkName) })
	}
}

func benchIngest(b *testing.B, sinkName string) {
	var sink store.Sink = discard{}
	if sinkName == "tsdb" {
		db, err := store.OpenTSDB(store.TSDBOptions{Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		sink = db
	}
	_, addr := startServer(b, Config{Sink: sink})
	c := dial(b, addr)
	c.hello("bench")
	rng := rand.New(rand.NewPCG(1, 2))
	const n, window = 300, 16
	base := time.Now().Add(-time.Hour).UnixMilli()
	batch := hostBatch(n, base, 0, rng) // the series set; values move per batch
	next := func(seq int) []byte {
		for i := range batch.Samples {
			s := &batch.Samples[i]
			s.T = base + int64(seq)*10000
			switch i % 4 {
			case 1:
				s.V += float64(rng.IntN(5000))
			case 2:
				s.V += float64(rng.IntN(300)) / 100
			case 3:
				s.V = rng.Float64() * 100
			}
		}
		out, err := c.enc.AppendBatch(nil, uint64(seq), batch, 0)
		if err != nil {
			b.Fatal(err)
		}
		return out
	}
	c.c.Write(next(1)) // defines the series
	if c.ack() != 1 {
		b.Fatal("no ack")
	}
	c.c.SetDeadline(time.Time{})
	var wireBytes int
	b.ResetTimer()
	cpu0 := cpuTime()
	acked, sent := uint64(1), 1
	for sent <= b.N || acked <= uint64(b.N) {
		for sent <= b.N && uint64(sent)-acked < window {
			sent++
			out := next(sent)
			wireBytes += len(out)
			if _, err := c.c.Write(out); err != nil {
				b.Fatal(err)
			}
		}
		a, err := wire.DecodeAck(c.recv())
		if err != nil {
			b.Fatalf("ack: %v", err)
		}
		acked = a.Seq
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	samples := float64(b.N) * n
	b.ReportMetric(samples/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/samples, "cpu-ns/sample")
	b.ReportMetric(float64(wireBytes)/samples, "wire-B/sample")
}

// discard is a sink that stores nothing, to isolate the server's own cost.
type discard struct{}

func (discard) Appender() store.Appender { return discardApp{} }
func (discard) Close() error             { return nil }

type discardApp struct{}

func (discardApp) Append(*store.Series, int64, float64) error { return nil }
func (discardApp) Commit() error                              { return nil }
func (discardApp) Rollback() error                            { return nil }

// BenchmarkCommitKnownSeries measures the committer's part of the hot
// path alone: one request of 300 samples of known (ordinary) series,
// appended to a sink that keeps nothing and committed, as a session does
// for each batch once its series are defined. It is what the lookup of
// each sample's series in the dictionary costs, with no network, decoding
// or TSDB around it.
func BenchmarkCommitKnownSeries(b *testing.B) {
	const n = 300
	d := &seriesDict{}
	r := newCommitReq()
	for i := range n {
		ls := labels.FromStrings("__name__", fmt.Sprintf("node_bench_%d_total", i%30), "device", fmt.Sprintf("d%d", i))
		d.add(store.Series{Labels: ls}, ls.Hash())
		r.samples = append(r.samples, pendingSample{id: uint32(i), t: int64(i), v: float64(i)})
	}
	r.series, r.future = d, 1<<62
	c := newTestCommitter(discard{}, 1)
	for b.Loop() {
		c.commit(r)
	}
	if r.stored != n {
		b.Fatalf("stored %d of %d", r.stored, n)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/sample")
}

// BenchmarkCommitAliasedSeries is BenchmarkCommitKnownSeries with every
// series defined twice (m{a=""} and m{}, as seriesDict calls them
// aliased) and each id sampled at the request's one timestamp: half the
// samples are stored, half counted as duplicates. What an aliased sample
// costs more than an ordinary one: the seen map, and the committed
// timestamps recorded after the commit.
func BenchmarkCommitAliasedSeries(b *testing.B) {
	const n = 300
	d := &seriesDict{}
	r := newCommitReq()
	for i := range n {
		ls := labels.FromStrings("__name__", fmt.Sprintf("node_bench_%d_total", i/2%30), "device", fmt.Sprintf("d%d", i/2))
		d.add(store.Series{Labels: ls}, ls.Hash())
		r.samples = append(r.samples, pendingSample{id: uint32(i), t: 1, v: float64(i)})
	}
	r.series, r.future = d, 1<<62
	c := newTestCommitter(discard{}, 1)
	for t := int64(2); b.Loop(); t++ {
		for i := range r.samples {
			r.samples[i].t = t
		}
		c.commit(r)
	}
	if r.stored != n/2 || r.duplicate != n/2 {
		b.Fatalf("stored %d, duplicate %d; want %d each", r.stored, r.duplicate, n/2)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/sample")
}

// BenchmarkDictAddFresh measures what the dictionary costs an accepted
// definition of a new label set (its kept entry and, since aliases are
// found, its place in the index by labels): one op fills a dictionary
// with 1,000 series whose labels and hashes are made before the timer.
func BenchmarkDictAddFresh(b *testing.B) {
	const n = 1000
	ss, hs := make([]store.Series, n), make([]uint64, n)
	for i := range ss {
		ss[i].Labels = labels.FromStrings("__name__", fmt.Sprintf("node_bench_%d_total", i%30), "device", fmt.Sprintf("d%d", i))
		hs[i] = ss[i].Labels.Hash()
	}
	for b.Loop() {
		d := &seriesDict{}
		for i := range ss {
			d.add(ss[i], hs[i])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/def")
}
