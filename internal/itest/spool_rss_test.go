//go:build e2e

package itest

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"hawk/internal/bench"
	"hawk/internal/spool"
	"hawk/internal/wire"
)

// TestAgentFullSpoolRSS fills an agent's spool to its 512 MiB default with
// real-shaped records (450 series each), then starts hawk-agent on it
// against a server and samples the agent's resident memory while it sends
// the backlog. The figure is reported, not asserted (docs/performance.md
// records it). Opt-in (HAWK_FULL_SPOOL=1): it writes half a gigabyte.
func TestAgentFullSpoolRSS(t *testing.T) {
	if os.Getenv("HAWK_FULL_SPOOL") == "" {
		t.Skip("set HAWK_FULL_SPOOL=1 to fill a 512 MiB spool")
	}
	dir := t.TempDir()
	spoolDir := filepath.Join(dir, "spool")
	sp, err := spool.Open(spoolDir, spool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := bench.NewHostSet(450, "node", "itest-host", 1)
	b := &wire.Batch{Defs: h.Defs}
	var rec []byte
	t0 := time.Now().Add(-20 * time.Hour) // inside the agent's 24 h age bound
	for i := 0; sp.Stats().Bytes < 500<<20; i++ {
		h.Advance(10)
		b.Samples = b.Samples[:0]
		for id, v := range h.Values() {
			b.Samples = append(b.Samples, wire.Sample{ID: uint32(id), T: t0.Add(time.Duration(i) * time.Second).UnixMilli(), V: v})
		}
		if rec, err = wire.AppendRecord(rec[:0], b); err != nil {
			t.Fatal(err)
		}
		if _, err := sp.Append(rec); err != nil {
			t.Fatal(err)
		}
	}
	st := sp.Stats()
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("spool filled: %d records, %d MiB", st.Records, st.Bytes>>20)

	srv := startServer(t, filepath.Join(dir, "data"), "127.0.0.1:0", "-out-of-order-window", "25h")
	a := startAgent(t, spoolDir, srv.agent)
	var peak, last int
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		rss := vmKiB(t, a.Process.Pid, "VmRSS")
		peak, last = max(peak, rss), rss
		if n := spoolRecords(spoolDir); n < 100 {
			t.Logf("spool down to about %d records after %v", n, time.Since(deadline.Add(-3*time.Minute)).Round(time.Second))
			break
		}
		time.Sleep(500 * time.Millisecond) // sampling the agent's memory while it drains
	}
	hwm := vmKiB(t, a.Process.Pid, "VmHWM")
	// Every spooled sample reached the server (the agent's own collections
	// add more): the backlog was sent, not dropped.
	stored := srv.storedSamples(t)
	if want := float64(st.Records) * 450; stored < want {
		t.Errorf("server stored %v samples, the spool held %v", stored, want)
	}
	t.Logf("server stored %v samples", stored)
	t.Logf("agent RSS while sending a full spool: sampled peak %d KiB, high-water mark %d KiB, last %d KiB", peak, hwm, last)
}

// storedSamples reads hawk_server_samples_total{outcome="stored"}.
func (p *proc) storedSamples(t testing.TB) float64 {
	resp, err := httpClient.Get("http://" + p.http + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, `hawk_server_samples_total{outcome="stored"} `); ok {
			v, _ := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v
		}
	}
	return 0
}

func vmKiB(t testing.TB, pid int, field string) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.Atoi(strings.Fields(rest)[0])
			return n
		}
	}
	return 0
}

// spoolRecords estimates the records left from the segment files' size.
func spoolRecords(dir string) int64 {
	var total int64
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".seg") {
			if fi, err := e.Info(); err == nil {
				total += fi.Size()
			}
		}
	}
	return total / (50 << 10)
}
