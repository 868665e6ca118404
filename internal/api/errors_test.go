package api

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestErrors checks error type, status code and message of bad requests,
// for GET and POST alike.
func TestErrors(t *testing.T) {
	srv := newTestServer(t)
	cases := []struct {
		path    string
		params  url.Values
		code    int
		errType string
		msg     string // prefix of "error"
	}{
		{"/api/v1/query", vals("query", "up{"), 400, "bad_data", `invalid parameter "query": `},
		{"/api/v1/query", vals("query", ""), 400, "bad_data", `invalid parameter "query": `},
		{"/api/v1/query", vals("query", "up", "time", "yesterday"), 400, "bad_data",
			`invalid parameter "time": invalid time value for 'time': cannot parse "yesterday" to a valid timestamp`},
		{"/api/v1/query", vals("query", "up", "limit", "-1"), 400, "bad_data",
			`invalid parameter "limit": limit must be non-negative`},
		{"/api/v1/query", vals("query", "up", "timeout", "-1s"), 400, "bad_data", `invalid parameter "timeout"`},
		{"/api/v1/query", vals("query", "up", "lookback_delta", "x"), 400, "bad_data", "error parsing lookback delta duration"},
		{"/api/v1/query", vals("query", "up + on(job) up", "time", "1060"), 422, "execution", "found duplicate series"},
		{"/api/v1/query_range", vals("query", "up", "start", "1060", "end", "1000", "step", "15"), 400, "bad_data",
			`invalid parameter "end": end timestamp must not be before start time`},
		{"/api/v1/query_range", vals("query", "up", "start", "1000", "end", "1060", "step", "0"), 400, "bad_data",
			`invalid parameter "step": zero or negative query resolution step widths are not accepted`},
		{"/api/v1/query_range", vals("query", "up", "start", "1000", "end", "1060", "step", "1h5x"), 400, "bad_data",
			`invalid parameter "step": cannot parse "1h5x" to a valid duration`},
		{"/api/v1/query_range", vals("query", "up", "start", "0", "end", "100000", "step", "1"), 400, "bad_data",
			"exceeded maximum resolution of 11,000 points per timeseries"},
		{"/api/v1/query_range", vals("query", "up", "end", "1060", "step", "15"), 400, "bad_data", `invalid parameter "start"`},
		{"/api/v1/series", nil, 400, "bad_data", "no match[] parameter provided"},
		{"/api/v1/series", vals("match[]", `{job=~".*"}`), 400, "bad_data",
			`invalid parameter "match[]": match[] must contain at least one non-empty matcher`},
		{"/api/v1/series", vals("match[]", "up{"), 400, "bad_data", `invalid parameter "match[]": `},
		{"/api/v1/labels", vals("start", "x"), 400, "bad_data", `invalid parameter "start"`},
		{"/api/v1/labels", vals("match[]", "up{"), 400, "bad_data", ""},
		{"/api/v1/label/%FF/values", nil, 400, "bad_data", `invalid label name: "\xff"`},
		{"/api/v1/label/job/values", vals("limit", "x"), 400, "bad_data", `invalid parameter "limit"`},
		{"/api/v1/metadata", vals("limit", "x"), 400, "bad_data", "limit must be a number"},
		{"/api/v1/metadata", vals("limit_per_metric", "x"), 400, "bad_data", "limit_per_metric must be a number"},
	}
	for _, tc := range cases {
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			code, got := call(t, srv, m, tc.path, tc.params)
			body, _ := got.(map[string]any)
			msg, _ := body["error"].(string)
			if code != tc.code || body["status"] != "error" || body["errorType"] != tc.errType ||
				!strings.HasPrefix(msg, tc.msg) && !strings.Contains(msg, tc.msg) {
				t.Errorf("%s %s?%s = %d %v, want %d %s %q", m, tc.path, tc.params.Encode(), code, got, tc.code, tc.errType, tc.msg)
			}
			if _, ok := body["data"]; ok {
				t.Errorf("%s %s: error response has data: %v", m, tc.path, got)
			}
		}
	}
}

// TestUTF8EscapedLabelName checks the U__ escaping Grafana uses for label
// names that are not legacy identifiers.
func TestUTF8EscapedLabelName(t *testing.T) {
	srv := newTestServer(t)
	expect(t, srv, "/api/v1/label/U__job/values", nil, 200, `{"status":"success","data":["node"]}`)
}

// TestQueryTimeout gives the query a deadline that has passed before it
// runs: Prometheus answers 503 with errorType timeout.
func TestQueryTimeout(t *testing.T) {
	srv := newTestServer(t)
	for _, path := range []string{"/api/v1/query", "/api/v1/query_range"} {
		code, got := call(t, srv, http.MethodGet, path, vals("query", "up", "timeout", "0.000000001", "start", "1000", "end", "1060", "step", "15"))
		body, _ := got.(map[string]any)
		if code != 503 || body["errorType"] != "timeout" {
			t.Errorf("%s with a 1 ns timeout = %d %v, want 503 timeout", path, code, got)
		}
	}
}
