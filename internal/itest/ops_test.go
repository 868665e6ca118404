//go:build e2e

package itest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startAgent runs hawk-agent with a 1 s interval and returns its process.
func startAgent(t testing.TB, spool string, servers ...string) *exec.Cmd {
	t.Helper()
	return runAgent(t, spool+".log", "-server", strings.Join(servers, ","),
		"-interval", "1s", "-spool", spool, "-hostname", "itest-host")
}

// runAgent runs hawk-agent with args, appending its output to logPath, and
// stops it (SIGTERM, then SIGKILL after 10 s) when the test ends.
func runAgent(t testing.TB, logPath string, args ...string) *exec.Cmd {
	t.Helper()
	cmd, _ := startProcess(t, logPath, filepath.Join(binDir(t), "hawk-agent"), args...)
	return cmd
}

// startProcess runs the program path with args, appending its output to
// logPath, and stops it (SIGTERM, then SIGKILL after 10 s) when the test
// ends. done is closed once it has exited.
func startProcess(t testing.TB, logPath, path string, args ...string) (cmd *exec.Cmd, done <-chan struct{}) {
	t.Helper()
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		logf.Close()
	})
	return cmd, exited
}

// timestamps returns the raw sample timestamps (ms) of one series over the
// last window, read back through the query API.
func (p *proc) timestamps(t testing.TB, series string, window time.Duration) []int64 {
	t.Helper()
	resp := p.queryRaw(t, fmt.Sprintf("%s[%ds]", series, int(window.Seconds())))
	sort.Slice(resp, func(i, j int) bool { return resp[i] < resp[j] })
	return resp
}

const memSeries = `node_memory_MemTotal_bytes{instance="itest-host"}`

// waitSamples waits until the series has n samples in the window.
func (p *proc) waitSamples(t testing.TB, n int, window time.Duration) []int64 {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ts := p.timestamps(t, memSeries, window)
		if len(ts) >= n {
			return ts
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d samples of %s after 60 s, want %d", len(ts), memSeries, n)
		}
		time.Sleep(200 * time.Millisecond) // polling the query API: there is no push signal for "stored"
	}
}

// checkContinuous fails on a duplicate or a gap larger than maxGap.
func checkContinuous(t testing.TB, ts []int64, maxGap time.Duration) (largest time.Duration) {
	t.Helper()
	for i := 1; i < len(ts); i++ {
		d := time.Duration(ts[i]-ts[i-1]) * time.Millisecond
		if d <= 0 {
			t.Fatalf("duplicate sample at %d", ts[i])
		}
		if d > maxGap {
			t.Fatalf("gap of %v before sample %d (%d of %d)", d, ts[i], i, len(ts))
		}
		largest = max(largest, d)
	}
	return largest
}

// TestUpgradesUnderAgent: five SIGHUP upgrades in a row while a real agent
// sends every second: no sample is lost or stored twice.
func TestUpgradesUnderAgent(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "hawk.pid")
	srv := startServer(t, filepath.Join(dir, "data"), "127.0.0.1:0", "-pid-file", pidFile, "-heartbeat-interval", "1s")
	startAgent(t, filepath.Join(dir, "spool"), srv.agent)
	srv.waitSamples(t, 3, time.Hour)
	pid := readPID(t, pidFile)
	const upgrades = 5
	for i := range upgrades {
		syscall.Kill(pid, syscall.SIGHUP)
		next := waitPIDChange(t, pidFile, pid)
		t.Cleanup(func() { syscall.Kill(next, syscall.SIGTERM); waitExit(t, next) }) // started by our server, ended by us
		waitExit(t, pid)
		pid = next
		srv.waitSamples(t, 3+2*(i+1), time.Hour) // ingest goes on through the new process
	}
	ts := srv.waitSamples(t, 3+2*upgrades+2, time.Hour)
	largest := checkContinuous(t, ts, time.Second)
	t.Logf("%d upgrades, %d samples, largest spacing %v", upgrades, len(ts), largest)
}

// TestServerKill9AndOutage: the server is killed with SIGKILL, stays away
// for HAWK_OUTAGE (default 10 s; the figure is 5 minutes), and
// comes back on the same address and data: no gap in the agent's series.
func TestServerKill9AndOutage(t *testing.T) {
	outage := envDuration(t, "HAWK_OUTAGE", 10*time.Second)
	dir := t.TempDir()
	srv := startServer(t, filepath.Join(dir, "data"), "127.0.0.1:0")
	startAgent(t, filepath.Join(dir, "spool"), srv.agent)
	srv.waitSamples(t, 3, time.Hour)
	srv.kill(syscall.SIGKILL)
	time.Sleep(outage) // the outage itself
	srv2 := startServer(t, filepath.Join(dir, "data"), srv.agent)
	want := 3 + int(outage/time.Second)
	ts := srv2.waitSamples(t, want, time.Hour)
	largest := checkContinuous(t, ts, time.Second)
	t.Logf("outage %v: %d samples, largest spacing %v", outage, len(ts), largest)
}

// TestAgentKill9: the agent is killed with SIGKILL and restarted on its
// spool: no duplicate, and no gap but the collections due while it was down.
func TestAgentKill9(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, filepath.Join(dir, "data"), "127.0.0.1:0")
	spool := filepath.Join(dir, "spool")
	a := startAgent(t, spool, srv.agent)
	srv.waitSamples(t, 4, time.Hour)
	a.Process.Kill()
	killed := time.Now()
	time.Sleep(3 * time.Second) // the agent's downtime
	startAgent(t, spool, srv.agent)
	down := time.Since(killed)
	before := len(srv.timestamps(t, memSeries, time.Hour))
	ts := srv.waitSamples(t, before+3, time.Hour)
	largest := checkContinuous(t, ts, down+time.Second)
	t.Logf("agent down %v: %d samples, largest spacing %v", down.Round(time.Millisecond), len(ts), largest)
}

func readPID(t testing.TB, path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func waitPIDChange(t testing.TB, path string, old int) int {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid != old {
				return pid
			}
		}
		time.Sleep(50 * time.Millisecond) // the PID file is the only signal an upgrade gives outside
	}
	t.Fatalf("PID file still names %d after 60 s", old)
	return 0
}

// waitExit waits until pid no longer exists (it is not our child).
func waitExit(t testing.TB, pid int) {
	deadline := time.Now().Add(60 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still running after 60 s", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
