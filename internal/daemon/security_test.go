package daemon

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hawk/internal/server"
	"hawk/internal/server/testpki"
)

// startDaemon starts hawk-server with args on loopback ports and stops it
// with the test.
func startDaemon(t *testing.T, args ...string) *Daemon {
	t.Helper()
	args = append([]string{"-listen", "127.0.0.1:0", "-http", "127.0.0.1:0", "-data", t.TempDir()}, args...)
	cfg, err := parse(t, "", args...)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Start(cfg, Listeners{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := d.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return d
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// get requests path with the Authorization header auth (none if empty)
// and returns the status and body.
func get(t *testing.T, c *http.Client, base, path, auth string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func sha(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

// TestHTTPCatalogue holds the HTTP rows of docs/security.md.
func TestHTTPCatalogue(t *testing.T) {
	token := writeFile(t, "token", "api-s3cret\n")
	users := writeFile(t, "users", "# user:sha256(password)\nalice:"+sha("wonderland")+"\n")
	d := startDaemon(t, "-http-auth-token-file", token, "-http-basic-auth-users-file", users,
		"-query-max-samples", "1000")
	base := "http://" + d.HTTPAddr().String()
	bearer := "Bearer api-s3cret"
	c := http.DefaultClient
	unauthorized := func(reason string) float64 {
		_, body := get(t, c, base, "/metrics", bearer)
		for _, line := range strings.Split(body, "\n") {
			if strings.HasPrefix(line, `hawk_server_http_unauthorized_total{reason="`+reason+`"} `) {
				var v float64
				for _, ch := range strings.Fields(line)[1] {
					v = v*10 + float64(ch-'0')
				}
				return v
			}
		}
		return 0
	}
	basic := func(user, pass string) string {
		r := &http.Request{Header: http.Header{}}
		r.SetBasicAuth(user, pass)
		return r.Header.Get("Authorization")
	}
	rows := []struct {
		name, path, auth string
		status           int
		body, counter    string
	}{
		{"http/missing_auth", "/api/v1/query?query=1", "", 401, "unauthorized", "missing"},
		{"http/wrong_token", "/api/v1/query?query=1", "Bearer guess", 401, "unauthorized", "wrong"},
		{"http/wrong_basic_password", "/api/v1/query?query=1", basic("alice", "guess"), 401, "unauthorized", "wrong"},
		{"http/unknown_basic_user", "/", basic("mallory", "wonderland"), 401, "unauthorized", "wrong"},
		{"http/metrics_need_auth", "/metrics", "", 401, "unauthorized", "missing"},
		{"http/right_token", "/api/v1/query?query=1", bearer, 200, `"status":"success"`, ""},
		{"http/bearer_lower_case", "/api/v1/query?query=1", "bearer api-s3cret", 200, `"status":"success"`, ""},
		{"http/right_basic_password", "/api/v1/query?query=1", basic("alice", "wonderland"), 200, `"status":"success"`, ""},
		{"http/bad_promql", "/api/v1/query?query=" + url.QueryEscape("sum(rate(x[5m]"), bearer, 400, `"errorType":"bad_data"`, ""},
		{"http/query_over_sample_limit", "/api/v1/query?query=" + url.QueryEscape("count_over_time(vector(1)[1h:1s])"), bearer, 422, "too many samples", ""},
		{"http/bad_time_range", "/api/v1/query_range?query=1&start=10&end=1&step=1", bearer, 400, `"errorType":"bad_data"`, ""},
		{"http/too_many_points", "/api/v1/query_range?query=1&start=0&end=100000000&step=1", bearer, 400, "exceeded maximum resolution", ""},
		{"http/huge_url", "/api/v1/series?match[]=" + strings.Repeat("x", 2<<20), bearer, 431, "", ""},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			before := 0.0
			if r.counter != "" {
				before = unauthorized(r.counter)
			}
			status, body := get(t, c, base, r.path, r.auth)
			if status != r.status || !strings.Contains(body, r.body) {
				t.Fatalf("got %d %.200q, want %d with %q", status, body, r.status, r.body)
			}
			if r.counter != "" {
				if got := unauthorized(r.counter); got != before+1 {
					t.Fatalf("hawk_server_http_unauthorized_total{reason=%q} = %v, want %v", r.counter, got, before+1)
				}
			}
		})
	}
	t.Run("http/huge_match_post", func(t *testing.T) {
		form := url.Values{}
		for i := range 20000 {
			form.Add("match[]", `{__name__="m`+strings.Repeat("x", i%50)+`"}`)
		}
		body := form.Encode() + "&pad=" + strings.Repeat("x", 11<<20) // beyond net/http's 10 MB form limit
		req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/series", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", bearer)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Fatalf("status %d, want 400", resp.StatusCode)
		}
	})
	t.Run("http/query_timeout", func(t *testing.T) {
		d := startDaemon(t, "-query-timeout", "1ms")
		status, body := get(t, c, "http://"+d.HTTPAddr().String(), "/api/v1/query?query="+url.QueryEscape("count_over_time(vector(1)[30d:1s])"), "")
		if status != 503 || !strings.Contains(body, `"errorType":"timeout"`) {
			t.Fatalf("got %d %.200q, want 503 timeout", status, body)
		}
	})
}

// TestHTTPTLS serves the HTTP side over TLS: an HTTPS client that trusts
// the CA is served, a plain HTTP request is refused.
func TestHTTPTLS(t *testing.T) {
	ca := testpki.NewCA(t, "hawk CA")
	dir := t.TempDir()
	_, cert, key := ca.WriteFiles(t, dir, "http", "hawk", "127.0.0.1")
	d := startDaemon(t, "-http-tls-cert-file", cert, "-http-tls-key-file", key)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool}}}
	if status, body := get(t, hc, "https://"+d.HTTPAddr().String(), "/api/v1/query?query=1", ""); status != 200 {
		t.Fatalf("https: %d %s", status, body)
	}
	t.Run("http/plain_http_to_https", func(t *testing.T) {
		status, body := get(t, http.DefaultClient, "http://"+d.HTTPAddr().String(), "/api/v1/query?query=1", "")
		if status != 400 || !strings.Contains(body, "HTTPS") {
			t.Fatalf("plain HTTP: %d %q", status, body)
		}
	})
}

// TestSecurityFlags parses the security flags into a server.Config and
// refuses bad values.
func TestSecurityFlags(t *testing.T) {
	ca := testpki.NewCA(t, "hawk CA")
	dir := t.TempDir()
	caFile, cert, key := ca.WriteFiles(t, dir, "server", "hawk", "127.0.0.1")
	tokens := writeFile(t, "tokens", "# id token\nagent-1 one\nagent-2 two\n")
	cfg, err := parse(t, "max-series-per-agent: 7\n", "-tls-cert-file", cert, "-tls-key-file", key, "-tls-client-ca-file", caFile,
		"-auth-tokens-file", tokens, "-legacy-allow", "10.0.0.0/8, 127.0.0.1", "-max-connections-per-address", "9",
		"-frame-timeout", "5s", "-max-future-skew", "1m", "-tls-plaintext", "none")
	if err != nil {
		t.Fatal(err)
	}
	var sc server.Config
	if err := cfg.Security.apply(&sc); err != nil {
		t.Fatal(err)
	}
	if sc.TLS == nil || sc.TLS.MinVersion != tls.VersionTLS13 || sc.TLS.ClientAuth != tls.RequireAndVerifyClientCert ||
		!sc.BindClientCert || sc.Plaintext != server.PlaintextNone || sc.Auth == nil || len(sc.LegacyAllow) != 2 ||
		sc.LegacyAllow[1].String() != "127.0.0.1/32" || sc.MaxConnsPerAddr != 9 || sc.MaxSeriesPerAgent != 7 ||
		sc.FrameTimeout != 5*time.Second || sc.MaxFutureSkew != time.Minute {
		t.Fatalf("config %+v", sc)
	}
	for _, bad := range [][]string{
		{"-tls-min-version", "1.1", "-tls-cert-file", cert, "-tls-key-file", key},
		{"-tls-plaintext", "some"},
		{"-legacy-allow", "10.0.0.0/33"},
		{"-tls-client-ca-file", caFile},
		{"-tls-cert-file", cert, "-tls-key-file", caFile},
		{"-auth-token-file", writeFile(t, "empty", "\n")},
		{"-auth-tokens-file", writeFile(t, "bad", "only-an-id\n")},
	} {
		cfg, err := parse(t, "", bad...)
		if err == nil {
			err = cfg.Security.apply(&server.Config{})
		}
		if err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	users := writeFile(t, "users", "bob:nothex\n")
	cfg, _ = parse(t, "", "-http-basic-auth-users-file", users)
	if _, err := cfg.Security.httpHandler(http.NotFoundHandler(), prometheus.NewRegistry()); err == nil {
		t.Error("bad users file accepted")
	}
}

// TestAuthFailureFlags: the refused-HELLO delay, penalty and log rate
// reach server.Config with their defaults, and 0 turns each off.
func TestAuthFailureFlags(t *testing.T) {
	for _, tc := range []struct {
		args              []string
		delay, penalty    time.Duration
		failures, sources int
		logs              int
	}{
		{nil, time.Second, time.Minute, 100, 16384, 5},
		{[]string{"-auth-failure-delay", "0", "-max-auth-failures-per-source", "0", "-max-refusal-logs-per-second", "0",
			"-auth-failure-penalty", "5m", "-auth-failure-sources", "100"}, 0, 5 * time.Minute, 0, 100, -1},
	} {
		cfg, err := parse(t, "", tc.args...)
		if err != nil {
			t.Fatal(err)
		}
		var sc server.Config
		if err := cfg.Security.apply(&sc); err != nil {
			t.Fatal(err)
		}
		if sc.AuthFailureDelay != tc.delay || sc.AuthFailurePenalty != tc.penalty || sc.MaxAuthFailures != tc.failures ||
			sc.AuthFailureSources != tc.sources || sc.RefusalLogsPerSecond != tc.logs {
			t.Errorf("%q: delay %v penalty %v failures %d sources %d logs %d", tc.args, sc.AuthFailureDelay,
				sc.AuthFailurePenalty, sc.MaxAuthFailures, sc.AuthFailureSources, sc.RefusalLogsPerSecond)
		}
	}
}

// TestDaemonTLSAndToken runs hawk-server with TLS only and a shared token;
// its -demo agent gets through with the token over TLS and its data is
// queryable.
func TestDaemonTLSAndToken(t *testing.T) {
	ca := testpki.NewCA(t, "hawk CA")
	_, cert, key := ca.WriteFiles(t, t.TempDir(), "server", "hawk", "127.0.0.1")
	d := startDaemon(t, "-tls-cert-file", cert, "-tls-key-file", key, "-tls-plaintext", "none",
		"-auth-token-file", writeFile(t, "token", "demo-token\n"), "-demo", "-demo-interval", "100ms")
	base := "http://" + d.HTTPAddr().String()
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, body := get(t, http.DefaultClient, base, "/api/v1/query?query=node_memory_MemTotal_bytes", "")
		if strings.Contains(body, `"value"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no data from the demo agent over TLS: %s", body)
		}
		time.Sleep(50 * time.Millisecond) // no signal for "queryable" but looking
	}
}

// TestHTTPCatalogueDocumented checks that the HTTP rows of
// docs/security.md name these tests' subtests, and the reverse.
func TestHTTPCatalogueDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/security.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("`(TestHTTP(?:Catalogue|TLS)/[^`]+)`").FindAllStringSubmatch(string(doc), -1) {
		documented[m[1]] = true
	}
	src, err := os.ReadFile("security_test.go")
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]bool{}
	for _, m := range regexp.MustCompile(`"(http/[a-z_0-9]+)"`).FindAllStringSubmatch(string(src), -1) {
		tests[m[1]] = true
	}
	for name := range documented {
		if !tests[name[strings.Index(name, "/")+1:]] {
			t.Errorf("docs/security.md names %s, which does not exist", name)
		}
	}
	for name := range tests {
		if !documented["TestHTTPCatalogue/"+name] && !documented["TestHTTPTLS/"+name] {
			t.Errorf("subtest %s is not in docs/security.md", name)
		}
	}
}
