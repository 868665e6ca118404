package api

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/storage"
	"go.uber.org/goleak"

	"hawk/internal/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// now is the fixed clock of the tests: 1100 s after the epoch.
var now = time.Unix(1100, 0)

type fakeFleet struct{}

func (fakeFleet) Agents(dst []byte, q AgentsQuery) ([]byte, int, error) {
	all := []map[string]any{{"id": "agent-1", "connected": true}, {"id": "agent-2", "connected": false}}
	lo := min(q.Offset, len(all))
	b, err := json.Marshal(all[lo:min(lo+q.Limit, len(all))])
	return append(dst, b...), len(all), err
}

func (fakeFleet) Forget(id string) error {
	switch id {
	case "agent-1":
		return ErrAgentConnected
	case "agent-2":
		return nil
	}
	return ErrUnknownAgent
}

func (fakeFleet) Outages(id string) (any, bool) {
	if id != "agent-2" {
		return nil, false
	}
	return []map[string]any{{"cause": "reboot"}}, true
}

// newTestServer serves the API over a TSDB holding:
//
//	up{job="node",instance="a"} 1 at 1000, 1015, ..., 1060 s
//	up{job="node",instance="b"} 0 at the same times
//	temp_celsius{host="a"}     NaN at 1000 s, +Inf at 1030 s, -Inf at 1060 s
func newTestServer(t *testing.T) *httptest.Server { t.Helper(); return newTestServerWith(t, nil) }

// newTestServerWith is newTestServer with options changed by mod.
func newTestServerWith(t *testing.T, mod func(*Options)) *httptest.Server {
	t.Helper()
	db := openTSDB(t)
	upA := &store.Series{Labels: labels.FromStrings("__name__", "up", "job", "node", "instance", "a"),
		Meta: metadata.Metadata{Type: "gauge", Help: "Whether the agent is up."}}
	upB := &store.Series{Labels: labels.FromStrings("__name__", "up", "job", "node", "instance", "b"), Meta: upA.Meta}
	temp := &store.Series{Labels: labels.FromStrings("__name__", "temp_celsius", "host", "a"),
		Meta: metadata.Metadata{Type: "gauge", Help: "Temperature.", Unit: "celsius"}}
	app := db.Appender()
	for ts := int64(1000); ts <= 1060; ts += 15 {
		mustAppend(t, app, upA, ts*1000, 1)
		mustAppend(t, app, upB, ts*1000, 0)
	}
	mustAppend(t, app, temp, 1000_000, math.NaN())
	mustAppend(t, app, temp, 1030_000, math.Inf(1))
	mustAppend(t, app, temp, 1060_000, math.Inf(-1))
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	opts := Options{
		Queryable: db.Storage(),
		Metadata:  db,
		Fleet:     fakeFleet{},
		Now:       func() time.Time { return now },
		BuildInfo: BuildInfo{Version: "1.2.3", Revision: "abc", GoVersion: "go1.26"},
		Retention: "15d",
	}
	if mod != nil {
		mod(&opts)
	}
	a := New(opts)
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		srv.Close()
		_ = a.Close()
	})
	return srv
}

// openTSDB opens a TSDB in a temporary directory, closed when the test
// ends (after the cleanups registered later, such as its servers').
func openTSDB(tb testing.TB) *store.TSDB {
	tb.Helper()
	db, err := store.OpenTSDB(store.TSDBOptions{Dir: tb.TempDir()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

func mustAppend(t *testing.T, app store.Appender, s *store.Series, ts int64, v float64) {
	t.Helper()
	if err := app.Append(s, ts, v); err != nil {
		t.Fatal(err)
	}
}

// call does a GET (params in the URL) or a form POST and returns the
// status code and the decoded JSON body.
func call(t *testing.T, srv *httptest.Server, method, path string, params url.Values) (int, any) {
	t.Helper()
	var (
		resp *http.Response
		err  error
	)
	switch method {
	case http.MethodGet:
		resp, err = http.Get(srv.URL + path + "?" + params.Encode())
	case http.MethodPost:
		resp, err = http.PostForm(srv.URL+path, params)
	default:
		t.Fatalf("method %s", method)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: Content-Type %q, body %s", method, path, ct, body)
	}
	var got any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("%s %s: %v in %s", method, path, err, body)
	}
	return resp.StatusCode, got
}

// expect calls path with both methods and compares the JSON structurally.
func expect(t *testing.T, srv *httptest.Server, path string, params url.Values, code int, wantJSON string) {
	t.Helper()
	var want any
	if err := json.Unmarshal([]byte(wantJSON), &want); err != nil {
		t.Fatalf("bad want JSON: %v", err)
	}
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		gotCode, got := call(t, srv, m, path, params)
		if gotCode != code || !reflect.DeepEqual(got, want) {
			g, _ := json.Marshal(got)
			t.Errorf("%s %s?%s:\n got %d %s\nwant %d %s", m, path, params.Encode(), gotCode, g, code, wantJSON)
		}
	}
}

func vals(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

func TestQueryInstant(t *testing.T) {
	srv := newTestServer(t)
	expect(t, srv, "/api/v1/query", vals("query", "up", "time", "1060"), 200, `{"status":"success","data":{
		"resultType":"vector","result":[
		{"metric":{"__name__":"up","instance":"a","job":"node"},"value":[1060,"1"]},
		{"metric":{"__name__":"up","instance":"b","job":"node"},"value":[1060,"0"]}]}}`)
	// Default time is Now (1100 s), within the 5 m lookback.
	expect(t, srv, "/api/v1/query", vals("query", `sum(up)`), 200, `{"status":"success","data":{
		"resultType":"vector","result":[{"metric":{},"value":[1100,"1"]}]}}`)
	expect(t, srv, "/api/v1/query", vals("query", "1+1", "time", "2015-07-01T20:10:51.781Z"), 200,
		`{"status":"success","data":{"resultType":"scalar","result":[1435781451.781,"2"]}}`)
	expect(t, srv, "/api/v1/query", vals("query", `"hello"`, "time", "1060.5"), 200,
		`{"status":"success","data":{"resultType":"string","result":[1060.5,"hello"]}}`)
	expect(t, srv, "/api/v1/query", vals("query", "nothing_here", "time", "1060"), 200,
		`{"status":"success","data":{"resultType":"vector","result":[]}}`)
}

func TestQuerySpecialValues(t *testing.T) {
	srv := newTestServer(t)
	expect(t, srv, "/api/v1/query_range", vals("query", "temp_celsius", "start", "1000", "end", "1060", "step", "30s"), 200,
		`{"status":"success","data":{"resultType":"matrix","result":[
		{"metric":{"__name__":"temp_celsius","host":"a"},"values":[[1000,"NaN"],[1030,"+Inf"],[1060,"-Inf"]]}]}}`)
}

func TestQueryRange(t *testing.T) {
	srv := newTestServer(t)
	expect(t, srv, "/api/v1/query_range",
		vals("query", `up{instance="a"} * 2`, "start", "1970-01-01T00:16:40Z", "end", "1060", "step", "30"), 200,
		`{"status":"success","data":{"resultType":"matrix","result":[
		{"metric":{"instance":"a","job":"node"},"values":[[1000,"2"],[1030,"2"],[1060,"2"]]}]}}`)
}

func TestQueryLimitAndAnnotations(t *testing.T) {
	srv := newTestServer(t)
	expect(t, srv, "/api/v1/query", vals("query", "up", "time", "1060", "limit", "1"), 200, `{"status":"success","data":{
		"resultType":"vector","result":[
		{"metric":{"__name__":"up","instance":"a","job":"node"},"value":[1060,"1"]}]},
		"warnings":["results truncated due to limit"]}`)
	_, got := call(t, srv, http.MethodGet, "/api/v1/query", vals("query", "rate(up[1m])", "time", "1060"))
	infos, _ := got.(map[string]any)["infos"].([]any)
	if len(infos) != 1 || !strings.Contains(infos[0].(string), "might not be a counter") {
		t.Fatalf("rate(up) infos = %v, want the not-a-counter info", got)
	}
}

func TestSeries(t *testing.T) {
	srv := newTestServer(t)
	expect(t, srv, "/api/v1/series", vals("match[]", "up", "match[]", `{__name__="temp_celsius"}`), 200, `{"status":"success","data":[
		{"__name__":"temp_celsius","host":"a"},
		{"__name__":"up","instance":"a","job":"node"},
		{"__name__":"up","instance":"b","job":"node"}]}`)
	expect(t, srv, "/api/v1/series", vals("match[]", "up", "limit", "1", "start", "900", "end", "1100"), 200,
		`{"status":"success","data":[{"__name__":"up","instance":"a","job":"node"}],
		"warnings":["results truncated due to limit"]}`)
	expect(t, srv, "/api/v1/series", vals("match[]", "up", "start", "2000", "end", "3000"), 200,
		`{"status":"success","data":[]}`)
}

func TestLabels(t *testing.T) {
	srv := newTestServer(t)
	expect(t, srv, "/api/v1/labels", nil, 200,
		`{"status":"success","data":["__name__","host","instance","job"]}`)
	expect(t, srv, "/api/v1/labels", vals("match[]", "temp_celsius"), 200,
		`{"status":"success","data":["__name__","host"]}`)
	expect(t, srv, "/api/v1/label/__name__/values", nil, 200,
		`{"status":"success","data":["temp_celsius","up"]}`)
	expect(t, srv, "/api/v1/label/instance/values", vals("match[]", `up{instance="b"}`, "match[]", `up{instance="a"}`), 200,
		`{"status":"success","data":["a","b"]}`)
	expect(t, srv, "/api/v1/label/instance/values", vals("limit", "1"), 200,
		`{"status":"success","data":["a"],"warnings":["results truncated due to limit"]}`)
	expect(t, srv, "/api/v1/label/nope/values", nil, 200, `{"status":"success","data":[]}`)
}

func TestMetadata(t *testing.T) {
	srv := newTestServer(t)
	expect(t, srv, "/api/v1/metadata", nil, 200, `{"status":"success","data":{
		"temp_celsius":[{"type":"gauge","unit":"celsius","help":"Temperature."}],
		"up":[{"type":"gauge","unit":"","help":"Whether the agent is up."}]}}`)
	expect(t, srv, "/api/v1/metadata", vals("metric", "up"), 200, `{"status":"success","data":{
		"up":[{"type":"gauge","unit":"","help":"Whether the agent is up."}]}}`)
	expect(t, srv, "/api/v1/metadata", vals("limit", "1"), 200, `{"status":"success","data":{
		"temp_celsius":[{"type":"gauge","unit":"celsius","help":"Temperature."}]}}`)
}

func TestStatusAndAgents(t *testing.T) {
	srv := newTestServer(t)
	expect(t, srv, "/api/v1/status/buildinfo", nil, 200, `{"status":"success","data":{
		"version":"1.2.3","revision":"abc","branch":"","buildUser":"","buildDate":"","goVersion":"go1.26"}}`)
	expect(t, srv, "/api/v1/status/config", nil, 200, `{"status":"success","data":{"yaml":"global: {}\n"}}`)
	expect(t, srv, "/api/v1/agents", nil, 200, `{"status":"success","data":[{"id":"agent-1","connected":true},{"id":"agent-2","connected":false}]}`)
	code, got := call(t, srv, http.MethodGet, "/api/v1/status/runtimeinfo", nil)
	data, _ := got.(map[string]any)["data"].(map[string]any)
	if code != 200 || data["storageRetention"] != "15d" || data["serverTime"] != "1970-01-01T00:18:20Z" {
		t.Fatalf("runtimeinfo = %d %v", code, got)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	srv := newTestServer(t)
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/api/v1/query?query=up", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("PUT = %d, want 405", resp.StatusCode)
	}
}

// TestWriteInChunks: an answer larger than writeChunk arrives whole, in
// writes of at most writeChunk bytes, with its length in Content-Length.
func TestWriteInChunks(t *testing.T) {
	a := New(Options{Queryable: storage.QueryableFunc(func(int64, int64) (storage.Querier, error) {
		return storage.NoopQuerier(), nil
	}), Registerer: prometheus.NewRegistry()})
	defer a.Close()
	raw := []byte(`["` + strings.Repeat("x", 2*writeChunk+100) + `"]`)
	w := &chunkRecorder{ResponseRecorder: httptest.NewRecorder()}
	a.write(w, http.StatusOK, &response{Status: "success", raw: raw}, nil)
	want := `{"status":"success","data":` + string(raw) + `}`
	if got := w.Body.String(); got != want {
		t.Fatalf("body of %d bytes, want %d", len(got), len(want))
	}
	if got := w.Header().Get("Content-Length"); got != strconv.Itoa(len(want)) {
		t.Fatalf("Content-Length %q, want %d", got, len(want))
	}
	if w.largest > writeChunk || w.writes < 3 {
		t.Fatalf("%d writes, the largest %d bytes; want 3 or more, none over %d", w.writes, w.largest, writeChunk)
	}
}

// chunkRecorder counts the writes of a response and its largest.
type chunkRecorder struct {
	*httptest.ResponseRecorder
	writes, largest int
}

func (r *chunkRecorder) Write(b []byte) (int, error) {
	r.writes++
	r.largest = max(r.largest, len(b))
	return r.ResponseRecorder.Write(b)
}

// TestSeriesAnswersReuseBuffers: series answers are encoded into buffers
// earlier answers grew (answerBuf). Answers of different sizes, larger
// than writeChunk so that their writes yield midway, asked concurrently,
// each come back whole and only their own; under -race, a buffer handed
// back before its answer is written is also reported as a data race.
func TestSeriesAnswersReuseBuffers(t *testing.T) {
	db := openTSDB(t)
	app := db.Appender()
	sizes := map[string]int{"big": 3000, "mid": 1000, "small": 1}
	for name, n := range sizes {
		for i := range n {
			mustAppend(t, app, &store.Series{Labels: labels.FromStrings("__name__", name,
				"n", fmt.Sprintf("%s-%06d-%s", name, i, strings.Repeat("x", 60)))}, 1000_000, 1)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	a := New(Options{Queryable: db.Storage(), Metadata: db, Now: func() time.Time { return now }, SeriesLookupRate: -1, Registerer: prometheus.NewRegistry()})
	defer a.Close()
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	get := func(name string) (string, error) {
		resp, err := http.Get(srv.URL + "/api/v1/series?" + vals("match[]", name).Encode())
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	want := map[string]string{}
	for name, n := range sizes {
		body, err := get(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(body, `"__name__":"`+name+`"`); got != n {
			t.Fatalf("%s: %d series in the answer, want %d", name, got, n)
		}
		want[name] = body
	}
	if len(want["big"]) < 2*writeChunk {
		t.Fatalf("big answer of %d bytes: not written in several chunks", len(want["big"]))
	}
	var (
		wg   sync.WaitGroup
		errs = make(chan error, 3*len(sizes))
	)
	for range 3 {
		for name := range sizes {
			wg.Go(func() {
				for range 20 {
					body, err := get(name)
					if err != nil || body != want[name] {
						errs <- fmt.Errorf("%s: got %d bytes (%v) %.80q…, want %d bytes", name, len(body), err, body, len(want[name]))
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
