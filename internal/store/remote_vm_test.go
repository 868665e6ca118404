package store

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"hawk/internal/metrictest"
)

// vmBinary is Debian's victoria-metrics (apt-get install victoria-metrics);
// HAWK_VICTORIA_METRICS overrides the path.
func vmBinary(tb testing.TB) string {
	tb.Helper()
	bin := os.Getenv("HAWK_VICTORIA_METRICS")
	if bin == "" {
		bin = "/usr/bin/victoria-metrics"
	}
	if _, err := os.Stat(bin); err != nil {
		tb.Skipf("victoria-metrics not found at %s (apt-get install victoria-metrics, or set HAWK_VICTORIA_METRICS): %v", bin, err)
	}
	return bin
}

// vmProc is a single-node VictoriaMetrics started by a test on 127.0.0.1.
type vmProc struct {
	cmd    *exec.Cmd
	base   string       // http://127.0.0.1:port
	client *http.Client // for the test's own reads; idle connections closed at the end
}

// startVM starts VictoriaMetrics with its data in a temporary directory and
// waits until it answers /health. It is killed by PID when the test ends.
func startVM(tb testing.TB, extra ...string) *vmProc {
	tb.Helper()
	bin := vmBinary(tb)
	dir := tb.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	logf, err := os.Create(filepath.Join(dir, "vm.log"))
	if err != nil {
		tb.Fatal(err)
	}
	args := append([]string{"-storageDataPath", filepath.Join(dir, "data"), "-httpListenAddr", addr,
		"-search.latencyOffset=0", "-loggerLevel=ERROR"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	vm := &vmProc{cmd: cmd, base: "http://" + addr,
		client: &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}}
	tb.Cleanup(func() {
		cmd.Process.Kill() // by PID; the process is ours
		<-exited
		logf.Close()
		vm.client.CloseIdleConnections()
	})
	for deadline := time.Now().Add(15 * time.Second); ; {
		if resp, err := vm.client.Get(vm.base + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-exited:
			exited <- err
			log, _ := os.ReadFile(logf.Name())
			tb.Fatalf("victoria-metrics exited: %v\n%s", err, log)
		case <-time.After(20 * time.Millisecond): // polling another process's readiness
		}
		if time.Now().After(deadline) {
			tb.Fatal("victoria-metrics did not become healthy in 15s")
		}
	}
	return vm
}

func (vm *vmProc) writeURL() string { return vm.base + "/api/v1/write" }

// export flushes VictoriaMetrics' in-memory buffers and returns the raw
// samples of the series matching match, by label set.
func (vm *vmProc) export(tb testing.TB, match string) map[string][]sample {
	tb.Helper()
	vm.get(tb, "/internal/force_flush").Close()
	body := vm.get(tb, "/api/v1/export?"+url.Values{"match[]": {match}}.Encode())
	defer body.Close()
	out := map[string][]sample{}
	sc := bufio.NewScanner(body)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var line struct {
			Metric     map[string]string `json:"metric"`
			Values     []float64         `json:"values"`
			Timestamps []int64           `json:"timestamps"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			tb.Fatalf("export line %q: %v", snippetString(sc.Text()), err)
		}
		key := labels.FromMap(line.Metric).String()
		for i, ts := range line.Timestamps {
			out[key] = append(out[key], sample{ts, line.Values[i]})
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

func (vm *vmProc) get(tb testing.TB, path string) io.ReadCloser {
	tb.Helper()
	resp, err := vm.client.Get(vm.base + path)
	if err != nil {
		tb.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		tb.Fatalf("GET %s: %s: %s", path, resp.Status, msg)
	}
	return resp.Body
}

// Every committed sample arrives in VictoriaMetrics once, with its labels,
// from many concurrent appenders.
func TestRemoteVictoriaMetrics(t *testing.T) {
	vm := startVM(t)
	r, reg := openRemote(t, RemoteOptions{URL: vm.writeURL(), Shards: 4, MaxSamplesPerSend: 1000})
	t0 := time.Now().Add(-time.Hour).UnixMilli()
	const sessions, commits, perSeries = 8, 20, 5
	all := make([][]*Series, sessions)
	errc := make(chan error, sessions)
	for g := range sessions {
		all[g] = testSeries("hawk_vm"+strconv.Itoa(g), 10)
		go func() {
			for c := range commits {
				if err := commitSamples(r, all[g], t0+int64(c*perSeries)*1000, perSeries); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}
	for range sessions {
		if err := <-errc; err != nil {
			t.Fatalf("Commit: %v", err)
		}
	}
	got := vm.export(t, `{__name__=~"hawk_vm.*"}`)
	if len(got) != sessions*10 {
		t.Fatalf("VictoriaMetrics has %d series, want %d", len(got), sessions*10)
	}
	for g := range sessions {
		for j, s := range all[g] {
			var want []sample
			for c := range commits {
				for i := range perSeries {
					want = append(want, sample{t0 + int64(c*perSeries)*1000 + int64(i), float64(j*1000 + i)})
				}
			}
			assertSamples(t, got[s.Labels.String()], want)
		}
	}
	if v := metrictest.Sum(t, reg, "hawk_remote_samples_sent_total"); v != sessions*commits*10*perSeries {
		t.Errorf("samples sent = %g", v)
	}
}

// What VictoriaMetrics does with an identical (series, timestamp, value)
// resend, as doc.go states it: with -dedup.minScrapeInterval it keeps one;
// without, this version keeps both raw samples.
func TestRemoteVictoriaMetricsResend(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want int
	}{
		{"dedup", []string{"-dedup.minScrapeInterval=1ms"}, 1},
		{"no dedup", nil, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			vm := startVM(t, c.args...)
			r, _ := openRemote(t, RemoteOptions{URL: vm.writeURL()})
			s := newSeries("hawk_resend", "case", c.name)
			ts := time.Now().Add(-time.Minute).UnixMilli()
			for range 2 { // the first ack was lost: the agent resends
				if err := commitSamples(r, []*Series{s}, ts, 1); err != nil {
					t.Fatal(err)
				}
			}
			got := vm.export(t, `{__name__="hawk_resend"}`)[s.Labels.String()]
			if len(got) != c.want {
				t.Fatalf("export has %v, want %d copies of (%d, 0)", got, c.want, ts)
			}
			q := vm.get(t, "/api/v1/query?"+url.Values{"query": {"count_over_time(hawk_resend[5m])"},
				"time": {strconv.FormatInt(ts/1000+1, 10)}}.Encode())
			defer q.Close()
			body, _ := io.ReadAll(q)
			if want := fmt.Sprintf(`"value":[%d,"%d"]`, ts/1000+1, c.want); !strings.Contains(string(body), want) {
				t.Errorf("count_over_time = %s, want %s", body, want)
			}
		})
	}
}
