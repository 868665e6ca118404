package inputs

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.yaml.in/yaml/v3"

	"hawk/internal/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var testLimits = Limits{MaxSeriesPerInput: 1000, MaxSamples: 10000, MaxBodyBytes: 1 << 20}

// find returns the samples named name, keyed by their labels as text.
func find(ss []Sample, name string) map[string]Sample {
	out := map[string]Sample{}
	for _, s := range ss {
		if s.Name == name {
			out[labelText(s.Labels)] = s
		}
	}
	return out
}

func labelText(ls []wire.Label) string {
	var b []string
	for _, l := range ls {
		b = append(b, l.Name+"="+l.Value)
	}
	return strings.Join(b, ",")
}

func one(t *testing.T, ss []Sample, name string) Sample {
	t.Helper()
	m := find(ss, name)
	if len(m) != 1 {
		t.Fatalf("%d samples named %s in %v", len(m), name, ss)
	}
	for _, s := range m {
		return s
	}
	panic("unreachable")
}

func newTestScraper(t *testing.T, url string, timeout time.Duration, lim Limits) *scraper {
	t.Helper()
	s, err := newScraper(Target{URL: url, Job: "node_exporter", Interval: time.Minute, Timeout: timeout,
		Labels: map[string]string{"team": "db"}}, "host-a", lim, nilLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	return s
}

func TestScrapeText(t *testing.T) {
	body := "# HELP m_total A counter.\n# TYPE m_total counter\nm_total{job=\"x\",a=\"1\"} 5\n" +
		"# TYPE g gauge\ng 2 1700000000000\n" +
		"# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 3\nh_sum 4\nh_count 3\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept"), "text/plain") {
			t.Errorf("Accept %q", r.Header.Get("Accept"))
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprint(w, body)
	}))
	defer srv.Close()
	s := newTestScraper(t, srv.URL+"/metrics", 5*time.Second, testLimits)
	now := time.UnixMilli(1800000000000)
	out := s.gather(context.Background(), now)
	port := srv.URL[strings.LastIndexByte(srv.URL, ':')+1:]
	target := "job=node_exporter,instance=host-a:" + port + ",team=db"
	if up := find(out, "up")[target]; up.V != 1 || up.Own {
		t.Fatalf("up %+v in %v", up, out)
	}
	m := one(t, out, "m_total")
	if labelText(m.Labels) != "exported_job=x,a=1,"+target || m.V != 5 || m.Type != wire.TypeCounter || m.T != now.UnixMilli() || m.Help != "A counter." {
		t.Errorf("m_total %+v", m)
	}
	if g := one(t, out, "g"); g.T != 1700000000000 || g.Type != wire.TypeGauge {
		t.Errorf("exposition timestamp not honoured: %+v", g)
	}
	if b := find(out, "h_bucket"); len(b) != 2 || b[target+",le=+Inf"].V != 3 {
		t.Errorf("h_bucket %v", b)
	}
	if n := one(t, out, "scrape_samples_scraped"); n.V != 6 {
		t.Errorf("scrape_samples_scraped %v, want 6", n.V)
	}
	one(t, out, "scrape_duration_seconds")
}

func TestScrapeOpenMetrics(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/openmetrics-text; version=1.0.0; charset=utf-8")
		fmt.Fprint(w, "# TYPE c counter\n# HELP c Things.\nc_total 7\n# EOF\n")
	}))
	defer srv.Close()
	out := newTestScraper(t, srv.URL, 5*time.Second, testLimits).gather(context.Background(), time.Now())
	if up := one(t, out, "up"); up.V != 1 {
		t.Fatalf("up 0: %v", out)
	}
	if c := one(t, out, "c_total"); c.V != 7 {
		t.Errorf("c_total %+v", c)
	}
}

// TestScrapeFailures: each way a target fails gives up 0, no samples of
// the target, and a counted reason.
func TestScrapeFailures(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	var big strings.Builder
	for i := range 100000 {
		fmt.Fprintf(&big, "s{i=\"%d\"} 1\n", i)
	}
	cases := []struct {
		name    string
		h       http.HandlerFunc
		lim     Limits
		reason  string
		timeout time.Duration
	}{
		{"500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }, testLimits, "error", 5 * time.Second},
		{"never-answers", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-block:
			case <-r.Context().Done():
			}
		}, testLimits, "timeout", 200 * time.Millisecond},
		{"100k-series", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, big.String()) },
			Limits{MaxSeriesPerInput: 1000, MaxSamples: 10000, MaxBodyBytes: 64 << 20}, "series-limit", 5 * time.Second},
		{"body-too-large", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, big.String()) },
			Limits{MaxSeriesPerInput: 1 << 30, MaxSamples: 10000, MaxBodyBytes: 64 << 10}, "body-size-limit", 5 * time.Second},
		{"garbage", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "this is { not metrics\n") }, testLimits, "error", 5 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(c.h)
			defer srv.Close()
			s := newTestScraper(t, srv.URL, c.timeout, c.lim)
			for run := 1; run <= 2; run++ {
				out := s.gather(context.Background(), time.Now())
				if up := one(t, out, "up"); up.V != 0 {
					t.Fatalf("up %v", up.V)
				}
				if len(out) != 3+1 {
					t.Fatalf("%d samples, want up, scrape_* and the failure count: %v", len(out), out)
				}
				f := one(t, out, "hawk_input_failures_total")
				if !strings.Contains(labelText(f.Labels), "reason="+c.reason) || f.V != float64(run) || !f.Own {
					t.Fatalf("failure count %+v, want reason %s = %d", f, c.reason, run)
				}
			}
		})
	}
}

func TestInstanceOfLoopback(t *testing.T) {
	for _, c := range []struct{ url, want string }{
		{"http://127.0.0.1:9100/metrics", "host-a:9100"},
		{"http://localhost/metrics", "host-a:80"},
		{"https://[::1]/m", "host-a:443"},
		{"http://10.1.2.3:9104/metrics", "10.1.2.3:9104"},
	} {
		s, err := newScraper(Target{URL: c.url, Job: "j", Interval: time.Second, Timeout: time.Second}, "host-a", testLimits, nilLogger())
		if err != nil {
			t.Fatal(err)
		}
		if got := s.target[1].Value; got != c.want {
			t.Errorf("%s: instance %s, want %s", c.url, got, c.want)
		}
	}
}

func newTestExecer(t *testing.T, cmd string, timeout time.Duration) *execer {
	t.Helper()
	e, err := newExecer(Command{Command: cmd, Name: "t", Interval: time.Minute, Timeout: timeout}, testLimits, nilLogger())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestExecOutput(t *testing.T) {
	t.Setenv("HAWK_TOKEN", "secret")
	e := newTestExecer(t, `printf '# TYPE raid_ok gauge\nraid_ok{md="md0",job="x"} 1\n'; echo "tok=$HAWK_TOKEN" >&2`, 5*time.Second)
	out := e.gather(context.Background(), time.Now())
	if up := one(t, out, "hawk_exec_up"); up.V != 1 || labelText(up.Labels) != "command=t" || !up.Own {
		t.Fatalf("hawk_exec_up %+v", up)
	}
	r := one(t, out, "raid_ok")
	if labelText(r.Labels) != "md=md0,exported_job=x" || !r.Own || r.V != 1 {
		t.Errorf("raid_ok %+v", r)
	}
	if c := one(t, out, "hawk_exec_exit_code"); c.V != 0 {
		t.Errorf("exit code %v", c.V)
	}
}

func TestExecFailures(t *testing.T) {
	cases := []struct {
		name, cmd string
		code      float64
		reason    string
	}{
		{"exit-code", "echo 'ok 1'; exit 3", 3, "exit-code"},
		{"garbage", "echo 'this is { not metrics'", 0, "parse"},
		{"too-many-series", "i=0; while [ $i -lt 2000 ]; do echo \"s{i=\\\"$i\\\"} 1\"; i=$((i+1)); done", 0, "series-limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := newTestExecer(t, c.cmd, 10*time.Second).gather(context.Background(), time.Now())
			if up := one(t, out, "hawk_exec_up"); up.V != 0 {
				t.Fatalf("hawk_exec_up %v", up.V)
			}
			if code := one(t, out, "hawk_exec_exit_code"); code.V != c.code {
				t.Errorf("exit code %v, want %v", code.V, c.code)
			}
			if f := one(t, out, "hawk_input_failures_total"); !strings.Contains(labelText(f.Labels), "reason="+c.reason) {
				t.Errorf("failure %+v, want %s", f, c.reason)
			}
			if len(out) != 4 {
				t.Errorf("%d samples: %v", len(out), out)
			}
		})
	}
}

func TestConfigYAML(t *testing.T) {
	doc := `
scrape:
  - http://127.0.0.1:9100/metrics
  - url: http://127.0.0.1:9104/metrics
    job: mysql
    interval: 30s
    labels: {team: db}
    basic_auth: {username: u, password: p}
exec:
  - echo a 1
  - command: /bin/true
    name: t
    timeout: 2s
    env: [LC_ALL=C]
`
	var c struct {
		Scrape Targets  `yaml:"scrape"`
		Exec   Commands `yaml:"exec"`
	}
	if err := yaml.Unmarshal([]byte(doc), &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Scrape) != 2 || c.Scrape[1].Job != "mysql" || c.Scrape[1].Interval != 30*time.Second ||
		c.Scrape[1].HTTP.BasicAuth == nil || c.Scrape[1].HTTP.BasicAuth.Username != "u" || c.Scrape[1].Labels["team"] != "db" {
		t.Fatalf("scrape %+v", c.Scrape)
	}
	if len(c.Exec) != 2 || c.Exec[1].Name != "t" || c.Exec[1].Timeout != 2*time.Second || c.Exec[1].Env[0] != "LC_ALL=C" {
		t.Fatalf("exec %+v", c.Exec)
	}
	cfg := Config{Scrape: c.Scrape, Exec: c.Exec, Limits: testLimits}
	r, err := cfg.Build("h", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Stop()
	if r.Len() != 4 {
		t.Fatalf("%d inputs", r.Len())
	}
	bad := Config{Scrape: Targets{{URL: "ftp://x"}}, Limits: testLimits}
	if _, err := bad.Build("h", nil); err == nil {
		t.Fatal("ftp target accepted")
	}
}

// TestRunnerCap: results past the agent-wide cap are dropped and counted;
// Drain hands out what was kept, once.
func TestRunnerCap(t *testing.T) {
	r := &Runner{maxSamples: 3, log: nilLogger()}
	r.put(make([]Sample, 2))
	r.put(make([]Sample, 2))
	r.put(make([]Sample, 1))
	n := 0
	r.Drain(func(*Sample) { n++ })
	if n != 3 || r.Dropped() != 2 {
		t.Fatalf("drained %d dropped %d, want 3 and 2", n, r.Dropped())
	}
	r.Drain(func(*Sample) { n++ })
	if n != 3 {
		t.Fatal("drained twice")
	}
}
