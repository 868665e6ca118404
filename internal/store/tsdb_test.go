package store

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/record"
	"github.com/prometheus/prometheus/tsdb/wlog"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if dir := crashChildDir(); dir != "" {
		runCrashChild(dir) // never returns: the child is killed
	}
	if dir := os.Getenv(fullEnv); dir != "" {
		runFullDiskChild(dir) // never returns: the child is killed
	}
	goleak.VerifyTestMain(m)
}

const hour = int64(time.Hour / time.Millisecond)

type sample struct {
	T int64
	V float64
}

func openTest(t testing.TB, dir string, opts TSDBOptions) *TSDB {
	t.Helper()
	opts.Dir = dir
	db, err := OpenTSDB(opts)
	if err != nil {
		t.Fatalf("OpenTSDB: %v", err)
	}
	return db
}

func newSeries(name string, kv ...string) *Series {
	return &Series{Labels: labels.FromStrings(append([]string{"__name__", name}, kv...)...)}
}

// appendCommit appends samples to s in one transaction and fails the test on
// any error.
func appendCommit(t testing.TB, sink Sink, s *Series, samples ...sample) {
	t.Helper()
	app := sink.Appender()
	for _, smp := range samples {
		if err := app.Append(s, smp.T, smp.V); err != nil {
			t.Fatalf("Append(%d, %g): %v", smp.T, smp.V, err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

// query returns every stored sample of the series with the given labels.
func query(t testing.TB, db *TSDB, ls labels.Labels) []sample {
	t.Helper()
	q, err := db.Storage().Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatalf("Querier: %v", err)
	}
	defer q.Close()
	var ms []*labels.Matcher
	ls.Range(func(l labels.Label) {
		ms = append(ms, labels.MustNewMatcher(labels.MatchEqual, l.Name, l.Value))
	})
	set := q.Select(context.Background(), false, nil, ms...)
	var out []sample
	for set.Next() {
		it := set.At().Iterator(nil)
		for it.Next() == chunkenc.ValFloat {
			ts, v := it.At()
			out = append(out, sample{ts, v})
		}
		if err := it.Err(); err != nil {
			t.Fatalf("iterate: %v", err)
		}
	}
	if err := set.Err(); err != nil {
		t.Fatalf("select: %v", err)
	}
	return out
}

func equalSamples(a, b []sample) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].T != b[i].T || math.Float64bits(a[i].V) != math.Float64bits(b[i].V) {
			return false
		}
	}
	return true
}

func TestTSDBAppendCommitQuery(t *testing.T) {
	reg := prometheus.NewRegistry()
	db := openTest(t, t.TempDir(), TSDBOptions{Registerer: reg, Slot: 2})
	defer db.Close()
	s := newSeries("cpu_seconds_total", "host", "a")
	s.Meta = metadata.Metadata{Type: "counter", Help: "CPU time.", Unit: "seconds"}
	want := []sample{{1000, 1}, {2000, 2}, {3000, math.Inf(1)}, {4000, math.NaN()}}
	appendCommit(t, db, s, want[:2]...)
	appendCommit(t, db, s, want[2:]...)
	if got := query(t, db, s.Labels); !equalSamples(got, want) {
		t.Fatalf("query = %v, want %v", got, want)
	}
	if *s.Ref(2) == 0 || *s.Ref(0) != 0 {
		t.Fatalf("refs = %d/%d, want only slot 2 set", *s.Ref(0), *s.Ref(2))
	}
	if got := db.Metadata("cpu_seconds_total")["cpu_seconds_total"]; got != s.Meta {
		t.Fatalf("metadata = %+v, want %+v", got, s.Meta)
	}
	if got := testutil.ToFloat64(db.metrics.appended); got != 4 {
		t.Fatalf("appended counter = %g, want 4", got)
	}
	if got := testutil.ToFloat64(db.metrics.refMisses); got != 1 {
		t.Fatalf("ref misses = %g, want 1 (one resolution, then cached)", got)
	}
}

func TestTSDBRollback(t *testing.T) {
	db := openTest(t, t.TempDir(), TSDBOptions{})
	defer db.Close()
	s := newSeries("up")
	app := db.Appender()
	if err := app.Append(s, 1000, 1); err != nil {
		t.Fatal(err)
	}
	if err := app.Rollback(); err != nil {
		t.Fatal(err)
	}
	if got := query(t, db, s.Labels); len(got) != 0 {
		t.Fatalf("after rollback query = %v, want none", got)
	}
}

// TestTSDBForeignRef proves that a ref cached by another TSDB instance in the
// same slot is not trusted: the second DB has different series refs.
func TestTSDBForeignRef(t *testing.T) {
	a := openTest(t, t.TempDir(), TSDBOptions{})
	defer a.Close()
	b := openTest(t, t.TempDir(), TSDBOptions{})
	defer b.Close()
	other, s := newSeries("other"), newSeries("mine")
	appendCommit(t, b, other, sample{1000, 7})
	appendCommit(t, a, s, sample{1000, 1}) // s now caches a's ref 1
	appendCommit(t, b, s, sample{2000, 2}) // b's ref 1 is "other"
	if got := query(t, b, other.Labels); !equalSamples(got, []sample{{1000, 7}}) {
		t.Fatalf("other = %v: the foreign ref was trusted", got)
	}
	if got := query(t, b, s.Labels); !equalSamples(got, []sample{{2000, 2}}) {
		t.Fatalf("mine = %v", got)
	}
}

func TestTSDBOutOfOrderAccepted(t *testing.T) {
	db := openTest(t, t.TempDir(), TSDBOptions{})
	defer db.Close()
	s := newSeries("load1")
	appendCommit(t, db, s, sample{10 * hour, 3})
	// Buffered by an agent during a 5 h outage, sent after newer samples.
	appendCommit(t, db, s, sample{5 * hour, 1}, sample{6 * hour, 2})
	want := []sample{{5 * hour, 1}, {6 * hour, 2}, {10 * hour, 3}}
	if got := query(t, db, s.Labels); !equalSamples(got, want) {
		t.Fatalf("query = %v, want %v", got, want)
	}
}

func TestTSDBRejections(t *testing.T) {
	cases := []struct {
		name   string
		window time.Duration
		t      int64
		v      float64
		reason string
	}{
		{"too old for the OOO window", time.Hour, 5 * hour, 1, reasonTooOld},
		{"out of order without window", -1, 10*hour - 1, 1, reasonOutOfOrder},
		{"out of bounds without window", -1, 5 * hour, 1, reasonOutOfBounds},
		{"duplicate timestamp other value", time.Hour, 10 * hour, 2, reasonDuplicate},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := openTest(t, t.TempDir(), TSDBOptions{OutOfOrderWindow: tc.window})
			defer db.Close()
			s := newSeries("m")
			appendCommit(t, db, s, sample{10 * hour, 1})
			assertRejected(t, db, s, tc.t, tc.v, tc.reason)
		})
	}
}

func TestTSDBRejectsInvalidLabels(t *testing.T) {
	db := openTest(t, t.TempDir(), TSDBOptions{})
	defer db.Close()
	assertRejected(t, db, &Series{}, 1000, 1, reasonInvalid)
	dup := &Series{Labels: labels.New(labels.Label{Name: "a", Value: "1"}, labels.Label{Name: "a", Value: "2"})}
	assertRejected(t, db, dup, 1000, 1, reasonInvalid)
}

// assertRejected appends (tt, v) to s, expects ErrRejected for reason, and
// checks that the transaction still commits a good sample afterwards.
func assertRejected(t *testing.T, db *TSDB, s *Series, tt int64, v float64, reason string) {
	t.Helper()
	before := testutil.ToFloat64(db.metrics.rejected.WithLabelValues(reason))
	good := newSeries("good")
	app := db.Appender()
	err := app.Append(s, tt, v)
	if !errors.Is(err, ErrRejected) {
		t.Fatalf("Append = %v, want ErrRejected", err)
	}
	if got := testutil.ToFloat64(db.metrics.rejected.WithLabelValues(reason)); got != before+1 {
		t.Fatalf("rejected{reason=%q} = %g, want %g (err %v)", reason, got, before+1, err)
	}
	if err := app.Append(good, 20*hour, 1); err != nil {
		t.Fatalf("Append after rejection: %v", err)
	}
	if err := app.Commit(); err != nil {
		t.Fatalf("Commit after rejection: %v", err)
	}
	if got := query(t, db, good.Labels); len(got) != 1 {
		t.Fatalf("good samples = %v, want 1", got)
	}
}

func TestTSDBOpenErrors(t *testing.T) {
	if _, err := OpenTSDB(TSDBOptions{}); err == nil {
		t.Fatal("OpenTSDB without Dir succeeded")
	}
	if _, err := OpenTSDB(TSDBOptions{Dir: t.TempDir(), Slot: MaxSinks}); err == nil {
		t.Fatal("OpenTSDB with slot MaxSinks succeeded")
	}
}

// TestTSDBStaleRef lets the head garbage-collect a series after compaction,
// so its cached ref names nothing, and checks that the next append resolves
// the labels again instead of failing or losing the sample.
func TestTSDBStaleRef(t *testing.T) {
	db := openTest(t, t.TempDir(), TSDBOptions{OutOfOrderWindow: -1})
	defer db.Close()
	old, keep := newSeries("old"), newSeries("keep")
	appendCommit(t, db, old, sample{1 * hour, 1})
	oldRef := *old.Ref(0)
	appendCommit(t, db, keep, sample{1 * hour, 1}, sample{10 * hour, 2})
	if err := db.DB().Compact(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := db.DB().Head().NumSeries(); got != 1 {
		t.Fatalf("head series after compaction = %d, want 1 (old collected)", got)
	}
	misses := testutil.ToFloat64(db.metrics.refMisses)
	appendCommit(t, db, old, sample{10 * hour, 3})
	if *old.Ref(0) == oldRef {
		t.Fatal("stale ref kept")
	}
	if got := testutil.ToFloat64(db.metrics.refMisses); got != misses+1 {
		t.Fatalf("ref misses = %g, want %g", got, misses+1)
	}
	if got := query(t, db, old.Labels); !equalSamples(got, []sample{{1 * hour, 1}, {10 * hour, 3}}) {
		t.Fatalf("old = %v", got)
	}
}

// walRecords counts the records of each type in the WAL of a closed TSDB.
func walRecords(t *testing.T, dir string) map[record.Type]int {
	t.Helper()
	sr, err := wlog.NewSegmentsReader(filepath.Join(dir, "wal"))
	if err != nil {
		t.Fatal(err)
	}
	defer sr.Close()
	r := wlog.NewReader(sr)
	var dec record.Decoder
	n := map[record.Type]int{}
	for r.Next() {
		n[dec.Type(r.Record())]++
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTSDBMetadataOnce(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir, TSDBOptions{})
	s := newSeries("m", "a", "b")
	s.Meta = metadata.Metadata{Type: model.MetricTypeCounter, Help: "help of m"}
	for i := range 5 {
		appendCommit(t, db, s, sample{hour + int64(i), float64(i)})
	}
	if got := db.Metadata("m")["m"]; got != s.Meta {
		t.Fatalf("Metadata = %+v, want %+v", got, s.Meta)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	n := walRecords(t, dir)
	if n[record.Metadata] != 1 || n[record.Samples] != 5 {
		t.Fatalf("WAL records: %d metadata, %d samples; want 1 and 5", n[record.Metadata], n[record.Samples])
	}
}

func TestTSDBStaleRefMetadata(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir, TSDBOptions{OutOfOrderWindow: -1})
	old, keep := newSeries("old"), newSeries("keep")
	old.Meta = metadata.Metadata{Type: model.MetricTypeGauge, Help: "help of old"}
	appendCommit(t, db, old, sample{1 * hour, 1})
	appendCommit(t, db, keep, sample{1 * hour, 1}, sample{10 * hour, 2})
	if err := db.DB().Compact(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The first sample after the compaction recreates the series without
	// its metadata; the next one brings it.
	appendCommit(t, db, old, sample{10 * hour, 3})
	appendCommit(t, db, old, sample{10*hour + 1, 4})
	appendCommit(t, db, old, sample{10*hour + 2, 5})
	if *old.Ref(0) == 0 {
		t.Fatal("ref not resolved again")
	}
	if got := query(t, db, old.Labels); !equalSamples(got, []sample{{1 * hour, 1}, {10 * hour, 3}, {10*hour + 1, 4}, {10*hour + 2, 5}}) {
		t.Fatalf("old = %v", got)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if n := walRecords(t, dir); n[record.Metadata] != 2 {
		t.Fatalf("WAL holds %d metadata records, want 2 (before and after the compaction)", n[record.Metadata])
	}
}
