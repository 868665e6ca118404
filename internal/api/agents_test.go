package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
)

func TestAgentsPaged(t *testing.T) {
	srv := newTestServer(t)
	expect(t, srv, "/api/v1/agents", vals("limit", "1", "offset", "1"), 200,
		`{"status":"success","data":[{"id":"agent-2","connected":false}]}`)
	expect(t, srv, "/api/v1/agents", vals("limit", "-1"), 400,
		`{"status":"error","errorType":"bad_data","error":"invalid parameter \"limit\": want an integer from 0 to 5000"}`)
	resp, err := http.Get(srv.URL + "/api/v1/agents?limit=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Total-Count"); got != "2" {
		t.Fatalf("X-Total-Count = %q, want 2", got)
	}
	expect(t, srv, "/api/v1/agents/agent-2/outages", nil, 200, `{"status":"success","data":[{"cause":"reboot"}]}`)
}

func TestForgetAgent(t *testing.T) {
	srv := newTestServer(t)
	for _, c := range []struct {
		method, path string
		code         int
	}{
		{http.MethodDelete, "/api/v1/agents/agent-2", 200},
		{http.MethodPost, "/api/v1/agents/agent-2/forget", 200},
		{http.MethodDelete, "/api/v1/agents/agent-1", 409},
		{http.MethodPost, "/api/v1/agents/nope/forget", 404},
		{http.MethodGet, "/api/v1/agents/agent-2/forget", 405},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.code {
			t.Errorf("%s %s = %d, want %d", c.method, c.path, resp.StatusCode, c.code)
		}
	}
}

// TestEncodeResponseSplicesRaw: an envelope whose data is already encoded
// is byte for byte json.Marshal of the envelope with that data in it.
func TestEncodeResponseSplicesRaw(t *testing.T) {
	raw := []byte(`[{"agent_id":"a\u003c","labels":{"b":"\u2028"}},{}]`)
	for _, resp := range []response{
		{Status: "success"},
		{Status: "success", Warnings: []string{"w<1>"}, Infos: []string{"i"}},
		{Status: "error", ErrorType: "internal", Error: `bad "x"`},
	} {
		want := resp
		want.Data = json.RawMessage(raw)
		wantB, err := json.Marshal(&want)
		if err != nil {
			t.Fatal(err)
		}
		resp.raw = raw
		pieces, err := encodeResponse(&resp)
		if err != nil {
			t.Fatal(err)
		}
		if got := bytes.Join(pieces, nil); !bytes.Equal(got, wantB) {
			t.Errorf("got  %s\nwant %s", got, wantB)
		}
		if len(pieces) != 3 || &pieces[1][0] != &raw[0] {
			t.Errorf("data copied, not written as is: %d pieces", len(pieces))
		}
	}
}
