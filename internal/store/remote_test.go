package store

import (
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/config"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"

	"hawk/internal/metrictest"
)

// receiver is a remote write endpoint on 127.0.0.1 that decodes every
// request and records the samples of those it answers with 2xx.
type receiver struct {
	srv *httptest.Server

	// respond picks the status and headers of the n-th request (from 1);
	// nil means 204 for all. Set before the first request.
	respond func(n int, h http.Header) int
	// check sees every request's headers; set before the first request.
	check func(h http.Header) error
	// judge, when set, picks the status from the decoded request.
	judge func(wr *prompb.WriteRequest) int

	mu       sync.Mutex
	requests int                 // requests received
	times    []time.Time         // arrival of each request
	sizes    []int               // samples in each request
	series   map[string][]sample // accepted samples by label set, in arrival order
	errs     []error             // malformed requests
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	rc := &receiver{series: map[string][]sample{}}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) url() string { return rc.srv.URL + "/api/v1/write" }

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	wr, err := decodeWrite(r)
	if err == nil && rc.check != nil {
		err = rc.check(r.Header)
	}
	rc.mu.Lock()
	rc.requests++
	n := rc.requests
	rc.times = append(rc.times, time.Now())
	if err != nil {
		rc.errs = append(rc.errs, err)
		rc.mu.Unlock()
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	code := http.StatusNoContent
	if rc.respond != nil {
		code = rc.respond(n, w.Header())
	}
	if rc.judge != nil {
		code = rc.judge(wr)
	}
	count := 0
	for _, ts := range wr.Timeseries {
		count += len(ts.Samples)
		if code/100 != 2 {
			continue
		}
		key := prompbLabels(ts.Labels).String()
		for _, s := range ts.Samples {
			rc.series[key] = append(rc.series[key], sample{s.Timestamp, s.Value})
		}
	}
	rc.sizes = append(rc.sizes, count)
	rc.mu.Unlock()
	w.WriteHeader(code)
}

// decodeWrite checks the protocol headers and decodes the body.
func decodeWrite(r *http.Request) (*prompb.WriteRequest, error) {
	for k, want := range map[string]string{
		"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf",
		"X-Prometheus-Remote-Write-Version": "0.1.0",
	} {
		if got := r.Header.Get(k); got != want {
			return nil, fmt.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		return nil, fmt.Errorf("snappy: %w", err)
	}
	var wr prompb.WriteRequest
	if err := wr.Unmarshal(raw); err != nil {
		return nil, fmt.Errorf("protobuf: %w", err)
	}
	return &wr, nil
}

func prompbLabels(ls []prompb.Label) labels.Labels {
	b := labels.NewScratchBuilder(len(ls))
	for _, l := range ls {
		b.Add(l.Name, l.Value)
	}
	return b.Labels()
}

// stats returns copies of what the receiver recorded.
func (rc *receiver) stats() (requests int, series map[string][]sample, errs []error) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	series = make(map[string][]sample, len(rc.series))
	for k, v := range rc.series {
		series[k] = append([]sample(nil), v...)
	}
	return rc.requests, series, append([]error(nil), rc.errs...)
}

// openRemote opens a Remote with fast test timings on its own registry.
func openRemote(t *testing.T, opts RemoteOptions) (*Remote, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	opts.Registerer = reg
	if opts.MinBackoff == 0 {
		opts.MinBackoff = time.Millisecond
	}
	if opts.MaxBackoff == 0 {
		opts.MaxBackoff = 20 * time.Millisecond
	}
	r, err := OpenRemote(opts)
	if err != nil {
		t.Fatalf("OpenRemote: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r, reg
}

// commitSamples appends n samples per series starting at t0 and commits.
func commitSamples(sink Sink, series []*Series, t0 int64, n int) error {
	app := sink.Appender()
	for i := range n {
		for j, s := range series {
			if err := app.Append(s, t0+int64(i), float64(j*1000+i)); err != nil {
				app.Rollback()
				return err
			}
		}
	}
	return app.Commit()
}

func wantSamples(t0 int64, j, n int) []sample {
	out := make([]sample, n)
	for i := range out {
		out[i] = sample{t0 + int64(i), float64(j*1000 + i)}
	}
	return out
}

func testSeries(prefix string, n int) []*Series {
	out := make([]*Series, n)
	for i := range out {
		out[i] = newSeries(prefix+"_metric", "host", "h"+strconv.Itoa(i%3), "i", strconv.Itoa(i))
	}
	return out
}

func TestRemoteDeliversWithLabels(t *testing.T) {
	rc := newReceiver(t)
	r, reg := openRemote(t, RemoteOptions{URL: rc.url(), Shards: 3})
	series := testSeries("deliver", 10)
	if err := commitSamples(r, series, 1000, 5); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	_, got, errs := rc.stats()
	if len(errs) > 0 {
		t.Fatalf("malformed requests: %v", errs)
	}
	if len(got) != len(series) {
		t.Fatalf("receiver has %d series, want %d", len(got), len(series))
	}
	for j, s := range series {
		assertSamples(t, got[s.Labels.String()], wantSamples(1000, j, 5))
	}
	if v := metrictest.Sum(t, reg, "hawk_remote_samples_sent_total"); v != 50 {
		t.Errorf("samples sent = %g, want 50", v)
	}
	if v := metrictest.Sum(t, reg, "hawk_remote_samples_pending"); v != 0 {
		t.Errorf("samples pending = %g, want 0", v)
	}
	if *series[0].Ref(0) != series[0].Labels.Hash() {
		t.Errorf("slot 0 caches %d, want the label hash", *series[0].Ref(0))
	}
}

func assertSamples(t *testing.T, got, want []sample) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d samples %v, want %d %v", len(got), got, len(want), want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("sample %d = %v, want %v", i, got[i], want[i])
		}
	}
}

func TestRemoteEmptyCommitSendsNothing(t *testing.T) {
	rc := newReceiver(t)
	r, _ := openRemote(t, RemoteOptions{URL: rc.url()})
	if err := r.Appender().Commit(); err != nil {
		t.Fatal(err)
	}
	app := r.Appender()
	if err := app.Append(newSeries("x"), 1, 1); err != nil {
		t.Fatal(err)
	}
	if err := app.Rollback(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if n, _, _ := rc.stats(); n != 0 {
		t.Fatalf("%d requests, want 0", n)
	}
}

// Many sessions commit small transactions at once: every sample arrives
// exactly once, in order per series, and requests carry several commits.
func TestRemoteConcurrentAppenders(t *testing.T) {
	rc := newReceiver(t)
	r, _ := openRemote(t, RemoteOptions{URL: rc.url(), Shards: 4, MaxSamplesPerSend: 500, FlushDeadline: 5 * time.Millisecond})
	const sessions, commits, perSeries = 16, 40, 2
	var wg sync.WaitGroup
	errc := make(chan error, sessions)
	all := make([][]*Series, sessions)
	for g := range sessions {
		all[g] = testSeries("conc"+strconv.Itoa(g), 5)
		wg.Go(func() {
			for c := range commits {
				if err := commitSamples(r, all[g], int64(c*perSeries), perSeries); err != nil {
					errc <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatalf("Commit: %v", err)
	}
	requests, got, errs := rc.stats()
	if len(errs) > 0 {
		t.Fatalf("malformed requests: %v", errs)
	}
	for g := range sessions {
		for j, s := range all[g] {
			var want []sample
			for c := range commits {
				want = append(want, wantSamples(int64(c*perSeries), j, perSeries)...)
			}
			assertSamples(t, got[s.Labels.String()], want)
		}
	}
	total := sessions * commits
	t.Logf("%d commits in %d requests", total, requests)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for i, n := range rc.sizes {
		if n > 500 {
			t.Errorf("request %d carries %d samples, more than MaxSamplesPerSend", i, n)
		}
	}
}

// A transaction larger than MaxSamplesPerSend goes out in several requests
// and its Commit waits for all of them.
func TestRemoteSplitsLargeCommit(t *testing.T) {
	rc := newReceiver(t)
	r, _ := openRemote(t, RemoteOptions{URL: rc.url(), Shards: 1, MaxSamplesPerSend: 100})
	series := testSeries("split", 7)
	if err := commitSamples(r, series, 0, 100); err != nil {
		t.Fatal(err)
	}
	requests, got, _ := rc.stats()
	if requests != 7 {
		t.Errorf("%d requests, want 7 of at most 100 samples", requests)
	}
	for j, s := range series {
		assertSamples(t, got[s.Labels.String()], wantSamples(0, j, 100))
	}
}

func TestRemoteRetries5xx(t *testing.T) {
	rc := newReceiver(t)
	rc.respond = func(n int, _ http.Header) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	}
	r, reg := openRemote(t, RemoteOptions{URL: rc.url(), Shards: 1})
	series := testSeries("retry", 4)
	if err := commitSamples(r, series, 0, 3); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	requests, got, _ := rc.stats()
	if requests != 3 {
		t.Fatalf("%d requests, want 3", requests)
	}
	for j, s := range series {
		assertSamples(t, got[s.Labels.String()], wantSamples(0, j, 3))
	}
	for name, want := range map[string]float64{
		"hawk_remote_samples_retried_total": 24, "hawk_remote_samples_sent_total": 12,
		"hawk_remote_samples_failed_total": 0,
	} {
		if v := metrictest.Sum(t, reg, name); v != want {
			t.Errorf("%s = %g, want %g", name, v, want)
		}
	}
	if v := metrictest.Sum(t, reg, "hawk_remote_requests_total", "code", "500"); v != 2 {
		t.Errorf("requests{code=500} = %g, want 2", v)
	}
	if v := metrictest.Sum(t, reg, "hawk_remote_requests_total", "code", "200"); v != 1 {
		t.Errorf("requests{code=200} = %g, want 1", v)
	}
}

func TestRemoteHonoursRetryAfter(t *testing.T) {
	rc := newReceiver(t)
	rc.respond = func(n int, h http.Header) int {
		if n == 1 {
			h.Set("Retry-After", "1")
			return http.StatusTooManyRequests
		}
		return http.StatusNoContent
	}
	r, _ := openRemote(t, RemoteOptions{URL: rc.url(), Shards: 1, MinBackoff: time.Millisecond, MaxRetryTime: 5 * time.Second})
	if err := commitSamples(r, testSeries("ra", 1), 0, 1); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.times) != 2 {
		t.Fatalf("%d requests, want 2", len(rc.times))
	}
	if gap := rc.times[1].Sub(rc.times[0]); gap < time.Second {
		t.Errorf("retried after %v, before Retry-After's 1s", gap)
	}
}

func TestRetryAfterParse(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"": 0, "3": 3 * time.Second, "-1": 0, "soon": 0,
		now.Add(7 * time.Second).Format(http.TimeFormat): 7 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat):      0,
	} {
		if got := retryAfter(in, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

// A 400 (or 409, 422) means the remote refused the samples for good: they
// are counted and dropped, not retried, and Commit succeeds so that the
// agent does not resend them forever.
func TestRemoteRejected4xxNotRetried(t *testing.T) {
	for _, code := range []int{http.StatusBadRequest, http.StatusConflict, http.StatusUnprocessableEntity} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			rc := newReceiver(t)
			rc.respond = func(int, http.Header) int { return code }
			r, reg := openRemote(t, RemoteOptions{URL: rc.url(), Shards: 1})
			if err := commitSamples(r, testSeries("bad", 2), 0, 5); err != nil {
				t.Fatalf("Commit = %v, want nil (rejected samples are dropped)", err)
			}
			if n, _, _ := rc.stats(); n != 1 {
				t.Errorf("%d requests, want 1 (no retry)", n)
			}
			if v := metrictest.Sum(t, reg, "hawk_remote_samples_rejected_total"); v != 10 {
				t.Errorf("samples rejected = %g, want 10", v)
			}
			if v := metrictest.Sum(t, reg, "hawk_remote_samples_sent_total"); v != 0 {
				t.Errorf("samples sent = %g, want 0", v)
			}
		})
	}
}

// Like a Prometheus receiver, which rolls a whole request back for one
// out-of-order sample: a refused request that mixed several Commits is sent
// again one Commit at a time, so only the stale Commit's samples are
// dropped.
func TestRemoteRejectionIsolatedPerCommit(t *testing.T) {
	rc := newReceiver(t)
	rc.judge = func(wr *prompb.WriteRequest) int {
		for _, ts := range wr.Timeseries {
			for _, s := range ts.Samples {
				if s.Timestamp < 0 {
					return http.StatusBadRequest
				}
			}
		}
		return http.StatusNoContent
	}
	// One full request carries exactly the three commits below.
	r, reg := openRemote(t, RemoteOptions{URL: rc.url(), Shards: 1, MaxSamplesPerSend: 3 * 4, FlushDeadline: time.Minute})
	good1, stale, good2 := testSeries("good1", 2), testSeries("stale", 2), testSeries("good2", 2)
	errc := make(chan error, 3)
	go func() { errc <- commitSamples(r, good1, 10, 2) }()
	go func() { errc <- commitSamples(r, stale, -10, 2) }()
	go func() { errc <- commitSamples(r, good2, 20, 2) }()
	for range 3 {
		if err := <-errc; err != nil {
			t.Fatalf("Commit: %v", err)
		}
	}
	requests, got, _ := rc.stats()
	if requests != 4 {
		t.Errorf("%d requests, want 4 (the mixed one, then one per commit)", requests)
	}
	for j, s := range good1 {
		assertSamples(t, got[s.Labels.String()], wantSamples(10, j, 2))
	}
	for j, s := range good2 {
		assertSamples(t, got[s.Labels.String()], wantSamples(20, j, 2))
	}
	if len(got) != 4 {
		t.Errorf("receiver has %d series, want the 4 good ones", len(got))
	}
	if v := metrictest.Sum(t, reg, "hawk_remote_samples_rejected_total"); v != 4 {
		t.Errorf("samples rejected = %g, want 4", v)
	}
	if v := metrictest.Sum(t, reg, "hawk_remote_samples_sent_total"); v != 8 {
		t.Errorf("samples sent = %g, want 8", v)
	}
}

// Other 4xx (auth, wrong URL, too large) say nothing about the samples:
// not retried, and Commit fails so the agent keeps them.
func TestRemoteOther4xxFailsCommit(t *testing.T) {
	for _, code := range []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusRequestEntityTooLarge} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			rc := newReceiver(t)
			rc.respond = func(int, http.Header) int { return code }
			r, reg := openRemote(t, RemoteOptions{URL: rc.url(), Shards: 1})
			err := commitSamples(r, testSeries("auth", 2), 0, 5)
			if err == nil || errors.Is(err, ErrRejected) {
				t.Fatalf("Commit = %v, want a failure not wrapping ErrRejected", err)
			}
			if n, _, _ := rc.stats(); n != 1 {
				t.Errorf("%d requests, want 1 (no retry)", n)
			}
			if v := metrictest.Sum(t, reg, "hawk_remote_samples_failed_total"); v != 10 {
				t.Errorf("samples failed = %g, want 10", v)
			}
			if v := metrictest.Sum(t, reg, "hawk_remote_commits_failed_total"); v != 1 {
				t.Errorf("commits failed = %g, want 1", v)
			}
		})
	}
}

func TestRemoteDownPastMaxRetryTime(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now: connection refused
	const maxRetry = 300 * time.Millisecond
	r, reg := openRemote(t, RemoteOptions{URL: "http://" + addr + "/api/v1/write", Shards: 2,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, MaxRetryTime: maxRetry})
	start := time.Now()
	err = commitSamples(r, testSeries("down", 4), 0, 2)
	took := time.Since(start)
	if err == nil {
		t.Fatal("Commit succeeded with the remote down")
	}
	if took > maxRetry+time.Second {
		t.Errorf("Commit took %v, MaxRetryTime is %v", took, maxRetry)
	}
	if took < maxRetry/3 {
		t.Errorf("Commit gave up after %v, long before MaxRetryTime %v", took, maxRetry)
	}
	if v := metrictest.Sum(t, reg, "hawk_remote_requests_total", "code", "error"); v < 4 {
		t.Errorf("%g failed attempts, want several", v)
	}
	if v := metrictest.Sum(t, reg, "hawk_remote_samples_failed_total"); v != 8 {
		t.Errorf("samples failed = %g, want 8", v)
	}
}

func TestRemote503PastMaxRetryTime(t *testing.T) {
	rc := newReceiver(t)
	rc.respond = func(int, http.Header) int { return http.StatusServiceUnavailable }
	r, _ := openRemote(t, RemoteOptions{URL: rc.url(), Shards: 1, MaxRetryTime: 200 * time.Millisecond})
	if err := commitSamples(r, testSeries("unavail", 1), 0, 1); err == nil {
		t.Fatal("Commit succeeded though every request got 503")
	}
	if n, _, _ := rc.stats(); n < 2 {
		t.Errorf("%d requests, want retries", n)
	}
}

func TestRemoteAuthHeaders(t *testing.T) {
	dir := t.TempDir()
	secret := func(name, v string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tenant := map[string]config.Header{"X-Scope-OrgID": {Values: []string{"tenant1"}}}
	cases := []struct {
		name   string
		client config.HTTPClientConfig
		want   string
	}{
		{"basic", config.HTTPClientConfig{BasicAuth: &config.BasicAuth{Username: "hawk", PasswordFile: secret("pw", "s3cret")}}, "Basic aGF3azpzM2NyZXQ="},
		{"bearer", config.HTTPClientConfig{Authorization: &config.Authorization{Type: "Bearer", CredentialsFile: secret("tok", "tok123")}}, "Bearer tok123"},
		{"custom", config.HTTPClientConfig{Authorization: &config.Authorization{Type: "Custom", Credentials: "x"}}, "Custom x"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rc := newReceiver(t)
			rc.check = func(h http.Header) error {
				if got := h.Get("Authorization"); got != c.want {
					return fmt.Errorf("Authorization = %q, want %q", got, c.want)
				}
				if got := h.Get("X-Scope-OrgID"); got != "tenant1" {
					return fmt.Errorf("X-Scope-OrgID = %q", got)
				}
				if got := h.Get("Content-Encoding"); got != "snappy" {
					return fmt.Errorf("Content-Encoding = %q", got)
				}
				return nil
			}
			client := c.client
			client.HTTPHeaders = &config.Headers{Headers: tenant}
			r, _ := openRemote(t, RemoteOptions{URL: rc.url(), Client: client})
			if err := commitSamples(r, testSeries("auth", 1), 0, 1); err != nil {
				t.Fatalf("Commit: %v", err)
			}
			if _, _, errs := rc.stats(); len(errs) > 0 {
				t.Fatal(errs)
			}
		})
	}
}

func TestRemoteTLS(t *testing.T) {
	rc := &receiver{series: map[string][]sample{}}
	rc.srv = httptest.NewTLSServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rc.srv.Certificate().Raw})
	if err := os.WriteFile(ca, pemCert, 0o644); err != nil {
		t.Fatal(err)
	}
	r, _ := openRemote(t, RemoteOptions{URL: rc.url(), Client: config.HTTPClientConfig{TLSConfig: config.TLSConfig{CAFile: ca}}})
	series := testSeries("tls", 2)
	if err := commitSamples(r, series, 0, 2); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if _, got, _ := rc.stats(); len(got) != 2 {
		t.Fatalf("receiver has %d series, want 2", len(got))
	}
	// Without the test CA the handshake fails: no retry helps, but it is
	// a network error, so it is retried until MaxRetryTime.
	r2, _ := openRemote(t, RemoteOptions{URL: rc.url(), MaxRetryTime: 50 * time.Millisecond})
	if err := commitSamples(r2, series, 0, 1); err == nil {
		t.Fatal("Commit succeeded against an untrusted certificate")
	}
}

// Close while a request is in flight: the waiting Commit fails with
// ErrRemoteClosed, and no goroutine is left behind (goleak in TestMain).
func TestRemoteCloseInFlight(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(arrived) })
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	defer close(release)
	r, reg := openRemote(t, RemoteOptions{URL: srv.URL})
	errc := make(chan error, 1)
	go func() { errc <- commitSamples(r, testSeries("inflight", 8), 0, 3) }()
	<-arrived
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-errc; !errors.Is(err, ErrRemoteClosed) {
		t.Fatalf("Commit = %v, want ErrRemoteClosed", err)
	}
	if err := commitSamples(r, testSeries("after", 1), 0, 1); !errors.Is(err, ErrRemoteClosed) {
		t.Fatalf("Commit after Close = %v, want ErrRemoteClosed", err)
	}
	if v := metrictest.Sum(t, reg, "hawk_remote_samples_pending"); v != 0 {
		t.Errorf("samples pending = %g after Close, want 0", v)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestOpenRemoteErrors(t *testing.T) {
	for name, opts := range map[string]RemoteOptions{
		"empty":   {},
		"scheme":  {URL: "ftp://x/y"},
		"no host": {URL: "http:///api/v1/write"},
		"slot":    {URL: "http://127.0.0.1:1/w", Slot: MaxSinks},
		"both auths": {URL: "http://127.0.0.1:1/w", Client: config.HTTPClientConfig{
			BasicAuth: &config.BasicAuth{Username: "u"}, Authorization: &config.Authorization{Credentials: "t"}}},
		"protocol header": {URL: "http://127.0.0.1:1/w", Client: config.HTTPClientConfig{
			HTTPHeaders: &config.Headers{Headers: map[string]config.Header{"Content-Encoding": {Values: []string{"gzip"}}}}}},
	} {
		t.Run(name, func(t *testing.T) {
			if r, err := OpenRemote(opts); err == nil {
				r.Close()
				t.Fatal("OpenRemote succeeded")
			}
		})
	}
}

// Two remotes share a registry: their metrics differ by the remote label.
func TestRemoteMetricsPerRemote(t *testing.T) {
	reg := prometheus.NewRegistry()
	for _, u := range []string{"http://127.0.0.1:1/a", "http://127.0.0.1:1/b"} {
		r, err := OpenRemote(RemoteOptions{URL: u, Registerer: reg})
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
	}
	if n := testutil.CollectAndCount(reg, "hawk_remote_samples_sent_total"); n != 2 {
		t.Fatalf("%d sent counters, want 2", n)
	}
}
