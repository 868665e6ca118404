package inputs

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// TestScrapeAuth: each kind of credentials reaches the target, and a
// secret file is read at each scrape. The target, on loopback, is not
// asked to compress.
func TestScrapeAuth(t *testing.T) {
	var (
		mu  sync.Mutex
		got []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("Authorization"))
		mu.Unlock()
		if ae := r.Header.Get("Accept-Encoding"); ae != "" {
			t.Errorf("a loopback target is asked for Accept-Encoding %q", ae)
		}
		w.Write([]byte("a 1\n"))
	}))
	defer srv.Close()
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("secret1\n"), 0o600)
	for _, c := range []struct {
		yaml string
		want string
	}{
		{"basic_auth: {username: u, password: p}", "Basic dTpw"},
		{"authorization: {credentials: tok}", "Bearer tok"},
		{"authorization: {type: Splunk, credentials: tok}", "Splunk tok"},
		{"bearer_token: tok", "Bearer tok"},
		{"authorization: {credentials_file: " + pw + "}", "Bearer secret1"},
	} {
		var x Targets
		if err := yaml.Unmarshal([]byte("- url: "+srv.URL+"\n  "+c.yaml+"\n"), &x); err != nil {
			t.Fatalf("%s: %v", c.yaml, err)
		}
		x[0].Timeout, x[0].Interval = 5*time.Second, time.Minute
		s, err := newScraper(x[0], "h", testLimits, nilLogger())
		if err != nil {
			t.Fatalf("%s: %v", c.yaml, err)
		}
		mu.Lock()
		got = nil
		mu.Unlock()
		s.gather(context.Background(), time.Now())
		if strings.Contains(c.yaml, "credentials_file") {
			os.WriteFile(pw, []byte("secret2"), 0o600)
			s.gather(context.Background(), time.Now())
			c.want += ",Bearer secret2"
		}
		s.close()
		mu.Lock()
		seen := strings.Join(got, ",")
		mu.Unlock()
		if seen != c.want {
			t.Errorf("%s: Authorization %q, want %q", c.yaml, seen, c.want)
		}
	}
}

func TestHTTPConfigRefused(t *testing.T) {
	for _, y := range []string{
		"oauth2: {client_id: x}",
		"basic_auth: {username: u}\n  bearer_token: t",
		"basic_auth: {password: a, password_file: /b}",
		"authorization: {type: Basic, credentials: x}",
		"authorization: {credentials: a, credentials_file: /b}",
		"bearer_token: a\n  bearer_token_file: /b",
		"tls_config: {cert_file: /c}",
		"tls_config: {min_version: TLS9}",
		"proxy_url: '::'",
	} {
		var x Targets
		err := yaml.Unmarshal([]byte("- url: http://127.0.0.1:1/\n  "+y+"\n"), &x)
		if err == nil {
			cfg := Config{Scrape: x, Limits: testLimits}
			var r *Runner
			if r, err = cfg.Build("h", nil); err == nil {
				r.Stop()
			}
		}
		if err == nil {
			t.Errorf("%q accepted", y)
		}
	}
}
