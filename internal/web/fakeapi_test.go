package web

import (
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeAPI stands in for hawk-server in UI tests: it serves canned agents and
// synthetic, deterministic query_range matrices in Prometheus' JSON, chosen by
// the metric names in the query. It records the queries it was asked.
type fakeAPI struct {
	now func() time.Time // clock for last_seen; time.Now outside tests of the fake

	mu      sync.Mutex
	queries []string // query_range "query" parameters, in arrival order
}

// fakeHosts are the instances with data, with a seed for their signals;
// db-01 is down but has history.
var fakeHosts = map[string]float64{"web-01": 1, "web-02": 2, "db-01": 3, "old-box.lan:9100": 4}

// newFakeServer starts the fake API and the UI on 127.0.0.1, like
// hawk-server mounts them, and closes it when the test ends.
func newFakeServer(t *testing.T) (*httptest.Server, *fakeAPI) {
	t.Helper()
	f := &fakeAPI{now: time.Now}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/agents", f.agents)
	mux.HandleFunc("GET /api/v1/query_range", f.queryRange)
	mux.HandleFunc("GET /api/v1/alerts", f.alerts)
	mux.HandleFunc("GET /api/v1/status/storage", f.storage)
	mux.HandleFunc("GET /api/v1/agents/{id}/outages", f.outages)
	mux.Handle("/", Handler())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, f
}

// seen returns a copy of the queries received so far.
func (f *fakeAPI) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.queries...)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v) // the test client may have gone away
}

func badData(w http.ResponseWriter, msg string) {
	writeJSON(w, http.StatusBadRequest, map[string]any{"status": "error", "errorType": "bad_data", "error": msg})
}

func (f *fakeAPI) agents(w http.ResponseWriter, _ *http.Request) {
	now := f.now().UTC()
	ts := func(ago time.Duration) string { return now.Add(-ago).Format(time.RFC3339Nano) }
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": []map[string]any{
		{"agent_id": "3f2a9c0e", "hostname": "web-01", "instance": "web-01", "version": "0.1.0", "protocol": "v2",
			"remote_addr": "127.0.0.1:53211", "up": true, "connected": true, "last_seen": ts(3 * time.Second),
			"clock_offset_seconds": -0.0021, "rtt_seconds": 0.0003, "samples_per_second": 30.5, "labels": map[string]string{"dc": "a", "role": "web"}},
		{"agent_id": "8b11d4f7", "hostname": "web-02", "instance": "web-02", "version": "0.1.0", "protocol": "v2",
			"remote_addr": "127.0.0.1:53240", "up": true, "connected": true, "last_seen": ts(1 * time.Second),
			"clock_offset_seconds": 1.73, "rtt_seconds": 0.0011, "samples_per_second": 28.25, "labels": map[string]string{"dc": "b", "role": "web"}},
		{"agent_id": "c0ffee42", "hostname": "db-01", "instance": "db-01", "version": "0.0.9", "protocol": "v2",
			"remote_addr": "127.0.0.1:53302", "up": false, "connected": false, "last_seen": ts(7 * time.Minute),
			"clock_offset_seconds": 0.00004, "rtt_seconds": 0.0009, "samples_per_second": 0, "labels": map[string]string{"dc": "a", "role": "db"}},
		// A legacy peer: no version, no clock data, only the basics.
		{"agent_id": "legacy:127.0.0.1:9100", "hostname": "old-box", "instance": "old-box.lan:9100", "protocol": "legacy",
			"remote_addr": "127.0.0.1:9100", "up": true, "last_seen": ts(12 * time.Second), "samples_per_second": 4},
	}})
}

// alerts serves, for each host, one firing alert 20 minutes old and one
// pending alert that the host page must not mark.
func (f *fakeAPI) alerts(w http.ResponseWriter, _ *http.Request) {
	at := func(ago time.Duration) string { return f.now().UTC().Add(-ago).Format(time.RFC3339Nano) }
	alert := func(name, instance, state string, ago time.Duration) map[string]any {
		return map[string]any{"labels": map[string]string{"alertname": name, "instance": instance, "job": "node", "severity": "warning"},
			"annotations": map[string]string{"summary": name + " on " + instance}, "state": state, "activeAt": at(ago), "value": "1e+00"}
	}
	var alerts []map[string]any
	for instance := range fakeHosts {
		alerts = append(alerts, alert("HostHighLoad", instance, "firing", 20*time.Minute),
			alert("HostMemoryPressure", instance, "pending", time.Minute))
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": map[string]any{"alerts": alerts}})
}

// storage serves a storage that accepts samples but found WAL damage at
// start.
func (f *fakeAPI) storage(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": map[string]any{"accepting": true,
		"wal": map[string]any{"segments_checked": 6, "torn_tails": 0, "damaged_segments": []string{"/var/lib/hawk/wal/00000001"},
			"kept_records": 1534, "lost_records": 2, "damaged_pages": 1, "damaged_dir": "/var/lib/hawk/wal-damaged"}}})
}

// outages serves one network outage, 40 to 35 minutes ago, for any agent.
func (f *fakeAPI) outages(w http.ResponseWriter, _ *http.Request) {
	now := f.now().UTC()
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": []map[string]any{{
		"start": now.Add(-40 * time.Minute).Format(time.RFC3339Nano), "end": now.Add(-35 * time.Minute).Format(time.RFC3339Nano),
		"duration_seconds": 300, "cause": "network"}}})
}

// fakeSeries is one series of a matrix result.
type fakeSeries struct {
	Metric map[string]string `json:"metric"`
	Values [][2]any          `json:"values"`
}

var instanceRE = regexp.MustCompile(`instance="([^"]*)"`)

func (f *fakeAPI) queryRange(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	query := q.Get("query")
	f.mu.Lock()
	f.queries = append(f.queries, query)
	f.mu.Unlock()
	start, err1 := strconv.ParseFloat(q.Get("start"), 64)
	end, err2 := strconv.ParseFloat(q.Get("end"), 64)
	step, err3 := strconv.ParseFloat(q.Get("step"), 64)
	switch {
	case query == "" || err1 != nil || err2 != nil || err3 != nil:
		badData(w, "missing or malformed query, start, end or step")
		return
	case step <= 0 || end < start:
		badData(w, "zero or negative query resolution step widths are not accepted")
		return
	case (end-start)/step > 11000: // Prometheus' own limit
		badData(w, "exceeded maximum resolution of 11,000 points per timeseries")
		return
	}
	var result []fakeSeries
	if m := instanceRE.FindStringSubmatch(query); m != nil {
		if seed, ok := fakeHosts[m[1]]; ok {
			result = synthesize(query, m[1], seed, start, end, step)
		}
	}
	if result == nil {
		result = []fakeSeries{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "success",
		"data": map[string]any{"resultType": "matrix", "result": result}})
}

// wave is a deterministic, smooth pseudo-signal in [0, 1].
func wave(t, seed float64) float64 {
	return 0.5 + 0.3*math.Sin(t/5400+seed) + 0.12*math.Sin(t/1300+2*seed) + 0.05*math.Sin(t/170+seed) + 0.03*math.Sin(t/41+seed)
}

// synthesize builds the matrix a query would return, keyed by metric name.
// Some series have holes (missing points and "NaN") so that gaps get drawn.
func synthesize(query, inst string, seed, start, end, step float64) []fakeSeries {
	type gen struct {
		labels map[string]string
		value  func(t, frac float64) float64 // NaN: emit "NaN"; -1: no point
	}
	var gens []gen
	add := func(v func(t, frac float64) float64, kv ...string) {
		l := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			l[kv[i]] = kv[i+1]
		}
		gens = append(gens, gen{l, v})
	}
	const cores, gib, mib = 4.0, 1 << 30, 1 << 20
	switch {
	case strings.Contains(query, "node_cpu_seconds_total"):
		shares := map[string]float64{"user": .6, "system": .22, "iowait": .08, "softirq": .04, "irq": .01, "nice": .03, "steal": .02}
		for mode, share := range shares {
			add(func(t, _ float64) float64 { return cores * share * 0.7 * wave(t, seed) }, "mode", mode)
		}
		add(func(t, _ float64) float64 { return cores * (1 - 0.7*wave(t, seed)) }, "mode", "idle")
	case strings.Contains(query, "node_load"):
		for i, n := range []string{"1", "5", "15"} {
			smooth := float64(i)
			add(func(t, _ float64) float64 { return cores * (0.4 + 0.6*wave(t-smooth*200, seed)/(1+smooth/3)) },
				"__name__", "node_load"+n, "instance", inst, "job", "node")
		}
	case strings.Contains(query, "node_memory"):
		add(func(float64, float64) float64 { return 16 * gib }, "__name__", "node_memory_MemTotal_bytes", "instance", inst, "job", "node")
		add(func(t, _ float64) float64 { return 16 * gib * (0.25 + 0.4*wave(t, seed+1)) },
			"__name__", "node_memory_MemAvailable_bytes", "instance", inst, "job", "node")
	case strings.Contains(query, "node_filesystem"):
		add(func(t, _ float64) float64 { return 41 + 3*wave(t, seed) }, "mountpoint", "/")
		add(func(t, frac float64) float64 { return 70 + 8*frac }, "mountpoint", "/var")
		add(func(t, frac float64) float64 {
			switch {
			case frac > 0.40 && frac < 0.45:
				return -1
			case frac > 0.60 && frac < 0.62:
				return math.NaN()
			}
			return 18 + wave(t, seed)
		}, "mountpoint", "/home")
	case strings.Contains(query, "node_disk"):
		for _, d := range []struct {
			dev   string
			scale float64
		}{{"nvme0n1", 24 * mib}, {"sda", 3 * mib}} {
			add(func(t, _ float64) float64 { return d.scale * wave(t, seed+2) }, "device", d.dev, "dir", "read")
			add(func(t, _ float64) float64 { return 1.6 * d.scale * wave(t, seed+3) }, "device", d.dev, "dir", "written")
		}
	case strings.Contains(query, "node_network"):
		add(func(t, _ float64) float64 { return 12 * mib * wave(t, seed+4) }, "device", "eth0", "dir", "received")
		add(func(t, _ float64) float64 { return 4 * mib * wave(t, seed+5) }, "device", "eth0", "dir", "sent")
		for _, dir := range []string{"received", "sent"} {
			add(func(t, frac float64) float64 { // the tunnel came up late
				if frac < 0.3 {
					return -1
				}
				return 300 * 1024 * wave(t, seed+6)
			}, "device", "wg0", "dir", dir)
		}
	default:
		return nil
	}
	out := make([]fakeSeries, 0, len(gens))
	for _, g := range gens {
		s := fakeSeries{Metric: g.labels, Values: [][2]any{}}
		for i := 0; ; i++ {
			t := start + float64(i)*step
			if t > end || i > 11000 {
				break
			}
			v := g.value(t, (t-start)/math.Max(end-start, 1))
			switch {
			case math.IsNaN(v):
				s.Values = append(s.Values, [2]any{t, "NaN"})
			case v >= 0:
				s.Values = append(s.Values, [2]any{t, strconv.FormatFloat(v, 'f', -1, 64)})
			}
		}
		out = append(out, s)
	}
	return out
}

// The fake must answer like Prometheus, or the browser tests prove nothing.
func TestFakeAPIMatrix(t *testing.T) {
	srv, f := newFakeServer(t)
	const start, end, step = 1_800_000_000, 1_800_003_600, 15
	query := `sum by (mode) (rate(node_cpu_seconds_total{instance="web-01"}[60s]))`
	url := fmt.Sprintf("%s/api/v1/query_range?query=%s&start=%d&end=%d&step=%d",
		srv.URL, strings.ReplaceAll(query, " ", "%20"), start, end, step)
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Data   struct {
			ResultType string       `json:"resultType"`
			Result     []fakeSeries `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body.Status != "success" || body.Data.ResultType != "matrix" {
		t.Fatalf("status %q, resultType %q", body.Status, body.Data.ResultType)
	}
	if len(body.Data.Result) != 8 {
		t.Fatalf("%d series, want 8 CPU modes", len(body.Data.Result))
	}
	for _, s := range body.Data.Result {
		if n := len(s.Values); n != (end-start)/step+1 {
			t.Errorf("mode %s: %d points, want %d", s.Metric["mode"], n, (end-start)/step+1)
		}
	}
	if got := f.seen(); len(got) != 1 || got[0] != query {
		t.Errorf("recorded queries %q", got)
	}
}

func TestFakeAPIRejects(t *testing.T) {
	srv, _ := newFakeServer(t)
	for _, qs := range []string{
		"query=up&start=0&end=100000000&step=1", // too many points
		"query=up&start=10&end=0&step=1",
		"query=up&start=0&end=10&step=0",
		"start=0&end=10&step=1",
	} {
		resp, err := http.Get(srv.URL + "/api/v1/query_range?" + qs)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", qs, resp.StatusCode)
		}
	}
}
