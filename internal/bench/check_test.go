package bench

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"
	"time"

	"hawk/internal/wire"
)

// fakeAPI answers raw range selector queries from points, keyed by
// instance label, as /api/v1/query does.
type fakeAPI struct {
	t      *testing.T
	series map[string][]fakeSeries // by instance
}

type fakeSeries struct {
	metric map[string]string
	points [][2]any
}

var selRE = regexp.MustCompile(`^\{instance="([^"]+)",bench="audit"\}\[(\d+)ms\]$`)

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := selRE.FindStringSubmatch(r.FormValue("query"))
	if r.URL.Path != "/api/v1/query" || m == nil {
		f.t.Errorf("unexpected request %s %q", r.URL.Path, r.FormValue("query"))
		http.Error(w, `{"status":"error","error":"bad query"}`, http.StatusBadRequest)
		return
	}
	if m[1] == "broken" {
		http.Error(w, `{"status":"error","errorType":"internal","error":"boom"}`, http.StatusInternalServerError)
		return
	}
	evalAt, _ := strconv.ParseFloat(r.FormValue("time"), 64)
	rng, _ := strconv.ParseInt(m[2], 10, 64)
	type res struct {
		Metric map[string]string `json:"metric"`
		Values [][2]any          `json:"values"`
	}
	out := []res{}
	for _, s := range f.series[m[1]] {
		var vs [][2]any
		for _, p := range s.points {
			t := int64(p[0].(float64) * 1000)
			if end := int64(evalAt * 1000); t > end-rng && t <= end {
				vs = append(vs, p)
			}
		}
		if len(vs) > 0 {
			out = append(out, res{s.metric, vs})
		}
	}
	json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{"resultType": "matrix", "result": out}})
}

// auditExpect returns the expectation of a small audit agent and the
// points a perfect store would hold for it.
func auditExpect(instance string, series, batches int) (Expect, []fakeSeries) {
	e := Expect{Instance: instance, Defs: auditDefs(series, instance), Batches: batches,
		Start: time.UnixMilli(1700000000000), Interval: 500 * time.Millisecond}
	var fs []fakeSeries
	for _, d := range e.Defs {
		s := fakeSeries{metric: map[string]string{"__name__": d.Name}}
		for _, l := range d.Labels {
			s.metric[l.Name] = l.Value
		}
		for k := 1; k <= batches; k++ {
			t := e.Start.Add(time.Duration(k-1) * e.Interval).UnixMilli()
			s.points = append(s.points, [2]any{float64(t) / 1000, strconv.Itoa(k)})
		}
		fs = append(fs, s)
	}
	return e, fs
}

func runCheck(t *testing.T, api *fakeAPI, exps ...Expect) CheckResult {
	t.Helper()
	srv := httptest.NewServer(api)
	defer srv.Close()
	ch := Checker{API: srv.URL, Parallel: 2}
	return ch.Check(context.Background(), exps)
}

func TestCheckAllStored(t *testing.T) {
	e1, s1 := auditExpect("a1", 5, 4)
	e2, s2 := auditExpect("a2", 5, 4)
	// A sample of another run just outside the range is not counted.
	s2[0].points = append([][2]any{{float64(e2.Start.UnixMilli()-500) / 1000, "0"}}, s2[0].points...)
	res := runCheck(t, &fakeAPI{t: t, series: map[string][]fakeSeries{"a1": s1, "a2": s2}}, e1, e2)
	if !res.OK() || res.Expected != 40 || res.Stored != 40 {
		t.Fatalf("%+v", res)
	}
}

func TestCheckFindsLossesAndDuplicates(t *testing.T) {
	e, s := auditExpect("a1", 3, 5)
	s[0].points = s[0].points[1:]                     // series 0 lost batch 1
	s[1].points = append(s[1].points, s[1].points[2]) // batch 3 twice
	s[2].points[4] = [2]any{s[2].points[4][0], "9"}   // wrong value
	extra := fakeSeries{metric: map[string]string{"__name__": "stray", "instance": "a1", "bench": "audit"},
		points: [][2]any{{float64(e.Start.UnixMilli()) / 1000, "1"}}}
	res := runCheck(t, &fakeAPI{t: t, series: map[string][]fakeSeries{"a1": append(s, extra)}}, e)
	want := CheckResult{Expected: 15, Stored: 13, Missing: 2, Duplicated: 1, Unexpected: 2}
	if res != want {
		t.Fatalf("got %+v\nwant %+v", res, want)
	}
	if res.OK() {
		t.Fatal("OK with losses")
	}
}

func TestCheckQueryError(t *testing.T) {
	e, _ := auditExpect("broken", 2, 3)
	res := runCheck(t, &fakeAPI{t: t}, e)
	if res.QueryErrors != 1 || res.Missing != 6 || res.FirstError == "" || res.OK() {
		t.Fatalf("%+v", res)
	}
}

func TestCheckNothingStored(t *testing.T) {
	e, _ := auditExpect("a9", 2, 3)
	res := runCheck(t, &fakeAPI{t: t, series: map[string][]fakeSeries{}}, e)
	if res.Missing != 6 || res.OK() {
		t.Fatalf("%+v", res)
	}
}

var _ = wire.SeriesDef{}
