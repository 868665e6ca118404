package web

import (
	"bufio"
	"context"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/tsdb"
)

const queriesFile = "testdata/queries.txt"

// Placeholders in queries.txt for the parts that vary between loads.
const (
	instanceHole = "$INSTANCE" // the instance label value
	windowHole   = "$WINDOW"   // the rate window, e.g. 75s
)

// goldenQueries reads queries.txt: one "chart-id<TAB>query" per line.
func goldenQueries(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(queriesFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		id, q, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			t.Fatalf("%s: malformed line %q", queriesFile, sc.Text())
		}
		out[id] = q
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// synthHosts appends two hours of node_exporter-like series for each instance
// at a 15 s interval, with known constant rates, plus series the queries must
// leave out.
func synthHosts(t *testing.T, db *tsdb.DB, start time.Time, instances ...string) {
	t.Helper()
	app := db.Appender(context.Background())
	series := []struct {
		lbls []string
		at   func(s float64) float64 // value s seconds after start
	}{
		{[]string{"__name__", "node_load1"}, func(float64) float64 { return 1.5 }},
		{[]string{"__name__", "node_load5"}, func(float64) float64 { return 1.2 }},
		{[]string{"__name__", "node_load15"}, func(float64) float64 { return 1.0 }},
		{[]string{"__name__", "node_memory_MemTotal_bytes"}, func(float64) float64 { return 8 << 30 }},
		{[]string{"__name__", "node_memory_MemAvailable_bytes"}, func(float64) float64 { return 2 << 30 }},
		{[]string{"__name__", "node_memory_Cached_bytes"}, func(float64) float64 { return 1 << 30 }},
		// 25 % of / is used; /run is tmpfs and must not show.
		{[]string{"__name__", "node_filesystem_size_bytes", "device", "/dev/sda1", "fstype", "ext4", "mountpoint", "/"}, func(float64) float64 { return 100 << 30 }},
		{[]string{"__name__", "node_filesystem_avail_bytes", "device", "/dev/sda1", "fstype", "ext4", "mountpoint", "/"}, func(float64) float64 { return 75 << 30 }},
		{[]string{"__name__", "node_filesystem_size_bytes", "device", "tmpfs", "fstype", "tmpfs", "mountpoint", "/run"}, func(float64) float64 { return 1 << 30 }},
		{[]string{"__name__", "node_filesystem_avail_bytes", "device", "tmpfs", "fstype", "tmpfs", "mountpoint", "/run"}, func(float64) float64 { return 1 << 29 }},
		{[]string{"__name__", "node_disk_read_bytes_total", "device", "sda"}, func(s float64) float64 { return 4096 * s }},
		{[]string{"__name__", "node_disk_written_bytes_total", "device", "sda"}, func(s float64) float64 { return 8192 * s }},
		{[]string{"__name__", "node_disk_read_bytes_total", "device", "sda1"}, func(s float64) float64 { return 4000 * s }},
		{[]string{"__name__", "node_disk_read_bytes_total", "device", "nvme0n1p2"}, func(s float64) float64 { return 7 * s }},
		{[]string{"__name__", "node_disk_written_bytes_total", "device", "zram0"}, func(s float64) float64 { return 99 * s }},
		{[]string{"__name__", "node_disk_read_bytes_total", "device", "nvme0n1"}, func(s float64) float64 { return 2048 * s }},
		{[]string{"__name__", "node_disk_written_bytes_total", "device", "nvme0n1"}, func(s float64) float64 { return 1024 * s }},
		{[]string{"__name__", "node_network_receive_bytes_total", "device", "eth0"}, func(s float64) float64 { return 1000 * s }},
		{[]string{"__name__", "node_network_transmit_bytes_total", "device", "eth0"}, func(s float64) float64 { return 500 * s }},
		{[]string{"__name__", "node_network_receive_bytes_total", "device", "lo"}, func(s float64) float64 { return 9999 * s }},
		{[]string{"__name__", "node_network_transmit_bytes_total", "device", "lo"}, func(s float64) float64 { return 9999 * s }},
	}
	// Two CPUs: each spends 30 % user, 10 % system, 60 % idle.
	for _, cpu := range []string{"0", "1"} {
		for mode, share := range map[string]float64{"user": .3, "system": .1, "idle": .6} {
			series = append(series, struct {
				lbls []string
				at   func(s float64) float64
			}{[]string{"__name__", "node_cpu_seconds_total", "cpu", cpu, "mode", mode}, func(s float64) float64 { return share * s }})
		}
	}
	// Append in time order: the head only accepts samples near its newest.
	for sec := 0.0; sec <= 7200; sec += 15 {
		ts := start.Add(time.Duration(sec) * time.Second).UnixMilli()
		for _, inst := range instances {
			for _, s := range series {
				l := labels.FromStrings(append(s.lbls, "instance", inst, "job", "node")...)
				if _, err := app.Append(0, l, ts, s.at(sec)); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
}

// TestQueriesEvaluate runs every query of the host page through Prometheus'
// own engine against a TSDB with known data, and checks the series and values
// each chart will get.
func TestQueriesEvaluate(t *testing.T) {
	queries := goldenQueries(t)
	db, err := tsdb.Open(t.TempDir(), nil, nil, tsdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start := time.Unix(1_800_000_000, 0)
	synthHosts(t, db, start, "web-01", "web-02") // web-02 must not leak into web-01's charts
	engine := promql.NewEngine(promql.EngineOpts{MaxSamples: 1e7, Timeout: time.Minute, LookbackDelta: 5 * time.Minute})

	type want struct {
		series map[string]float64 // "label=value,…" of each series → its value
		keyOf  []string           // labels forming the key
	}
	wants := map[string]want{
		"cpu":        {map[string]float64{"mode=user": .6, "mode=system": .2, "mode=idle": 1.2}, []string{"mode"}},
		"load":       {map[string]float64{"__name__=node_load1": 1.5, "__name__=node_load5": 1.2, "__name__=node_load15": 1}, []string{"__name__"}},
		"memory":     {map[string]float64{"__name__=node_memory_MemTotal_bytes": 8 << 30, "__name__=node_memory_MemAvailable_bytes": 2 << 30}, []string{"__name__"}},
		"filesystem": {map[string]float64{"mountpoint=/": 25}, []string{"mountpoint"}},
		"disk": {map[string]float64{"device=sda,dir=read": 4096, "device=sda,dir=written": 8192,
			"device=nvme0n1,dir=read": 2048, "device=nvme0n1,dir=written": 1024}, []string{"device", "dir"}},
		"network": {map[string]float64{"device=eth0,dir=received": 1000, "device=eth0,dir=sent": 500}, []string{"device", "dir"}},
	}
	if len(queries) != len(wants) {
		t.Errorf("%s has %d queries, the test expects %d charts", queriesFile, len(queries), len(wants))
	}
	// The page asks 1 h at a 15 s step with a 60 s window; evaluate the
	// second hour so every window is full.
	for id, tmpl := range queries {
		t.Run(id, func(t *testing.T) {
			w, ok := wants[id]
			if !ok {
				t.Fatalf("no expectation for chart %q", id)
			}
			q := strings.ReplaceAll(tmpl, instanceHole, "web-01")
			q = strings.ReplaceAll(q, windowHole, "60s")
			qry, err := engine.NewRangeQuery(context.Background(), db, nil, q,
				start.Add(time.Hour), start.Add(2*time.Hour), 15*time.Second)
			if err != nil {
				t.Fatalf("parse %s: %v", q, err)
			}
			defer qry.Close()
			res := qry.Exec(context.Background())
			if res.Err != nil {
				t.Fatalf("eval %s: %v", q, res.Err)
			}
			m, err := res.Matrix()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range m {
				var parts []string
				for _, k := range w.keyOf {
					parts = append(parts, k+"="+s.Metric.Get(k))
				}
				key := strings.Join(parts, ",")
				got = append(got, key)
				v, ok := w.series[key]
				if !ok {
					t.Errorf("unexpected series %s", s.Metric)
					continue
				}
				if len(s.Floats) < 200 {
					t.Errorf("%s: %d points over an hour at 15 s", key, len(s.Floats))
				}
				for _, p := range s.Floats {
					if math.Abs(p.F-v) > 1e-6*math.Max(1, math.Abs(v)) {
						t.Errorf("%s at %d: %g, want %g", key, p.T, p.F, v)
						break
					}
				}
			}
			if len(got) != len(w.series) {
				slices.Sort(got)
				t.Errorf("series %v, want the %d of %v", got, len(w.series), w.series)
			}
		})
	}
}
