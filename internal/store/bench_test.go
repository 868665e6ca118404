package store

import (
	"strconv"
	"testing"

	"github.com/prometheus/prometheus/model/metadata"
)

// benchAppend appends b.N samples round-robin over nSeries series, committing
// every batch samples, as a session does. With fresh set, every Series is
// new to the sink on each batch (no cached ref: label hashing per sample);
// with meta set, every Series carries metadata, which the TSDB compares on
// every append.
func benchAppend(b *testing.B, fresh, meta bool) {
	const nSeries, batch = 1000, 1000
	db := openTest(b, b.TempDir(), TSDBOptions{})
	defer db.Close()
	series := make([]*Series, nSeries)
	for i := range series {
		series[i] = newSeries("bench_metric", "host", "h"+strconv.Itoa(i%10), "i", strconv.Itoa(i))
		if meta {
			series[i].Meta = metadata.Metadata{Type: "gauge", Help: "A benchmark gauge.", Unit: "bytes"}
		}
	}
	ts := int64(1_000_000)
	warm := db.Appender()
	for _, s := range series {
		_ = warm.Append(s, ts, 0)
	}
	if err := warm.Commit(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	app := db.Appender()
	for n := range b.N {
		i := n % nSeries
		if i == 0 {
			ts += 1000
		}
		s := series[i]
		if fresh {
			*s.Ref(0) = 0
		}
		if err := app.Append(s, ts, float64(n)); err != nil {
			b.Fatal(err)
		}
		if (n+1)%batch == 0 {
			if err := app.Commit(); err != nil {
				b.Fatal(err)
			}
			app = db.Appender()
		}
	}
	if err := app.Commit(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

func BenchmarkTSDBAppendCachedRef(b *testing.B)     { benchAppend(b, false, false) }
func BenchmarkTSDBAppendCachedRefMeta(b *testing.B) { benchAppend(b, false, true) }
func BenchmarkTSDBAppendNoRef(b *testing.B)         { benchAppend(b, true, false) }
