package store

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// benchRemote has many sessions commit batches of batch samples (one per
// series of the session, like an agent's scrape) to the remote at url, and
// reports samples/s and this process' CPU time per sample. vmPID, if not
// 0, is a process whose CPU time per sample is reported too.
func benchRemote(b *testing.B, url string, vmPID int) {
	const batch = 500
	r, err := OpenRemote(RemoteOptions{URL: url})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	var sessionID atomic.Int64
	var ts0 = time.Now().Add(-time.Hour).UnixMilli()
	b.SetParallelism(8) // 16 sessions on 2 cores
	b.ReportAllocs()
	cpu0, vm0 := selfCPU(b), procCPU(b, vmPID)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		id := strconv.FormatInt(sessionID.Add(1), 10)
		series := make([]*Series, batch)
		for i := range series {
			series[i] = newSeries("hawk_bench", "agent", id, "i", strconv.Itoa(i))
		}
		app, n, ts := r.Appender(), 0, ts0
		for pb.Next() {
			if err := app.Append(series[n], ts, float64(n)); err != nil {
				b.Error(err)
				return
			}
			if n++; n == batch {
				if err := app.Commit(); err != nil {
					b.Error(err)
					return
				}
				app, n, ts = r.Appender(), 0, ts+1000
			}
		}
		if err := app.Commit(); err != nil {
			b.Error(err)
		}
	})
	b.StopTimer()
	cpu, vm := selfCPU(b)-cpu0, procCPU(b, vmPID)-vm0
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/sample")
	if vmPID != 0 {
		b.ReportMetric(float64(vm.Nanoseconds())/float64(b.N), "vm-cpu-ns/sample")
	}
}

// BenchmarkRemoteWriteVM sends to a victoria-metrics started for it.
//
//	go test -run '^$' -bench RemoteWrite -benchtime 2000000x ./internal/store/
func BenchmarkRemoteWriteVM(b *testing.B) {
	vm := startVM(b)
	benchRemote(b, vm.writeURL(), vm.cmd.Process.Pid)
}

// BenchmarkRemoteWriteDiscard sends to an in-process receiver that reads
// and discards the body: the sink's own cost (plus net/http's on both ends).
func BenchmarkRemoteWriteDiscard(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) //nolint:errcheck // a benchmark sink
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	benchRemote(b, srv.URL, 0)
}

// selfCPU is this process' user+system CPU time.
func selfCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU is the user+system CPU time of process pid from /proc (Linux),
// in clock ticks of 10 ms; 0 when pid is 0 or /proc is unavailable.
func procCPU(tb testing.TB, pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the parenthesised command name; utime and stime are
	// the 14th and 15th fields of the whole line.
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	if len(f) < 13 {
		tb.Fatalf("short /proc/%d/stat", pid)
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}
