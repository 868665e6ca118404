//go:build e2e

package itest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestAgentValuesAgree runs hawk-agent against hawk-server for
// HAWK_AGENT_DURATION (default 30 s; the figure is a minute) and
// checks what was stored against the kernel: every core family is
// queryable, MemTotal and the root filesystem's size are exact, counters
// never go down.
func TestAgentValuesAgree(t *testing.T) {
	dur := envDuration(t, "HAWK_AGENT_DURATION", 30*time.Second)
	dir := t.TempDir()
	srv := startServer(t, filepath.Join(dir, "data"), "127.0.0.1:0")
	startAgent(t, filepath.Join(dir, "spool"), srv.agent)
	time.Sleep(dur) // the run's length
	now := time.Now()
	sel := `{instance="itest-host",job="node"}`

	families := []string{"node_cpu_seconds_total", "node_load1", "node_load5", "node_load15",
		"node_memory_MemTotal_bytes", "node_memory_MemAvailable_bytes", "node_memory_SwapTotal_bytes",
		"node_filesystem_size_bytes", "node_filesystem_avail_bytes", "node_filesystem_files",
		"node_disk_read_bytes_total", "node_disk_written_bytes_total", "node_disk_io_time_seconds_total",
		"node_network_receive_bytes_total", "node_network_transmit_bytes_total",
		"node_procs_running", "node_procs_blocked", "node_context_switches_total", "node_intr_total",
		"node_forks_total", "node_boot_time_seconds", "node_time_seconds", "node_uname_info",
		"node_netstat_Tcp_CurrEstab", "node_filefd_allocated", "node_vmstat_pgfault", "node_sockstat_TCP_inuse",
		"node_entropy_available_bits", "node_timex_offset_seconds"}
	if _, err := os.Stat("/proc/pressure/cpu"); err == nil {
		families = append(families, "node_pressure_cpu_waiting_seconds_total")
	}
	for _, f := range families {
		if got := srv.query(t, f+sel, now); len(got) == 0 {
			t.Errorf("family %s: no data", f)
		}
	}

	memTotal := readMeminfo(t, "MemTotal") * 1024
	if got := srv.query(t, "node_memory_MemTotal_bytes"+sel, now); !oneValue(got, memTotal) {
		t.Errorf("MemTotal %v, /proc/meminfo says %v", got, memTotal)
	}
	var st unix.Statfs_t
	if err := unix.Statfs("/", &st); err != nil {
		t.Fatal(err)
	}
	size := float64(st.Blocks) * float64(st.Bsize)
	q := `node_filesystem_size_bytes{instance="itest-host",mountpoint="/"}`
	if got := srv.query(t, q, now); !oneValue(got, size) {
		t.Errorf("root filesystem size %v, statfs says %v", got, size)
	}
	// Counters never decrease: resets() counts decreases.
	window := fmt.Sprintf("[%ds]", int(dur.Seconds())+10)
	for _, c := range []string{"node_cpu_seconds_total", "node_context_switches_total", "node_intr_total",
		"node_network_receive_bytes_total", "node_disk_written_bytes_total", "node_forks_total"} {
		for series, v := range srv.query(t, "resets("+c+sel+window+")", now) {
			if v != 0 {
				t.Errorf("%s %s went down %v times", c, series, v)
			}
		}
		if n := srv.query(t, "count_over_time("+c+sel+window+")", now); len(n) == 0 {
			t.Errorf("%s: no samples in the window", c)
		}
	}
}

func oneValue(m map[string]float64, want float64) bool {
	if len(m) != 1 {
		return false
	}
	for _, v := range m {
		return v == want
	}
	return false
}

func readMeminfo(t testing.TB, field string) float64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if ok && name == field {
			v, err := strconv.ParseFloat(strings.Fields(rest)[0], 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatalf("no %s in /proc/meminfo", field)
	return 0
}
