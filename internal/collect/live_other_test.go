//go:build !linux

package collect

import (
	"runtime"
	"testing"
)

// On the system itself (darwin, freebsd, windows CI), the core families
// come out with their exporter's names.
func TestLiveCoreFamilies(t *testing.T) {
	s, err := New(Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	s.Collect(func(m Metric) { seen[m.Name] = true })
	want := []string{"node_cpu_seconds_total", "node_load1", "node_filesystem_size_bytes", "node_network_receive_bytes_total"}
	if runtime.GOOS == "windows" {
		want = []string{"windows_cpu_time_total", "windows_memory_physical_total_bytes", "windows_logical_disk_size_bytes", "windows_net_bytes_received_total"}
	}
	for _, n := range want {
		if !seen[n] {
			t.Errorf("no %s", n)
		}
	}
}
