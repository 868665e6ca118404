//go:build e2e

package itest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func envDuration(t testing.TB, name string, def time.Duration) time.Duration {
	if s := os.Getenv(name); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return d
	}
	return def
}

// TestPromtoolExactValues: a v2 client sends one sample a second for each
// of 10 series for two minutes (HAWK_PROMTOOL_DURATION); promtool's
// instant and range queries against hawk return exactly the values sent.
func TestPromtoolExactValues(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (Debian package prometheus)")
	}
	dur := envDuration(t, "HAWK_PROMTOOL_DURATION", 2*time.Minute)
	srv := startServer(t, t.TempDir(), "127.0.0.1:0")
	a := newAgentConn(t, "promtool-client")
	if err := a.connect(srv.agent); err != nil {
		t.Fatal(err)
	}
	const series = 10
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var first, last int64
	end := time.Now().Add(dur)
	for seq := uint64(1); time.Now().Before(end); seq++ {
		ms := time.Now().Truncate(time.Second).UnixMilli()
		if first == 0 {
			first = ms
		}
		last = ms
		if err := a.send(seq, seriesBatch(series, ms)); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := a.awaitAck(ctx, seq)
		cancel()
		if err != nil {
			t.Fatalf("batch %d: %v", seq, err)
		}
		<-tick.C
	}
	url := "http://" + srv.http
	// Instant queries at the first, a middle and the last sample.
	for _, ms := range []int64{first, first + (last-first)/2/1000*1000, last} {
		for _, s := range []int{0, 7} {
			q := fmt.Sprintf(`itest_value{series="%d"}`, s)
			out := run(t, promtool, "query", "instant", "--time", strconv.FormatInt(ms/1000, 10), url, q)
			got := parsePromtool(t, out)
			if len(got) != 1 || got[0].v != valueAt(s, ms) {
				t.Fatalf("promtool query instant %s at %d: %q, want %v", q, ms, out, valueAt(s, ms))
			}
		}
	}
	// A range query over the whole run at the sending step.
	out := run(t, promtool, "query", "range", "--start", strconv.FormatInt(first/1000, 10),
		"--end", strconv.FormatInt(last/1000, 10), "--step", "1s", url, `itest_value{series="3"}`)
	got := parsePromtool(t, out)
	if want := int((last-first)/1000) + 1; len(got) != want {
		t.Fatalf("range query: %d points, want %d", len(got), want)
	}
	for _, p := range got {
		if p.v != valueAt(3, p.ms) {
			t.Fatalf("range query: %v at %d, want %v", p.v, p.ms, valueAt(3, p.ms))
		}
	}
	t.Logf("%d series × %d s checked through promtool", series, (last-first)/1000+1)
}

type point struct {
	v  float64
	ms int64
}

var promtoolPoint = regexp.MustCompile(`(-?[0-9.e+]+|NaN) @\[([0-9.]+)\]`)

// parsePromtool reads "value @[unix]" pairs from promtool's output.
func parsePromtool(t testing.TB, out string) []point {
	var pts []point
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		for _, m := range promtoolPoint.FindAllStringSubmatch(sc.Text(), -1) {
			v, err1 := strconv.ParseFloat(m[1], 64)
			ts, err2 := strconv.ParseFloat(m[2], 64)
			if err1 != nil || err2 != nil {
				t.Fatalf("promtool output %q", sc.Text())
			}
			pts = append(pts, point{v, int64(ts*1000 + 0.5)})
		}
	}
	return pts
}

func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// TestKill9Restart: the server is killed mid-stream; after a restart every
// acknowledged sample is there (WAL replay), and once the client has
// resent what was not acknowledged, every sample is stored exactly once.
func TestKill9Restart(t *testing.T) {
	const series, acked, inflight = 50, 40, 30
	dir := t.TempDir()
	srv := startServer(t, dir, "127.0.0.1:0")
	a := newAgentConn(t, "kill9-client")
	if err := a.connect(srv.agent); err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-time.Hour).Truncate(time.Second).UnixMilli()
	msOf := func(seq uint64) int64 { return base + int64(seq)*1000 }
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for seq := uint64(1); seq <= acked; seq++ {
		if err := a.send(seq, seriesBatch(series, msOf(seq))); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.awaitAck(ctx, acked); err != nil {
		t.Fatal(err)
	}
	for seq := uint64(acked + 1); seq <= acked+inflight; seq++ {
		a.send(seq, seriesBatch(series, msOf(seq))) //nolint:errcheck // the kill may cut the connection
	}
	srv.kill(syscall.SIGKILL)
	ackedAtKill := a.acked

	srv2 := startServer(t, dir, "127.0.0.1:0")
	at := time.UnixMilli(msOf(acked + inflight))
	counts := srv2.query(t, fmt.Sprintf(`sum by (series) (count_over_time(itest_value[%ds]))`, acked+inflight+5), at)
	if len(counts) != series {
		t.Fatalf("%d series after restart, want %d", len(counts), series)
	}
	for s, n := range counts {
		if n < float64(ackedAtKill) {
			t.Fatalf("series %s has %v samples after the kill; %d were acknowledged", s, n, ackedAtKill)
		}
	}
	if err := a.connect(srv2.agent); err != nil {
		t.Fatal(err)
	}
	if err := a.awaitAck(ctx, acked+inflight); err != nil {
		t.Fatal(err)
	}
	counts = srv2.query(t, fmt.Sprintf(`sum by (series) (count_over_time(itest_value[%ds]))`, acked+inflight+5), at)
	sums := srv2.query(t, fmt.Sprintf(`sum by (series) (sum_over_time(itest_value[%ds]))`, acked+inflight+5), at)
	for i := range series {
		key := fmt.Sprintf("map[series:%d]", i) // the _over_time functions drop the name
		var want float64
		for seq := uint64(1); seq <= acked+inflight; seq++ {
			want += valueAt(i, msOf(seq))
		}
		if counts[key] != acked+inflight || sums[key] != want {
			t.Fatalf("series %d: %v samples summing to %v, want %d summing to %v", i, counts[key], sums[key], acked+inflight, want)
		}
	}
	t.Logf("acknowledged before the kill: %d batches; all %d stored once after the resend", ackedAtKill, acked+inflight)
}
