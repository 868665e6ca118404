package collect

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// memTotalFromProc reads MemTotal straight from /proc/meminfo, the simple
// way, as an independent reference.
func memTotalFromProc(t *testing.T) float64 {
	t.Helper()
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		t.Skipf("no /proc/meminfo: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 3 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseFloat(fields[1], 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb * 1024
		}
	}
	t.Fatal("no MemTotal in /proc/meminfo")
	return 0
}

// TestLive runs the default Set on this host's /proc and /sys.
func TestLive(t *testing.T) {
	s, err := New(Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []sample
	s.Collect(func(m Metric) { got = append(got, copySample(m)) })
	memTotal := memTotalFromProc(t)
	check(t, got, "node_memory_MemTotal_bytes", "", Gauge, memTotal)
	for _, must := range []string{"node_cpu_seconds_total", "node_load1", "node_boot_time_seconds",
		"node_context_switches_total", "node_uname_info", "node_time_seconds", "node_filefd_allocated"} {
		found := false
		for _, s := range got {
			found = found || s.Name == must
		}
		if !found {
			t.Errorf("no %s from the live system", must)
		}
	}
	for _, s := range got {
		if s.Type == Counter && s.Value < 0 {
			t.Errorf("negative counter %v", s)
		}
		if !strings.HasPrefix(s.Name, "node_") && !strings.HasPrefix(s.Name, "process_") {
			t.Errorf("unexpected name %s", s.Name)
		}
	}
	for _, st := range s.Stats() {
		if st.Failures != 0 {
			t.Errorf("collector %s failed on the live system", st.Name)
		}
	}
	if boot := findValue(got, "node_boot_time_seconds"); boot <= 0 || boot > findValue(got, "node_time_seconds") {
		t.Errorf("boot time %v is not before now", boot)
	}
}

func findValue(got []sample, name string) float64 {
	for _, s := range got {
		if s.Name == name {
			return s.Value
		}
	}
	return -1
}

// BenchmarkCollect measures one collection of the default Set on the live
// system; samples/op is the number of samples per collection.
func BenchmarkCollect(b *testing.B) {
	s, err := New(Config{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	emit := func(Metric) { n++ }
	s.Collect(emit) // warm caches and buffers
	n = 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s.Collect(emit)
	}
	b.ReportMetric(float64(n)/float64(b.N), "samples/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/sample")
}
